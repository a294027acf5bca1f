from .average_buffers_hook import AverageBuffersHook
from .category_anchor_hook import CategoryAnchorHook
from .class_count_check_hook import ClassCountCheckHook, ClassCountError
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'AverageBuffersHook', 'CategoryAnchorHook', 'ClassCountCheckHook',
    'ClassCountError', 'NonFiniteLossError', 'NonFiniteLossHook',
    'SafeCheckpointHook'
]
