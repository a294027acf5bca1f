from .domain_outputs import DomainOutputs
from .target_output_loss import TargetOutputLoss

__all__ = ['DomainOutputs', 'TargetOutputLoss']
