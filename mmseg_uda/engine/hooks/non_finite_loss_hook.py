"""Stop a diverging run at its first non-finite loss, before the optimiser
steps, or skip such steps; never save non-finite weights."""
import logging
from itertools import chain
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_gather_object, all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS
from torch import Tensor, nn

from ...models.uda.held_networks import named_held_modules
from .checkpoint_schedule import checkpoint_due, unwrap_model

ACTIONS = ('stop', 'skip')
# Non-finite names listed in a message; the rest are counted.
_MAX_LISTED = 8


class NonFiniteLossError(FloatingPointError):
    """Training met a non-finite loss or non-finite weights and stopped."""


def _any_on_any_rank(flags: List[Tensor]) -> bool:
    """Whether any flag is set on any rank (one host sync, one collective).

    Args:
        flags (list[Tensor]): 0-dim bool tensors, on one device.

    Returns:
        bool: The same answer on every rank.
    """
    found = torch.stack(flags).any().to(torch.int32)
    if get_world_size() > 1:
        all_reduce(found, op='max')
    return bool(found)


def _per_rank(local: Dict[str, float]) -> List[Dict[str, float]]:
    return all_gather_object(local) if get_world_size() > 1 else [local]


def _describe(per_rank: List[Dict[str, float]]) -> str:
    """``'a=nan, b=inf'``, prefixed by the rank when there are several."""
    parts = []
    for rank, values in enumerate(per_rank):
        if not values:
            continue
        items = [f'{k}={v}' for k, v in list(values.items())[:_MAX_LISTED]]
        if len(values) > _MAX_LISTED:
            items.append(f'and {len(values) - _MAX_LISTED} more')
        text = ', '.join(items)
        parts.append(text if len(per_rank) == 1 else f'rank {rank}: {text}')
    return '; '.join(parts)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Detect a non-finite loss before the optimiser uses it.

    A hook's ``after_train_iter`` runs after the optimiser has stepped, too
    late to keep the weights finite. This hook therefore wraps, for the
    duration of training, two methods of the run's objects (never a custom
    ``train_step``, which ``MMDistributedDataParallel`` would bypass):

    - the model's ``parse_losses``, called by mmengine's default
      ``train_step`` (also under DDP) after the forward pass: it checks
      every loss term (the keys containing ``'loss'``, which are the ones
      summed into the total) and the total;
    - the optimiser wrapper's ``update_params`` (``OptimWrapper``,
      ``AmpOptimWrapper``, mmseg_uda's ``MultiOptimWrapper``), which then
      backpropagates and steps only if the loss was finite.

    A segmentor that back-propagates its source losses during the forward
    pass (``backward_per_domain``) calls ``parse_losses`` for them first,
    so a non-finite source loss is caught before that backward; a step is
    counted once however often it is checked.

    Under DDP the check is all-reduced, so a non-finite loss on one rank
    stops or skips the step on every rank (no rank waits in a backward that
    the others never start); the message names each rank's terms.

    ``action='stop'`` (default) raises :class:`NonFiniteLossError` naming
    the iteration (1-based, as in the log) and the non-finite terms, before
    this step's backward pass: the weights stay those of the previous step
    and no checkpoint of this step is written, so the work dir's last
    checkpoint is the last one of finite weights. ``action='skip'`` leaves
    the step out: no optimiser step, gradients zeroed (under DDP after a
    zero backward pass that completes DDP's reduction), and the model's buffers
    (BN running statistics, updated by the forward pass) restored to their
    values before the step (they are copied before every step, the cost of
    this mode); the skipped step's non-finite values are dropped from the
    logged averages and a warning names them. After
    ``max_consecutive_skips`` skipped steps in a row (a run that has
    diverged for good) it stops as ``'stop'`` would.

    The networks that terms hold outside the module tree (DACS's mean
    teacher, :class:`HoldsNetworks`) are not restored: a skipped step
    still counts as an iteration for them, as for ``runner.iter`` and the
    lr schedule (the teacher's EMA update at its start used the student of
    the previous step and stays; its counter advances).

    A finite loss can still produce non-finite weights (an infinite
    gradient). With ``check_weights`` the parameters and floating-point
    buffers (also of the held networks) are checked in
    ``after_train_iter`` of every iteration in which a ``CheckpointHook``
    saves, before it does (priority 'BELOW_NORMAL';
    the CheckpointHook's is 'VERY_LOW'), and training stops rather than
    write them.

    The skip counters live in the message hub (``runtime_info``
    ``'non_finite_loss'``), so a checkpoint saves them and ``--resume``
    restores them (``load_from`` does not).

    Args:
        action (str): ``'stop'`` or ``'skip'``. Defaults to 'stop'.
        max_consecutive_skips (int): With ``'skip'``, the number of steps in
            a row that may be skipped. Defaults to 10.
        check_weights (bool): Refuse to save non-finite weights.
            Defaults to True.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self,
                 action: str = 'stop',
                 max_consecutive_skips: int = 10,
                 check_weights: bool = True) -> None:
        if action not in ACTIONS:
            raise ValueError(f'NonFiniteLossHook action must be one of '
                             f'{list(ACTIONS)}, got {action!r}')
        if not isinstance(max_consecutive_skips,
                          int) or max_consecutive_skips < 1:
            raise ValueError('NonFiniteLossHook max_consecutive_skips must '
                             f'be a positive int, got '
                             f'{max_consecutive_skips!r}')
        self.action = action
        self.max_consecutive_skips = max_consecutive_skips
        self.check_weights = check_weights
        self.skipped = 0
        self.consecutive = 0
        self._runner = None
        self._skip_pending = False
        self._buffers: Optional[List[Tensor]] = None
        self._patched: List[Tuple[object, str]] = []

    # ------------------------------------------------------------ wrapping
    def _wrap(self, owner: object, name: str,
              make: Callable[[Callable], Callable]) -> None:
        setattr(owner, name, make(getattr(owner, name)))
        self._patched.append((owner, name))

    def before_train(self, runner) -> None:
        """Wrap ``parse_losses`` and ``update_params`` for this run."""
        self._runner = runner
        self._skip_pending = False
        state = runner.message_hub.get_info('non_finite_loss')
        if state:  # resumed
            self.skipped = int(state['skipped'])
            self.consecutive = int(state['consecutive'])
        self._unwrap()
        self._wrap(unwrap_model(runner.model), 'parse_losses',
                   self._guard_parse_losses)
        self._wrap(runner.optim_wrapper, 'update_params',
                   self._guard_update_params)

    def after_train(self, runner) -> None:
        """Give the model and the optimiser wrapper their methods back."""
        self._unwrap()

    def _unwrap(self) -> None:
        for owner, name in self._patched:
            if name in vars(owner):
                delattr(owner, name)
        self._patched = []

    def _guard_parse_losses(self, parse_losses: Callable) -> Callable:

        def parse_losses_checked(losses: dict):
            loss, log_vars = parse_losses(losses)
            self._check_loss(loss, log_vars)
            return loss, log_vars

        return parse_losses_checked

    def _guard_update_params(self, update_params: Callable) -> Callable:

        def update_params_unless_skipped(loss: Tensor, *args, **kwargs):
            if not self._skip_pending:
                if self.consecutive:  # a finite step ends a series
                    self.consecutive = 0
                    self._save_counters()
                return update_params(loss, *args, **kwargs)
            self._skip_pending = False
            self._finish_skipped_step()
            return None

        return update_params_unless_skipped

    # ---------------------------------------------------------- the checks
    @property
    def _iteration(self) -> str:
        runner = self._runner
        return f'{runner.iter + 1} (of {runner.max_iters})'

    def _check_loss(self, loss: Tensor, log_vars: dict) -> None:
        """Stop, or mark the step as skipped, if any loss is non-finite."""
        terms = {
            key: value
            for key, value in log_vars.items()
            if 'loss' in key and isinstance(value, Tensor)
        }
        terms['loss'] = loss
        flags = [~torch.isfinite(v.detach()).all() for v in terms.values()]
        if not _any_on_any_rank(flags):
            return
        if self._skip_pending:  # already counted in this step
            self._drop_non_finite(log_vars)
            return
        local = {
            key: float(value.detach().float().mean())
            for (key, value), bad in zip(terms.items(), flags) if bool(bad)
        }
        if len(local) > 1:  # the total is non-finite because a term is
            local.pop('loss', None)
        detail = _describe(_per_rank(local))
        if self.action == 'skip':
            self.consecutive += 1
            if self.consecutive <= self.max_consecutive_skips:
                self._skip(log_vars, detail)
                return
            raise NonFiniteLossError(
                f'Non-finite loss at iteration {self._iteration}: {detail}. '
                f'That is {self.consecutive} non-finite steps in a row '
                f'(max_consecutive_skips={self.max_consecutive_skips}): the '
                f'run has diverged. Stopped before the update; no '
                f'checkpoint holds non-finite weights.')
        raise NonFiniteLossError(
            f'Non-finite loss at iteration {self._iteration}: {detail}. '
            f'Stopped before this step updated the weights, so no '
            f'checkpoint holds non-finite weights; the last one in '
            f'{self._runner.work_dir} is from an earlier iteration. Lower '
            f'the learning rate (optim_wrapper.optimizer.lr), or skip such '
            f"steps with NonFiniteLossHook(action='skip') in custom_hooks.")

    def _save_counters(self) -> None:
        self._runner.message_hub.update_info(
            'non_finite_loss',
            dict(skipped=self.skipped, consecutive=self.consecutive))

    @staticmethod
    def _drop_non_finite(log_vars: dict) -> None:
        for key in [k for k, v in log_vars.items()
                    if isinstance(v, Tensor) and not torch.isfinite(v).all()]:
            del log_vars[key]  # keep the logged window averages finite

    def _skip(self, log_vars: dict, detail: str) -> None:
        self._skip_pending = True
        self.skipped += 1
        self._save_counters()
        self._drop_non_finite(log_vars)
        print_log(
            f'Non-finite loss at iteration {self._iteration}: {detail}; '
            f'step skipped (no update, buffers restored; {self.consecutive} '
            f'in a row, {self.skipped} in this run).',
            logger='current',
            level=logging.WARNING)

    def _check_weights(self, runner) -> None:
        """Stop if a parameter or floating-point buffer is non-finite."""
        model = unwrap_model(runner.model)
        held = [
            chain(network.named_parameters(prefix),
                  network.named_buffers(prefix))
            for prefix, network in named_held_modules(model)
        ]
        named = [(name, t)
                 for name, t in chain(model.named_parameters(),
                                      model.named_buffers(), *held)
                 if t.is_floating_point()]
        if not named:
            return
        device = named[0][1].device
        flags = [(~torch.isfinite(t.detach()).all()).to(device)
                 for _, t in named]
        if not _any_on_any_rank(flags):
            return
        local = {name: 'non-finite'
                 for (name, _), bad in zip(named, flags) if bool(bad)}
        detail = _describe(_per_rank(local)).replace('=non-finite', '')
        raise NonFiniteLossError(
            f'Weights became non-finite in the update of iteration '
            f'{self._iteration} (its loss was finite; an infinite '
            f'gradient?): {detail}. Stopped before the checkpoint of this '
            f'iteration was written; the earlier checkpoints in '
            f'{runner.work_dir} hold finite weights.')

    # ---------------------------------------------------------------- hooks
    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """In skip mode, copy the buffers that the forward pass updates."""
        if self.action == 'skip':
            self._buffers = [
                b.detach().clone()
                for b in unwrap_model(runner.model).buffers()
            ]

    def _finish_skipped_step(self) -> None:
        """Leave no trace of the skipped step: gradients (a segmentor may
        have back-propagated its source losses during the forward pass) and
        buffers."""
        model: nn.Module = unwrap_model(self._runner.model)
        params = [p for p in model.parameters() if p.requires_grad]
        if get_world_size() > 1 and params:
            # DDP expects a backward pass after every training forward; a
            # zero one (exactly zero gradients, also through non-finite
            # weights) completes its gradient reduction so the next step
            # starts clean.
            (torch.stack([p.sum() for p in params]).sum() * 0.0).backward()
        self._runner.optim_wrapper.zero_grad()
        if self._buffers is not None:
            with torch.no_grad():
                for buf, saved in zip(model.buffers(), self._buffers):
                    buf.copy_(saved)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Refuse to let a CheckpointHook save non-finite weights."""
        self._buffers = None
        if self.check_weights and checkpoint_due(runner):
            self._check_weights(runner)
