"""The mean teacher of self-training: an exponential moving average of the
student's parameters."""
from typing import Sequence

import torch
import torch.nn as nn
from torch import Tensor

from .network_copy import NetworkCopy

EMA_UPDATES = ('before', 'after')


def is_dropout(module: nn.Module) -> bool:
    """Whether ``module`` is a dropout or stochastic-depth (DropPath) layer:
    the layers a teacher runs in eval mode while the rest stays in train
    mode."""
    return (isinstance(module, nn.modules.dropout._DropoutNd)
            or type(module).__name__ == 'DropPath')


def ema_alpha(index: int, alpha: float) -> float:
    """``min(1 - 1 / (index + 1), alpha)``: the true average of the first
    updates, then the EMA rate (METHODS.md sec. 7.1 step 1)."""
    return min(1.0 - 1.0 / (index + 1), alpha)


class MeanTeacher(NetworkCopy):
    """An EMA copy of a segmentor's backbone (neck) and decode head.

    Iteration ``t`` of self-training (0-based; :attr:`t` counts the
    updates made, so it is the next iteration's index) starts with
    :meth:`update` (METHODS.md sec. 7.1 step 1):

    - ``t = 0``: every teacher parameter is set to the student's;
    - ``t >= 1``: ``θ_T ← a·θ_T + (1 − a)·θ_S`` with
      ``a = min(1 − 1/(k + 1), alpha)``, ``k = t`` (``ema_update='before'``,
      DAFormer: the update at the start of iteration t with index t) or
      ``k = t − 1`` (``'after'``, the original DACS: its update after the
      optimiser step of iteration k, which is what iteration k + 1 sees;
      the final post-step update, used by no iteration, is left out).

    Parameters only, paired by registration order; buffers (BN running
    statistics) are neither averaged nor copied: the teacher's stay its
    own, as released. ``t`` is saved in the state dict (``_extra_state``,
    an int64 scalar on the CPU, read on the host: no device sync), so a
    resumed run continues the average instead of copying the student again
    (the release restarts its counter, METHODS.md sec. 7.9 #5); a state
    dict without it (a source-only ``load_from``) leaves ``t = 0``.

    :meth:`forward` predicts with every dropout and DropPath layer in eval
    mode and everything else in train mode, so BatchNorm normalises with the
    batch's own statistics (and updates its unused running buffers), as
    released (sec. 7.1 step 5). The runner's ``train()`` / ``eval()`` do not
    reach the teacher when it is held outside the module tree
    (:class:`HoldsNetworks`); the mode is set before every forward.

    Args:
        segmentor (nn.Module): The student (an ``EncoderDecoder``).
        alpha (float): EMA rate, in [0, 1). Defaults to 0.999 (DAFormer;
            0.99 in the original DACS).
        ema_update (str): ``'before'`` or ``'after'`` (see above).
            Defaults to 'before'.
    """

    def __init__(self,
                 segmentor: nn.Module,
                 alpha: float = 0.999,
                 ema_update: str = 'before') -> None:
        self.check_options(alpha, ema_update)
        super().__init__(segmentor.backbone, segmentor.decode_head,
                         getattr(segmentor, 'neck', None))
        self.alpha = alpha
        self.ema_update = ema_update
        self.t = 0
        self.train()

    @staticmethod
    def check_options(alpha: float, ema_update: str) -> None:
        """Raise a ValueError naming a bad ``alpha`` or ``ema_update``."""
        if not 0 <= alpha < 1:
            raise ValueError(f'MeanTeacher: alpha must be in [0, 1), got '
                             f'{alpha}')
        if ema_update not in EMA_UPDATES:
            raise ValueError(f'MeanTeacher: ema_update must be one of '
                             f'{list(EMA_UPDATES)}, got {ema_update!r}')

    # --- the counter, in the state dict ---

    def get_extra_state(self) -> Tensor:
        """The update counter, for the state dict."""
        return torch.tensor(self.t, dtype=torch.int64)

    def set_extra_state(self, state) -> None:
        """Restore the update counter from a state dict."""
        self.t = int(state)

    # --- the update ---

    def current_alpha(self) -> float:
        """The ``a`` of the next :meth:`update` (0 for the t = 0 copy)."""
        if self.t == 0:
            return 0.0
        index = self.t if self.ema_update == 'before' else self.t - 1
        return ema_alpha(index, self.alpha)

    @torch.no_grad()
    def update(self, student: Sequence[nn.Module]) -> None:
        """Move the teacher towards the student and count the update.

        Args:
            student (Sequence[nn.Module]): The student's modules that this
                copy mirrors (:meth:`mirrored`).

        Raises:
            ValueError: If the student's parameters do not pair up with
                the teacher's by shape.
        """
        teacher = list(self.parameters())
        source = [p for module in student for p in module.parameters()]
        if len(teacher) != len(source) or any(
                t.shape != s.shape for t, s in zip(teacher, source)):
            raise ValueError(
                f'MeanTeacher: the student has {len(source)} parameters, '
                f'the teacher {len(teacher)}, or their shapes differ; the '
                'teacher must be a copy of the student')
        source = [s.detach().to(t.dtype) for t, s in zip(teacher, source)]
        a = self.current_alpha()
        if a == 0.0:  # t = 0, or index 0 of the 'after' form
            torch._foreach_copy_(teacher, source)
        else:
            torch._foreach_mul_(teacher, a)
            torch._foreach_add_(teacher, source, alpha=1.0 - a)
        self.t += 1

    # --- prediction ---

    def train(self, mode: bool = True) -> 'MeanTeacher':
        """Train mode with dropout and DropPath in eval mode (``mode=False``
        gives plain eval mode)."""
        super().train(mode)
        for module in self.modules():
            if is_dropout(module):
                module.train(False)
        return self

    @torch.no_grad()
    def forward(self, inputs: Tensor) -> Tensor:
        """Teacher logits at head resolution, without gradient.

        Args:
            inputs (Tensor): Normalised images, (B, 3, H, W).

        Returns:
            Tensor: Logits (B, C, h, w).
        """
        self.train()
        return self.decode_head(self.features(inputs))
