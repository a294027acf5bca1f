from .domain_outputs import DomainOutputs
from .fine_grained_adversarial import FineGrainedAdversarial
from .target_output_loss import TargetOutputLoss

__all__ = ['DomainOutputs', 'TargetOutputLoss']
__all__ += ['FineGrainedAdversarial']
from .depth_distribution import DepthDistribution  # noqa: E402

__all__ += ['DepthDistribution']
