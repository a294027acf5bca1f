from .channel_mean_regression_head import ChannelMeanRegressionHead
from .daformer_head import DAFormerHead
from .deeplabv2_head import DeepLabV2Head
from .deeplabv3plus_head import DeepLabV3PlusHead

__all__ = [
    'ChannelMeanRegressionHead', 'DAFormerHead', 'DeepLabV2Head',
    'DeepLabV3PlusHead'
]
