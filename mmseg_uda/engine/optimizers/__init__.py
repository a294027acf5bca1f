from .active_optim_wrapper import active_optim_wrapper, backward_now
from .multi_optim_wrapper import MultiOptimWrapper
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor

__all__ = [
    'MultiOptimWrapper', 'MultiOptimWrapperConstructor',
    'active_optim_wrapper', 'backward_now'
]
