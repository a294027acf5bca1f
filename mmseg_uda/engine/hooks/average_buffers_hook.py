"""Make the ranks' model buffers (BN running statistics) agree before every
validation and every checkpoint save."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dist import all_reduce, broadcast, get_world_size
from mmengine.hooks import Hook
from mmseg.registry import HOOKS
from torch import Tensor
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from ...models.uda.held_networks import held_buffers
from .checkpoint_schedule import checkpoint_due, unwrap_model


def average_buffers(buffers: Sequence[Tensor]) -> None:
    """Average floating-point buffers over the ranks; copy the others from
    rank 0.

    Works in place, with a broadcast and (floating point) an all-reduce per
    (device, dtype) group. Buffers equal on every rank are left exactly
    unchanged.

    Args:
        buffers (Sequence[Tensor]): The model's buffers, in the same order
            on every rank.
    """
    world_size = get_world_size()
    if world_size == 1:
        return
    groups: Dict[Tuple, List[Tensor]] = defaultdict(list)
    for buf in buffers:
        groups[(buf.device, buf.dtype)].append(buf)
    for (_, dtype), group in groups.items():
        flat = _flatten_dense_tensors([b.detach() for b in group])
        reference = flat.clone()
        broadcast(reference, src=0)
        if dtype.is_floating_point:
            # rank 0's value plus the mean difference: a buffer that is
            # equal on every rank stays exactly what it is (a plain
            # sum / world_size can be off by a rounding step for 3 ranks)
            flat.sub_(reference)
            all_reduce(flat, op='sum')
            flat.div_(world_size).add_(reference)
        else:
            flat = reference
        for buf, synced in zip(group, _unflatten_dense_tensors(flat, group)):
            buf.copy_(synced)


@HOOKS.register_module()
class AverageBuffersHook(Hook):
    """Average the model's buffers across ranks before every validation and
    every checkpoint save.

    Under DDP the parameters stay identical (gradients are all-reduced) but
    buffers do not: BatchNorm layers in train mode (MaxSquare trains them
    with batch 1 per GPU) update ``running_mean``/``running_var`` from their
    own rank's batch, so without this the ranks validate and save different
    models (``broadcast_buffers`` is off, as in mmengine's default wrapper).

    Floating-point buffers are set to their mean over the ranks; integer
    buffers (``num_batches_tracked``, identical on every rank) are copied
    from rank 0. BN's running update is linear in the batch statistics, so
    the averaged ``running_mean`` is the running mean of the rank-averaged
    batch means whenever (and however often) the averaging happens; the
    averaged ``running_var`` is the running mean of the per-rank batch
    variances (it leaves out the spread of the per-rank means, which
    SyncBN's variance of the pooled batch would include). Training is not
    changed: buffers are only averaged

    - in ``after_train_iter`` of an iteration in which a ``CheckpointHook``
      will save (this hook's priority 'LOW' runs before the CheckpointHook's
      'VERY_LOW'),
    - in ``before_val_epoch`` (validation inside training, ``runner.val``),
    - in ``after_train_epoch`` (also once at the end of an iteration-based
      run, so the model a script gets back agrees across ranks).

    The buffers of networks that terms hold outside the module tree
    (:class:`HoldsNetworks`: DACS's mean teacher, whose BatchNorm layers
    update their running statistics from each rank's target batch; CAG's
    frozen model and FD's ImageNet backbone, always in eval mode and equal
    on every rank, which the average leaves exactly as they are) are
    averaged too, so the ranks agree on the whole state dict.

    Without a process group (one process) it does nothing.
    """

    priority = 'LOW'

    def _average(self, runner) -> None:
        if get_world_size() > 1:
            model = unwrap_model(runner.model)
            average_buffers(list(model.buffers()) + held_buffers(model))

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Average before a checkpoint of this iteration is written."""
        if checkpoint_due(runner):
            self._average(runner)

    def after_train_epoch(self, runner) -> None:
        """Average at the end of every epoch (and of the run)."""
        self._average(runner)

    def before_val_epoch(self, runner) -> None:
        """Average before the model is evaluated."""
        self._average(runner)
