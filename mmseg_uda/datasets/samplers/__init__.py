from .class_balanced_sampler import ClassBalancedSampler  # noqa: F401
from .infinite_index_sampler import InfiniteIndexSampler  # noqa: F401
