from .active_optim_wrapper import active_optim_wrapper, backward_now
from .multi_optim_wrapper import MultiOptimWrapper
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor
from .nested_listing_constructor import (NestedListingOptimWrapperConstructor,
                                         nested_listings)
from .repeated_listing_sgd import RepeatedListingSGD

__all__ = [
    'MultiOptimWrapper', 'MultiOptimWrapperConstructor',
    'NestedListingOptimWrapperConstructor', 'RepeatedListingSGD',
    'active_optim_wrapper', 'backward_now', 'nested_listings'
]
