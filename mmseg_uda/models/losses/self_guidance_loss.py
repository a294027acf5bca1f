import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .image_wise_weights import check_seg_logits


@MODELS.register_module()
class SelfGuidanceLoss(nn.Module):
    """Multi-level self-produced guidance for the low-level head.

    Sec. 3.4 of the MaxSquare paper (Eq. 15-16): the ensemble of the main
    (final) and low-level predictions provides pseudo-labels for confident
    pixels, and only the low-level head is trained on them::

        p_f = softmax(main), p_l = softmax(low), p_e = (p_f + p_l) / 2
        label = argmax p_e   where max p_f > threshold or max p_l > threshold
              = ignore_index elsewhere
        loss = CE(low, label)          # mean over non-ignored pixels

    The label is computed without gradient, so the main logits receive no
    gradient from this term. When no pixel passes the threshold the loss is
    a zero that is still connected to ``low_logits``, so backward and DDP's
    gradient bookkeeping behave as on any other iteration.

    Note:
        The confidence test follows the authors' implementation: the
        *maximum* of ``p_f`` or of ``p_l`` must exceed the threshold. The
        paper's Eq. 15 tests ``p_f`` and ``p_l`` at the ensemble's class
        ``c*``; the two differ only in rare cases where the ensemble argmax
        disagrees with the confident prediction (possible with C > 2).

    Args:
        loss_weight (float): Weight of the loss. The paper uses
            ``0.1 * lambda_T``. Defaults to 1.0.
        threshold (float): Confidence threshold delta in [0, 1].
            Defaults to 0.95.
        ignore_index (int): Label value of unconfident pixels; must not be a
            class index. Defaults to 255.
        loss_name (str): Name of the loss item; it must start with ``loss_``
            to be included in the backward graph.
            Defaults to 'loss_self_guidance'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 threshold: float = 0.95,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_self_guidance') -> None:
        super().__init__()
        if isinstance(threshold, bool) or not isinstance(
                threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise ValueError(f'{type(self).__name__}: threshold must be a '
                             f'number in [0, 1], got {threshold!r}')
        self.loss_weight = loss_weight
        self.threshold = threshold
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    def extra_repr(self) -> str:
        """Extra repr."""
        return (f'loss_weight={self.loss_weight}, '
                f'threshold={self.threshold}, '
                f'ignore_index={self.ignore_index}')

    def _check_inputs(self, low_logits: Tensor, main_logits: Tensor) -> None:
        """Raise a clear error on logits this loss cannot compare."""
        name = type(self).__name__
        check_seg_logits(low_logits, name)
        check_seg_logits(main_logits, name)
        if low_logits.shape != main_logits.shape:
            raise ValueError(f'{name}: low_logits {tuple(low_logits.shape)} '
                             f'and main_logits {tuple(main_logits.shape)} '
                             'must have the same shape (resize them first)')
        if 0 <= self.ignore_index < low_logits.shape[1]:
            raise ValueError(f'{name}: ignore_index={self.ignore_index} is a '
                             f'class index (C={low_logits.shape[1]})')

    @torch.no_grad()
    def pseudo_label(self, low_logits: Tensor, main_logits: Tensor) -> Tensor:
        """Self-produced guidance (Eq. 15).

        Args:
            low_logits (Tensor): Low-level logits, shape (B, C, H, W).
            main_logits (Tensor): Main (final) logits, shape (B, C, H, W).

        Returns:
            Tensor: Labels of shape (B, H, W), ``ignore_index`` where
            neither prediction is confident.
        """
        probs_main = F.softmax(main_logits, dim=1)
        probs_low = F.softmax(low_logits, dim=1)
        label = ((probs_main + probs_low) / 2).argmax(dim=1)
        confident = (probs_main.amax(dim=1) > self.threshold) | (
            probs_low.amax(dim=1) > self.threshold)
        return label.masked_fill(~confident, self.ignore_index)

    def forward(self, low_logits: Tensor, main_logits: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            low_logits (Tensor): Low-level logits at the loss resolution,
                shape (B, C, H, W). The only input that gets a gradient.
            main_logits (Tensor): Main (final) logits, same shape.

        Returns:
            Tensor: Scalar loss, already multiplied by ``loss_weight``.
        """
        self._check_inputs(low_logits, main_logits)
        label = self.pseudo_label(low_logits, main_logits)
        pixel_losses = F.cross_entropy(
            low_logits,
            label,
            ignore_index=self.ignore_index,
            reduction='none')
        # Dividing by max(count, 1) instead of using reduction='mean' avoids
        # 0/0 = NaN when every pixel is ignored (the sum is then a zero that
        # keeps the graph) and needs no host sync to test for that case.
        num_valid = (label != self.ignore_index).sum().clamp(min=1)
        loss = pixel_losses.sum() / num_valid
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of this loss item, used as its key in the losses dict.

        Returns:
            str: The name of this loss item.
        """
        return self._loss_name
