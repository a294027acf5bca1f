from . import transforms  # noqa: F401
from .uda_dataset import UDADataset
from .cityscapes import CityscapesUDADataset
from .gta5 import GTA5Dataset

__all__ = ['UDADataset']
__all__ += ['CityscapesUDADataset', 'GTA5Dataset']
from . import samplers  # noqa: F401
from .mapillary import MapillaryDataset
from .nthu import NTHUDataset
from .samplers import ClassBalancedSampler
from .synthia import SynthiaDataset

__all__ += [
    'ClassBalancedSampler', 'MapillaryDataset', 'NTHUDataset',
    'SynthiaDataset'
]
