"""DC-GAN style fully convolutional discriminator on a C-channel map
(AdaptSegNet's output-space D; CAG-UDA's warm-up, the depth method)."""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class FullyConvDiscriminator(BaseModule):
    """Five 4x4 stride-2 convs, LeakyReLU between, one output logit map.

    The discriminator of AdaptSegNet-style output-space adaptation, used by
    CAG-UDA's warm-up stage (on the softmax output) and by the
    depth-distribution method (on ``entropy x density``; METHODS.md sec. 5
    and 6.3)::

        conv4x4/2 in->64, LReLU(0.2), conv4x4/2 64->128, LReLU(0.2),
        conv4x4/2 128->256, LReLU(0.2), conv4x4/2 256->512, LReLU(0.2),
        conv4x4/2 512->1

    Every conv has padding 1 and a bias, PyTorch's default initialisation.
    The output is *not* upsampled: a (B, 1, ~H/32, ~W/32) map of logits of
    P(target), trained with binary cross-entropy (source 0, target 1).

    Args:
        in_channels (int): Channels of the input map (the class count for
            a softmax or entropy map).
        channels (Sequence[int]): Output channels of the four hidden convs.
            Defaults to (64, 128, 256, 512).
        negative_slope (float): Slope of the LeakyReLUs. Defaults to 0.2.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (64, 128, 256, 512),
                 negative_slope: float = 0.2,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels < 1:
            raise ValueError(f'{type(self).__name__}: in_channels must be '
                             f'>= 1, got {in_channels}')
        if len(channels) < 1:
            raise ValueError(f'{type(self).__name__}: channels must list the '
                             f'hidden widths, got {channels!r}')
        self.in_channels = in_channels
        self.out_channels = 1
        layers = []
        widths = [in_channels] + list(channels)
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [
                nn.Conv2d(c_in, c_out, 4, stride=2, padding=1),
                nn.LeakyReLU(negative_slope, inplace=True)
            ]
        layers.append(nn.Conv2d(widths[-1], 1, 4, stride=2, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Score a map.

        Args:
            x (Tensor): Shape (B, in_channels, H, W).

        Returns:
            Tensor: Logits of P(target), shape (B, 1, h, w) with
            h = H / 32 (each conv: ``floor(h / 2)`` for even h).
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__}: expected an input of shape (B, '
                f'{self.in_channels}, H, W), got {tuple(x.shape)}; set '
                'in_channels to the channels of the map it scores')
        return self.layers(x)
