from .category_anchor_guided import CategoryAnchorGuided
from .dacs import DACS
from .depth_distribution import DepthDistribution
from .domain_outputs import DomainOutputs
from .fine_grained_adversarial import FineGrainedAdversarial
from .held_networks import HoldsNetworks, held_buffers, named_held_modules
from .imnet_feature_distance import ImageNetFeatureDistance
from .masked_image_consistency import MaskedImageConsistency
from .mean_teacher import MeanTeacher
from .output_adversarial import OutputAdversarial
from .shared_results import SharedResults, check_shared_results
from .target_output_loss import TargetOutputLoss

__all__ = [
    'CategoryAnchorGuided', 'DACS', 'DepthDistribution', 'DomainOutputs',
    'FineGrainedAdversarial', 'HoldsNetworks', 'ImageNetFeatureDistance',
    'MaskedImageConsistency', 'MeanTeacher', 'OutputAdversarial',
    'SharedResults', 'TargetOutputLoss', 'check_shared_results',
    'held_buffers', 'named_held_modules'
]
