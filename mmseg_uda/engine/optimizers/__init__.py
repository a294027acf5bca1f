from .multi_optim_wrapper import MultiOptimWrapper
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor

__all__ = ['MultiOptimWrapper', 'MultiOptimWrapperConstructor']
