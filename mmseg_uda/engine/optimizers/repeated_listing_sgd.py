"""SGD that applies one PyTorch-1.0 update per listing of a tensor."""
from typing import Callable, Iterable, List, Optional

import torch
from mmseg.registry import OPTIMIZERS
from torch.optim import Optimizer


@OPTIMIZERS.register_module()
class RepeatedListingSGD(Optimizer):
    """SGD with momentum in which a tensor may be listed several times.

    The released MaxSquare optimiser lists most backbone tensors several
    times in one parameter group (its parameter-group builder yields the
    parameters of every nested submodule), and PyTorch 1.0's SGD applied
    one full update per listing. A group's ``listings`` key (default 1)
    says how many times each of its tensors is listed; one :meth:`step`
    repeats, for each listing in turn, exactly PyTorch 1.0's arithmetic:

    1. ``g += weight_decay * p`` **in place** on the gradient, so the decay
       terms of earlier listings stay in it;
    2. the tensor's single momentum buffer ``b = g.clone()`` at its very
       first listing, else ``b = momentum * b + g``;
    3. ``p -= lr * b``.

    At the first step a tensor listed 3 times (no weight decay) moves by
    ``(1 + 1.9 + 2.71) * lr * g``. Today's ``torch.optim.SGD`` given a
    duplicated list behaves differently (its first step gives k plain
    updates), hence this class. Tensors without a gradient are skipped, as
    in PyTorch 1.0. No dampening or Nesterov: the release used neither.

    Args:
        params (Iterable): Tensors or group dicts; a group may carry
            ``listings`` (int >= 1).
        lr (float): Learning rate.
        momentum (float): Momentum factor. Defaults to 0.
        weight_decay (float): L2 penalty added to the gradient.
            Defaults to 0.
        foreach (bool, optional): Update a group's tensors with torch's
            multi-tensor (``_foreach``) kernels, a few launches per listing
            instead of three per tensor; the arithmetic is the same
            (identical on the CPU, tested). None (default): when every
            tensor of the group is on a CUDA device, as ``torch.optim.SGD``
            decides.
    """

    def __init__(self,
                 params: Iterable,
                 lr: float,
                 momentum: float = 0.0,
                 weight_decay: float = 0.0,
                 foreach: Optional[bool] = None) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(
                f'RepeatedListingSGD: lr, momentum and weight_decay must be '
                f'>= 0, got {lr}, {momentum}, {weight_decay}')
        super().__init__(
            params,
            dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                 listings=1, foreach=foreach))
        for group in self.param_groups:
            listings = group['listings']
            if not isinstance(listings, int) or listings < 1:
                raise ValueError(f'RepeatedListingSGD: a group\'s listings '
                                 f'must be an int >= 1, got {listings!r}')

    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None):
        """One update per listing of every tensor that has a gradient.

        Args:
            closure (Callable, optional): Re-evaluates the model and
                returns the loss.

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group['params'] if p.grad is not None]
            foreach = group.get('foreach')  # absent in older checkpoints
            if foreach is None:
                foreach = bool(params) and all(p.is_cuda for p in params)
            update = self._foreach_update if foreach else self._update
            for _ in range(group['listings']):
                update(params, group)
        return loss

    def _update(self, params: List[torch.Tensor], group: dict) -> None:
        """One listing's update, tensor by tensor."""
        lr, momentum = group['lr'], group['momentum']
        weight_decay = group['weight_decay']
        for p in params:
            grad = p.grad
            if weight_decay:
                grad.add_(p, alpha=weight_decay)
            update = grad
            if momentum:
                state = self.state[p]
                buf = state.get('momentum_buffer')
                if buf is None:
                    buf = state['momentum_buffer'] = grad.clone()
                else:
                    buf.mul_(momentum).add_(grad)
                update = buf
            p.add_(update, alpha=-lr)

    def _foreach_update(self, params: List[torch.Tensor],
                        group: dict) -> None:
        """The same listing's update with multi-tensor kernels."""
        if not params:
            return
        lr, momentum = group['lr'], group['momentum']
        weight_decay = group['weight_decay']
        grads = [p.grad for p in params]
        if weight_decay:
            torch._foreach_add_(grads, params, alpha=weight_decay)
        updates = grads
        if momentum:
            states = [self.state[p] for p in params]
            old = [i for i, s in enumerate(states) if 'momentum_buffer' in s]
            if old:
                bufs = [states[i]['momentum_buffer'] for i in old]
                torch._foreach_mul_(bufs, momentum)
                torch._foreach_add_(bufs, [grads[i] for i in old])
            for state, grad in zip(states, grads):
                if 'momentum_buffer' not in state:  # first listing ever
                    state['momentum_buffer'] = grad.clone()
            updates = [s['momentum_buffer'] for s in states]
        torch._foreach_add_(params, updates, alpha=-lr)
