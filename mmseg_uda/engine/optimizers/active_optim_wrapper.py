"""The optimiser wrapper of the running train step, for models that
back-propagate part of their loss before ``forward`` returns.

MMEngine's ``train_step`` (also ``MMDistributedDataParallel.train_step``)
runs the forward pass inside ``optim_wrapper.optim_context(model)`` and the
backward pass in ``optim_wrapper.update_params(loss)``. A segmentor that
releases the source graph before building the target's (one backward per
domain, as the released UDA loops do) must back-propagate the source losses
with the same loss scaling as that final backward. Importing this module
makes every :class:`OptimWrapper`'s ``optim_context`` publish the wrapper
for its duration; :func:`backward_now` uses it.
"""
import contextlib
from contextvars import ContextVar
from typing import Iterator, Optional

import torch
from mmengine.optim import OptimWrapper
from torch import nn

_ACTIVE: ContextVar = ContextVar('mmseg_uda_active_optim_wrapper',
                                 default=None)
_original_optim_context = OptimWrapper.optim_context


@contextlib.contextmanager
def _publishing_optim_context(self: OptimWrapper,
                              model: nn.Module) -> Iterator[None]:
    token = _ACTIVE.set(self)
    try:
        with _original_optim_context(self, model):
            yield
    finally:
        _ACTIVE.reset(token)


# AmpOptimWrapper.optim_context calls super().optim_context, so it is
# covered too; MultiOptimWrapper enters its primary wrapper's context.
OptimWrapper.optim_context = _publishing_optim_context


def active_optim_wrapper() -> Optional[OptimWrapper]:
    """The wrapper whose ``optim_context`` is open, or None outside a train
    step (e.g. a loss computed for evaluation or in a test)."""
    return _ACTIVE.get()


def backward_now(loss: torch.Tensor, wrapper: OptimWrapper) -> None:
    """Back-propagate ``loss`` exactly as ``wrapper.update_params`` would,
    without stepping.

    The gradient-accumulation factor and, under AMP, the wrapper's loss
    scale are applied, so gradients accumulated here and in the wrapper's
    own backward add up to the gradient of the summed loss. Under DDP this
    runs inside the forward pass, where the reducer does not expect
    gradients yet: they accumulate locally and are all-reduced with the
    final backward's (as with ``no_sync``).

    Args:
        loss (Tensor): A scalar loss.
        wrapper (OptimWrapper): The active wrapper.
    """
    loss = wrapper.scale_loss(loss)
    scaler = getattr(wrapper, 'loss_scaler', None)
    if scaler is not None:
        loss = scaler.scale(loss)
    # Autocast covers the forward pass only.
    with torch.autocast(device_type=loss.device.type, enabled=False):
        loss.backward()
