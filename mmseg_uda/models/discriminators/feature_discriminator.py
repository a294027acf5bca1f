"""Per-pixel domain discriminator on a backbone feature (FADA's network)."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class FeatureDiscriminator(BaseModule):
    """Binary feature-level domain discriminator.

    The network of FADA's discriminator (METHODS.md section 3) with one
    output: 3x3 conv ``in_channels -> channels[0]``, LeakyReLU, 3x3 conv
    ``channels[0] -> channels[1]``, LeakyReLU (the *trunk*), then 3x3 conv
    heads whose outputs are concatenated, upsampled bilinearly to the image
    size. Here the single head scores "target" (logit of P(d = 1)); it is
    the "feature-level only" baseline FADA compares against.
    :class:`FineGrainedDiscriminator` reuses the trunk with two C-channel
    heads.

    All convs have bias and PyTorch's default initialisation, as in the
    reference implementation.

    Args:
        in_channels (int): Channels of the input feature (2048 for the
            ResNet-101 layer4). Defaults to 2048.
        channels (Sequence[int]): Output channels of the two trunk convs.
            Defaults to (256, 128).
        negative_slope (float): Slope of the LeakyReLUs. Defaults to 0.2.
        align_corners (bool): ``align_corners`` of the upsampling.
            Defaults to True.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 channels: Sequence[int] = (256, 128),
                 negative_slope: float = 0.2,
                 align_corners: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(channels) != 2:
            raise ValueError(f'{type(self).__name__}: channels must hold the '
                             f'two trunk widths, got {channels!r}')
        self.in_channels = in_channels
        self.align_corners = align_corners
        self.trunk = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], 3, padding=1),
            nn.LeakyReLU(negative_slope, inplace=True),
            nn.Conv2d(channels[0], channels[1], 3, padding=1),
            nn.LeakyReLU(negative_slope, inplace=True))
        self.heads = nn.ModuleList(
            nn.Conv2d(channels[1], out, 3, padding=1)
            for out in self.head_channels())

    def head_channels(self) -> Tuple[int, ...]:
        """Output channels of each head, in concatenation order."""
        return (1, )

    @property
    def out_channels(self) -> int:
        """Channels of the output (the heads' channels summed)."""
        return sum(self.head_channels())

    def forward(self, x: Tensor, size: Sequence[int]) -> Tensor:
        """Score every pixel.

        Args:
            x (Tensor): Feature map, shape (B, in_channels, h, w).
            size (Sequence[int]): Image size (H, W) to upsample to.

        Returns:
            Tensor: Logits, shape (B, out_channels, H, W).
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__}: expected a feature of shape (B, '
                f'{self.in_channels}, h, w), got {tuple(x.shape)}; set '
                'in_channels to the channels of the chosen backbone output')
        hidden = self.trunk(x)
        out = torch.cat([head(hidden) for head in self.heads], dim=1)
        return F.interpolate(
            out,
            size=tuple(size),
            mode='bilinear',
            align_corners=self.align_corners)
