from .average_buffers_hook import AverageBuffersHook
from .class_count_check_hook import ClassCountCheckHook, ClassCountError
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'AverageBuffersHook', 'ClassCountCheckHook', 'ClassCountError',
    'NonFiniteLossError', 'NonFiniteLossHook', 'SafeCheckpointHook'
]
