"""Several optimisers driven by one backward pass."""
from typing import Dict, List, Optional

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPERS
from torch import nn


@OPTIM_WRAPPERS.register_module()
class MultiOptimWrapper(OptimWrapperDict):
    """An :class:`OptimWrapperDict` that MMEngine's default ``train_step``
    can drive.

    ``update_params(loss)`` does ONE backward pass and then steps every
    optimiser and zeroes every gradient. With a discriminator whose
    adversarial term was computed with frozen discriminator parameters and
    whose own term sees detached generator outputs, this equals the
    published alternating update (``../shared/spec/DESIGN.md``), and it
    keeps ``MMDistributedDataParallel.train_step`` (which never calls a
    model's own ``train_step``) correct.

    The first wrapper is the primary one: its ``optim_context`` (autocast,
    gradient-accumulation ``no_sync``) covers the forward pass and its loss
    scaler is shared by all AMP wrappers, so a float16 loss is scaled once
    and every optimiser unscales with the same factor.

    Args:
        **optim_wrappers (OptimWrapper): Named wrappers; all plain or all
            AMP.
    """

    def __init__(self, **optim_wrappers: OptimWrapper) -> None:
        super().__init__(**optim_wrappers)
        if not optim_wrappers:
            raise ValueError('MultiOptimWrapper needs at least one wrapper')
        wrappers = self._wrappers
        amp = [isinstance(w, AmpOptimWrapper) for w in wrappers]
        if any(amp) and not all(amp):
            raise ValueError('MultiOptimWrapper: mix of AMP and non-AMP '
                             f'wrappers {list(self.optim_wrappers)}')
        self._scaler = wrappers[0].loss_scaler if all(amp) else None
        for wrapper in wrappers[1:]:
            if self._scaler is not None:
                wrapper.loss_scaler = self._scaler

    @property
    def _wrappers(self) -> List[OptimWrapper]:
        return list(self.optim_wrappers.values())

    @property
    def _primary(self) -> OptimWrapper:
        return self._wrappers[0]

    def optim_context(self, model: nn.Module):
        """The primary wrapper's context (autocast under AMP)."""
        return self._primary.optim_context(model)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Backward once (scaled by the shared loss scaler under AMP)."""
        self._primary.backward(loss, **kwargs)
        for wrapper in self._wrappers[1:]:
            wrapper._inner_count += 1

    def step(self, **kwargs) -> None:
        """Step every optimiser (unscaling with the shared scaler)."""
        if self._scaler is None:
            for wrapper in self._wrappers:
                wrapper.step(**kwargs)
            return
        for wrapper in self._wrappers:
            self._scaler.unscale_(wrapper.optimizer)
            if wrapper.clip_grad_kwargs:  # mmengine has no clip_func else
                wrapper._clip_grad()
            self._scaler.step(wrapper.optimizer, **kwargs)
        self._scaler.update(self._primary._scale_update_param)

    def zero_grad(self, **kwargs) -> None:
        """Zero the gradients of every optimiser."""
        for wrapper in self._wrappers:
            wrapper.zero_grad(**kwargs)

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """One backward pass, then step and zero every optimiser.

        Args:
            loss (Tensor): The summed loss of all terms.
            step_kwargs (dict, optional): Passed to each ``step``.
            zero_kwargs (dict, optional): Passed to each ``zero_grad``.
        """
        loss = self._primary.scale_loss(loss)
        self.backward(loss)
        if self._primary.should_update():
            self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))
