from .category_anchor_guided import CategoryAnchorGuided
from .domain_outputs import DomainOutputs
from .fine_grained_adversarial import FineGrainedAdversarial
from .output_adversarial import OutputAdversarial
from .target_output_loss import TargetOutputLoss

__all__ = ['DomainOutputs', 'TargetOutputLoss']
__all__ += ['FineGrainedAdversarial']
__all__ += ['CategoryAnchorGuided', 'OutputAdversarial']
