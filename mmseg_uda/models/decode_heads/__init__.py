from .deeplabv2_head import DeepLabV2Head

__all__ = ['DeepLabV2Head']
from .channel_mean_regression_head import \
    ChannelMeanRegressionHead  # noqa: E402

__all__ += ['ChannelMeanRegressionHead']
