from .feature_discriminator import FeatureDiscriminator
from .fine_grained_discriminator import FineGrainedDiscriminator

__all__ = ['FeatureDiscriminator', 'FineGrainedDiscriminator']
