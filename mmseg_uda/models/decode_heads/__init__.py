from .deeplabv2_head import DeepLabV2Head
from .deeplabv3plus_head import DeepLabV3PlusHead

__all__ = ['DeepLabV2Head']
__all__ += ['DeepLabV3PlusHead']
