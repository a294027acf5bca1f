"""Dense one-map regression head of the depth-distribution method (its
depth head and its density head)."""
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class ChannelMeanRegressionHead(BaseModule):
    """Three convs, then the mean over channels: one map at feature size.

    METHODS.md sec. 5, on the layer4 feature (2048-d, stride 8)::

        conv1x1 in->512, ReLU, conv3x3(pad 1) 512->512, ReLU,
        conv1x1 512->128, mean over the 128 channels -> (B, 1, h, w)

    The depth method builds two, one regressing depth, one the GMM density
    target. As in the release (METHODS.md 6.4), every conv weight is drawn
    from N(0, ``init_std``) at construction; the biases keep PyTorch's
    default init (U(-1/sqrt(fan_in), 1/sqrt(fan_in))), which the release
    leaves untouched. ``init_weights`` keeps this init unless an
    ``init_cfg`` is given, and a checkpoint without the heads' keys (the
    ImageNet backbone of ``load_from``) leaves them as they are.

    Args:
        in_channels (int): Channels of the input feature. Defaults to 2048.
        channels (Sequence[int]): Outputs of the three convs. Defaults to
            (512, 512, 128).
        in_index (int): Which backbone output the head reads. Defaults to
            3 (layer4).
        init_std (float, optional): Std of the normal init of the conv
            weights. Defaults to 0.01 (the release); None keeps PyTorch's
            default init.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 channels: Sequence[int] = (512, 512, 128),
                 in_index: int = 3,
                 init_std: Optional[float] = 0.01,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(channels) != 3:
            raise ValueError('ChannelMeanRegressionHead: channels must give '
                             f'the three conv widths, got {channels!r}')
        self.in_channels = in_channels
        self.in_index = in_index
        c1, c2, c3 = channels
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, c1, 1), nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c2, c3, 1))
        if init_std is not None:
            for conv in self.convs:
                if isinstance(conv, nn.Conv2d):
                    nn.init.normal_(conv.weight, mean=0., std=init_std)

    def _forward_feature(self, x: Tensor) -> Tensor:
        """The last conv's output, shape (B, channels[2], h, w)."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ChannelMeanRegressionHead: expected a (B, '
                f'{self.in_channels}, h, w) feature, got {tuple(x.shape)}')
        return self.convs(x)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Regress one map.

        Args:
            inputs (Tensor | Sequence[Tensor]): The feature (B, C, h, w), or
                the backbone outputs (``inputs[in_index]`` is used).

        Returns:
            Tensor: Shape (B, 1, h, w).
        """
        x = inputs if isinstance(inputs, Tensor) else inputs[self.in_index]
        return self._forward_feature(x).mean(dim=1, keepdim=True)
