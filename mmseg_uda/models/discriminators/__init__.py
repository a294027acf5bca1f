from .feature_discriminator import FeatureDiscriminator
from .fine_grained_discriminator import FineGrainedDiscriminator
from .fully_conv_discriminator import FullyConvDiscriminator

__all__ = [
    'FeatureDiscriminator', 'FineGrainedDiscriminator',
    'FullyConvDiscriminator'
]
