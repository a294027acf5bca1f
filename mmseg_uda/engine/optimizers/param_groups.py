"""Merging optimiser parameter groups that share their hyper-parameters."""
from typing import Any, Dict, List, Tuple

from torch.optim import Optimizer


def merge_param_groups(optimizer: Optimizer) -> Optimizer:
    """Merge the groups of ``optimizer`` whose settings are all equal.

    MMEngine's ``DefaultOptimWrapperConstructor`` makes one group per
    parameter as soon as a ``paramwise_cfg`` is given (e.g. the 10x lr of
    the classifier), which costs a Python loop per tensor every step and
    defeats the foreach / fused kernels of the optimisers. Every update of
    ``torch.optim`` is element-wise per parameter, so grouping parameters
    with identical settings changes no value; parameters keep their order
    (groups in order of first appearance).

    Args:
        optimizer (Optimizer): Modified in place; its state must be empty
            (call right after construction).

    Returns:
        Optimizer: The same optimiser.
    """
    if optimizer.state:
        raise ValueError('merge_param_groups: the optimiser already has '
                         'state; merge before the first step')
    merged: Dict[Tuple, Dict[str, Any]] = {}
    for group in optimizer.param_groups:
        key = tuple(
            sorted((k, _hashable(v)) for k, v in group.items()
                   if k != 'params'))
        if key not in merged:
            merged[key] = dict(group, params=[])
        merged[key]['params'].extend(group['params'])
    groups: List[Dict[str, Any]] = list(merged.values())
    optimizer.param_groups[:] = groups
    return optimizer


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value
