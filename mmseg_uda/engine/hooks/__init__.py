from .average_buffers_hook import AverageBuffersHook
from .category_anchor_hook import CategoryAnchorHook
from .class_count_check_hook import ClassCountCheckHook, ClassCountError
from .iteration_seed_hook import IterationSeedHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'AverageBuffersHook', 'CategoryAnchorHook', 'ClassCountCheckHook',
    'ClassCountError', 'IterationSeedHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'SafeCheckpointHook'
]
