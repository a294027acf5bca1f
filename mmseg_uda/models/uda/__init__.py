from .domain_outputs import DomainOutputs
from .target_output_loss import TargetOutputLoss
from .fine_grained_adversarial import FineGrainedAdversarial

__all__ = ['DomainOutputs', 'TargetOutputLoss']
__all__ += ['FineGrainedAdversarial']
