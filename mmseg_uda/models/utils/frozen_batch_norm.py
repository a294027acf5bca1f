import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module('FrozenBN')
class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d whose statistics and affine parameters are constants.

    Computes ``y = (x - running_mean) / sqrt(running_var + eps) * weight +
    bias`` in train and eval mode alike. ``weight``, ``bias``,
    ``running_mean`` and ``running_var`` are buffers, not parameters, so the
    layer never trains, is ignored by optimizers and needs no
    ``find_unused_parameters`` under DDP, while its state-dict keys stay
    those of ``nn.BatchNorm2d`` (checkpoints load unchanged).

    FADA's backbone (maskrcnn-benchmark's frozen BN) uses the formula
    **without** eps. ``build_norm_layer`` fills ``eps=1e-5`` into every norm
    config that does not set it, so that variant must be written explicitly:
    ``norm_cfg=dict(type='FrozenBN', eps=0.)``. With ``eps=0`` a channel
    whose running variance is 0 produces inf/nan, as in the original.

    Args:
        num_features (int): Number of channels C.
        eps (float): Added to the running variance. Default: 1e-5.
    """

    # ``build_norm_layer`` names layers from this, giving the usual bn1/bn2.
    _abbr_ = 'bn'

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        if eps < 0:
            raise ValueError(f'FrozenBatchNorm2d: eps must be >= 0, got {eps}')
        self.num_features = num_features
        self.eps = eps
        self.register_buffer('weight', torch.ones(num_features))
        self.register_buffer('bias', torch.zeros(num_features))
        self.register_buffer('running_mean', torch.zeros(num_features))
        self.register_buffer('running_var', torch.ones(num_features))

    def forward(self, x: Tensor) -> Tensor:
        """Normalise with the stored statistics.

        Args:
            x (Tensor): Input of shape (N, C, H, W).

        Returns:
            Tensor: Output of shape (N, C, H, W).
        """
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        # Checkpoints of trainable BN carry a step counter that a frozen
        # layer has no use for; drop it instead of reporting it unexpected.
        state_dict.pop(prefix + 'num_batches_tracked', None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        """Extra repr."""
        return f'{self.num_features}, eps={self.eps}'
