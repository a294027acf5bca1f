from . import samplers, transforms  # noqa: F401
from .cityscapes import CityscapesUDADataset
from .compact_label_collate import compact_label_collate
from .gta5 import GTA5Dataset
from .mapillary import MapillaryDataset
from .nthu import NTHUDataset
from .rare_class_sampling import RareClassSampledUDADataset
from .samplers import ClassBalancedSampler, InfiniteIndexSampler
from .synthia import SynthiaDataset
from .uda_dataset import UDADataset

__all__ = [
    'CityscapesUDADataset', 'ClassBalancedSampler', 'GTA5Dataset',
    'compact_label_collate', 'InfiniteIndexSampler', 'MapillaryDataset',
    'NTHUDataset', 'RareClassSampledUDADataset', 'SynthiaDataset',
    'UDADataset'
]
