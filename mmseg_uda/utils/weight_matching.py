"""Refuse checkpoints whose weights do not fit the model; summarise loads.

mmengine loads with ``strict=False`` and only logs a long warning for keys
that do not match, so a checkpoint of another architecture given as
``load_from`` (or to ``tools/test.py``) trains or evaluates from random
weights. Importing ``mmseg_uda`` wraps mmengine's ``load_state_dict`` (used
by ``load_from``, ``--resume``, ``tools/test.py``, ``load_checkpoint`` and
``init_cfg=dict(type='Pretrained')``) so that every load prints a one-line
summary and a load that provides fewer than :data:`MIN_MATCHED_FRACTION` of
the model's tensors is refused, naming the checkpoint. A load that leaves
tensors of the network at their initial values says so in a WARNING naming
them; inside :func:`require_complete_network` (evaluation, pseudo-labels)
it is refused.
"""
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from torch import Tensor, nn

from .checkpoint_safety import last_loaded_source

#: A load must provide at least this fraction of the model's state-dict
#: tensors (parameters and buffers, BN ``num_batches_tracked`` counters not
#: counted), by name and shape. Loading an ImageNet backbone into a
#: segmentor (heads missing) or a source-only model into a method with a
#: discriminator (discriminator missing) provides far more than half; a
#: checkpoint of another architecture provides (almost) nothing. Only the
#: segmentation network's tensors count here: the state of a method's
#: terms (``uda_terms.*``: discriminators, CAG's frozen copy of the
#: network, anchors, GMMs) is legitimately absent from the previous
#: stage's checkpoint.
MIN_MATCHED_FRACTION = 0.5
#: State-dict prefix of the methods' own modules (not counted above).
TERM_PREFIX = 'uda_terms.'
#: Network parts that no prediction reads (MMSeg's ``predict`` and the
#: pseudo-label tool use ``decode_head`` only), so evaluation does not
#: need them.
TRAINING_ONLY_PREFIXES = ('auxiliary_head.', )


class IncompatibleCheckpointError(RuntimeError):
    """Raised when a checkpoint provides too few of the model's weights."""


class IncompleteCheckpointError(IncompatibleCheckpointError):
    """Raised when a checkpoint used for evaluation or pseudo-labels lacks
    tensors of the network."""


#: What :func:`require_complete_network` is active for (None: training's
#: partial rule).
_COMPLETE_FOR: List[Optional[str]] = [None]


@contextlib.contextmanager
def require_complete_network(purpose: str) -> Iterator[None]:
    """Refuse, in this block, loads that leave a network tensor unloaded.

    Evaluating or predicting with a network part at its random initial
    weights (a head of another architecture, a truncated state dict)
    produces numbers that look like results. Inside this block every load
    must provide each tensor of the network by name and shape, except
    ``uda_terms.*`` (the methods' own state) and
    :data:`TRAINING_ONLY_PREFIXES`.

    Args:
        purpose (str): Named in the error, e.g. 'evaluation'.
    """
    previous = _COMPLETE_FOR[0]
    _COMPLETE_FOR[0] = purpose
    try:
        yield
    finally:
        _COMPLETE_FOR[0] = previous


@dataclass
class MatchSummary:
    """How a state dict fits a module.

    Attributes:
        total (int): The module's state-dict tensors (without BN counters).
        matched (list[str]): Keys present with the module's shape.
        missing (list[str]): The module's keys the state dict lacks.
        unexpected (list[str]): State-dict keys the module does not have.
        wrong_shape (list[str]): Keys present with another shape (these
            are not loaded, and also counted as missing).
    """
    total: int
    matched: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    wrong_shape: List[str] = field(default_factory=list)

    @property
    def network_missing(self) -> List[str]:
        """Missing (or mis-shaped) tensors of the network, ``uda_terms.*``
        not counted."""
        return [k for k in self.missing if not k.startswith(TERM_PREFIX)]

    @property
    def fraction(self) -> float:
        """Matched share of the network's tensors (``uda_terms.*`` not
        counted, unless the module has nothing else)."""
        network = [k for k in self.matched + self.missing
                   if not k.startswith(TERM_PREFIX)]
        if not network:
            return len(self.matched) / self.total if self.total else 1.0
        matched = [k for k in self.matched if not k.startswith(TERM_PREFIX)]
        return len(matched) / len(network)

    def line(self, source: str) -> str:
        """The one-line summary printed for every load."""
        text = (f'Loaded weights from {source}: {len(self.matched)} of '
                f'{self.total} model tensors matched, {len(self.missing)} '
                f'missing, {len(self.unexpected)} unexpected')
        if self.wrong_shape:
            text += (f' ({len(self.wrong_shape)} of the missing present with '
                     'another shape)')
        return text


def _missing_parts(missing: List[str], wrong_shape: List[str]) -> str:
    """``'N missing: ...; M present with another shape: ...'``."""
    misfit = [k for k in missing if k in wrong_shape]
    absent = [k for k in missing if k not in misfit]
    parts = [f'{len(absent)} missing: {describe_keys(absent)}'] if absent \
        else []
    if misfit:
        parts.append(f'{len(misfit)} present with another shape: '
                     f'{describe_keys(misfit)}')
    return '; '.join(parts)


def describe_keys(keys: List[str], limit: int = 12) -> str:
    """Keys grouped by (the first two parts of) their module, then the
    first keys.

    E.g. ``decode_head.aspp_convs.* (8), backbone.layer4.* (2):
    decode_head.aspp_convs.0.weight, ...``.
    """
    groups: Dict[str, int] = OrderedDict()
    for key in keys:
        group = '.'.join(key.split('.')[:-1][:2]) or key
        groups[group] = groups.get(group, 0) + 1
    shown = ', '.join(keys[:limit])
    if len(keys) > limit:
        shown += f' and {len(keys) - limit} more'
    return (', '.join(f'{g}.* ({n})' for g, n in groups.items()) + ': ' +
            shown)


def _counted(key: str) -> bool:
    return not key.endswith('num_batches_tracked')


def match_state_dict(module: nn.Module,
                     state_dict: Dict[str, Tensor]) -> MatchSummary:
    """Compare ``state_dict`` with ``module``'s own, by key and shape.

    Args:
        module (nn.Module): The receiving module (wrappers and TTA models
            are unwrapped, as mmengine's ``load_state_dict`` does).
        state_dict (dict[str, Tensor]): The weights to load.

    Returns:
        MatchSummary: The comparison.
    """
    while is_model_wrapper(module) or isinstance(module, BaseTTAModel):
        module = module.module
    own = {k: v for k, v in module.state_dict().items() if _counted(k)}
    summary = MatchSummary(total=len(own))
    for key, value in own.items():
        given = state_dict.get(key)
        if given is None:
            summary.missing.append(key)
        elif getattr(given, 'shape', None) != value.shape:
            summary.wrong_shape.append(key)
            summary.missing.append(key)
        else:
            summary.matched.append(key)
    summary.unexpected = [
        k for k in state_dict if _counted(k) and k not in own
    ]
    return summary


def check_state_dict(module: nn.Module,
                     state_dict: Dict[str, Tensor],
                     source: Optional[str] = None) -> MatchSummary:
    """Print the load summary; refuse a state dict that does not fit.

    Args:
        module (nn.Module): The receiving module.
        state_dict (dict[str, Tensor]): The weights to load.
        source (str, optional): The checkpoint, for messages.

    Returns:
        MatchSummary: The comparison.

    Raises:
        IncompatibleCheckpointError: If fewer than
            :data:`MIN_MATCHED_FRACTION` of the module's tensors match.
        IncompleteCheckpointError: Inside :func:`require_complete_network`,
            if any tensor of the network is missing or mis-shaped.
    """
    source = source or '<state dict>'
    summary = match_state_dict(module, state_dict)
    print_log(summary.line(source), logger='current', level=logging.INFO)
    if summary.fraction < MIN_MATCHED_FRACTION:
        examples = ', '.join(summary.missing[:3])
        foreign = ', '.join(summary.unexpected[:3]) or 'none'
        raise IncompatibleCheckpointError(
            f'Refusing to load {source}: it provides only '
            f'{len(summary.matched)} of the model\'s {summary.total} tensors '
            f'(by name and shape; {summary.fraction:.0%} of the network\'s, '
            f'{TERM_PREFIX}* not counted, where at least '
            f'{MIN_MATCHED_FRACTION:.0%} are required), so it is a '
            'checkpoint of another architecture. '
            f'Missing e.g. {examples}; its own keys e.g. {foreign}. Convert '
            'it first (tools/model_converters/) or check the config.')
    missing = summary.network_missing
    purpose = _COMPLETE_FOR[0]
    needed = [k for k in missing if not k.startswith(TRAINING_ONLY_PREFIXES)]
    if needed and purpose is not None:
        raise IncompleteCheckpointError(
            f'Refusing {source} for {purpose}: {len(needed)} of the '
            'network\'s tensors would keep their initial (random) weights '
            f'({_missing_parts(needed, summary.wrong_shape)}). '
            f'{purpose.capitalize()} needs every tensor of the network '
            f'({TERM_PREFIX}* and the training-only auxiliary_head.* aside): '
            'use the checkpoint of this config\'s architecture (e.g. not a '
            'DeepLab-V3+ checkpoint under a DeepLab-V2 config) or convert it '
            '(tools/model_converters/).')
    if missing:
        print_log(
            f'{source} leaves {len(missing)} of the network\'s tensors at '
            'their initial weights '
            f'({_missing_parts(missing, summary.wrong_shape)})',
            logger='current',
            level=logging.WARNING)
    return summary


_LOAD_STATE_DICT = mmengine_checkpoint.load_state_dict


def _checked_load_state_dict(module: nn.Module,
                             state_dict: Dict[str, Tensor],
                             strict: bool = False,
                             logger=None) -> None:
    check_state_dict(module, state_dict, last_loaded_source[0])
    _LOAD_STATE_DICT(module, state_dict, strict=strict, logger=logger)


mmengine_checkpoint.load_state_dict = _checked_load_state_dict
