from .category_anchor_guided import CategoryAnchorGuided
from .depth_distribution import DepthDistribution
from .domain_outputs import DomainOutputs
from .fine_grained_adversarial import FineGrainedAdversarial
from .imnet_feature_distance import ImageNetFeatureDistance
from .output_adversarial import OutputAdversarial
from .target_output_loss import TargetOutputLoss

__all__ = [
    'CategoryAnchorGuided', 'DepthDistribution', 'DomainOutputs',
    'FineGrainedAdversarial', 'ImageNetFeatureDistance', 'OutputAdversarial',
    'TargetOutputLoss'
]
