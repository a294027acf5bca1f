"""DAFormer's context-aware multi-level fusion decoder."""
from typing import List, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.sep_aspp_head import \
    DepthwiseSeparableASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

#: The fusion of the paper's decoder (``sepaspp``) and its ablations
#: (DAFormer Table 7; METHODS.md sec. 7.2).
FUSIONS = ('sepaspp', 'aspp', 'conv1', 'sepaspp_bottleneck')


class LinearEmbedding(nn.Module):
    """A per-pixel linear layer (no norm, no activation).

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Output channels.
    """

    def __init__(self, in_channels: int, embed_dims: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_channels, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, embed_dims, H, W)."""
        n, _, h, w = x.shape
        tokens = self.proj(x.flatten(2).transpose(1, 2))
        return tokens.transpose(1, 2).reshape(n, -1, h, w)


class ASPPContext(nn.Module):
    """ASPP without image pooling, then a 3x3 bottleneck.

    Parallel branches on the input, one per dilation: ``d = 1`` a 1x1
    ConvModule; ``d > 1`` a 3x3 ConvModule with dilation = padding = d, or
    (``separable``) a depth-wise 3x3 ConvModule followed by a point-wise 1x1
    one (MMSeg's ``DepthwiseSeparableASPPModule``). The branch outputs are
    concatenated and reduced by a 3x3 ConvModule (padding 1). ConvModules
    followed by a norm have no bias.

    Args:
        in_channels (int): Input channels.
        channels (int): Channels of every branch and of the output.
        dilations (Sequence[int]): One branch per dilation.
        separable (bool): Depth-wise separable branches for ``d > 1``.
        conv_cfg (dict, optional): Conv config (plain branches, bottleneck).
        norm_cfg (dict, optional): Norm config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, in_channels: int, channels: int,
                 dilations: Sequence[int], separable: bool,
                 conv_cfg: OptConfigType, norm_cfg: OptConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        branches = DepthwiseSeparableASPPModule if separable else ASPPModule
        self.aspp_modules = branches(
            dilations=tuple(dilations),
            in_channels=in_channels,
            channels=channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.bottleneck = ConvModule(
            len(dilations) * channels,
            channels,
            3,
            padding=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, channels, H, W)."""
        return self.bottleneck(torch.cat(self.aspp_modules(x), dim=1))


@MODELS.register_module()
class DAFormerHead(BaseDecodeHead):
    """DAFormer's decoder (Hoyer et al., CVPR 2022; METHODS.md sec. 7.2).

    Each selected encoder feature ``F_i`` is embedded per pixel to
    ``embed_dims`` channels by a linear layer, the embeddings are resized
    bilinearly to the size of the first (stride 4) and concatenated, and a
    fusion module reduces them to ``channels``; then BaseDecodeHead's
    Dropout2d and 1x1 ``conv_seg``. The fusions (``fusion``):

    - ``'sepaspp'`` (DAFormer): :class:`ASPPContext` on the concatenation,
      dilations 1/6/12/18, depth-wise separable branches for d > 1, no
      image pooling;
    - ``'aspp'``: the same with ordinary 3x3 branches ("w/o DSC");
    - ``'conv1'``: a 1x1 ConvModule (SegFormer's decoder with 256 dims);
    - ``'sepaspp_bottleneck'`` ("context only at F4"): the last feature is
      first upsampled bilinearly by ``context_scale_factor`` (the release's
      ``SegFormerAdapter`` neck, x8: stride 32 -> 4), then embedded by a 1x1
      conv with bias followed by a separable :class:`ASPPContext`; the
      concatenation is fused by a 1x1 ConvModule.

    The module names are the release's (``embed_layers.<i>.proj``,
    ``fuse_layer.aspp_modules``, ``fuse_layer.bottleneck``, ...), so a
    released head's state dict loads as it is. Initialisation as released:
    ConvModules Kaiming-normal fan-out (ReLU), norms weight 1 bias 0, linear
    layers and the raw conv PyTorch's default, ``conv_seg`` N(0, 0.01) with
    bias 0 (BaseDecodeHead's default ``init_cfg``).

    Args:
        in_channels (Sequence[int]): Channels of the selected features
            (64/128/320/512 for MiT-B5).
        channels (int): Output channels of the fusion. Defaults to 256.
        embed_dims (int | Sequence[int]): Embedding channels per selected
            feature. Defaults to 256.
        fusion (str): One of :data:`FUSIONS`. Defaults to 'sepaspp'.
        dilations (Sequence[int]): ASPP dilations. Defaults to
            (1, 6, 12, 18).
        context_scale_factor (int): Upsampling of the last feature before
            its context module (``'sepaspp_bottleneck'`` only). Defaults
            to 8.
        in_index (Sequence[int]): Selected features. Defaults to
            (0, 1, 2, 3).
        norm_cfg (dict): Norm of the ConvModules. Defaults to plain
            ``BN`` (not synchronised, as released).
        act_cfg (dict): Activation of the ConvModules. Defaults to ReLU.
        **kwargs: Other arguments of :class:`BaseDecodeHead`
            (``num_classes``, ``dropout_ratio`` (0.1), ``align_corners``
            (False), ``loss_decode``, ...); ``input_transform`` is fixed
            to ``'multiple_select'``.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int = 256,
                 embed_dims: Union[int, Sequence[int]] = 256,
                 fusion: str = 'sepaspp',
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 context_scale_factor: int = 8,
                 in_index: Sequence[int] = (0, 1, 2, 3),
                 norm_cfg: OptConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 **kwargs) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f'DAFormerHead: fusion must be one of '
                             f'{list(FUSIONS)}, got {fusion!r}')
        if kwargs.pop('input_transform', 'multiple_select') != (
                'multiple_select'):
            raise ValueError('DAFormerHead: input_transform is fixed to '
                             "'multiple_select' (one embedding per level)")
        super().__init__(
            list(in_channels),
            channels,
            in_index=list(in_index),
            input_transform='multiple_select',
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            **kwargs)
        if isinstance(embed_dims, int):
            embed_dims = [embed_dims] * len(self.in_index)
        if len(embed_dims) != len(self.in_index):
            raise ValueError(
                f'DAFormerHead: {len(embed_dims)} embed_dims for '
                f'{len(self.in_index)} selected features')
        self.fusion = fusion
        self.embed_dims = list(embed_dims)
        self.dilations = tuple(dilations)
        self.context_scale_factor = context_scale_factor
        embed_layers = [
            LinearEmbedding(c, d)
            for c, d in zip(self.in_channels, self.embed_dims)
        ]
        if fusion == 'sepaspp_bottleneck':
            last = self.embed_dims[-1]
            embed_layers[-1] = nn.Sequential(
                nn.Conv2d(self.in_channels[-1], last, kernel_size=1),
                self._context(last, last, separable=True))
        self.embed_layers = nn.ModuleList(embed_layers)
        fused = sum(self.embed_dims)
        if fusion in ('sepaspp', 'aspp'):
            self.fuse_layer = self._context(
                fused, channels, separable=fusion == 'sepaspp')
        else:
            self.fuse_layer = ConvModule(
                fused,
                channels,
                1,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg)

    def _context(self, in_channels: int, channels: int,
                 separable: bool) -> ASPPContext:
        return ASPPContext(in_channels, channels, self.dilations, separable,
                           self.conv_cfg, self.norm_cfg, self.act_cfg)

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """Fused multi-level features before ``cls_seg``.

        Args:
            inputs (list[Tensor]): Multi-level encoder features, the i-th
                of shape (N, in_channels[i], H_i, W_i) for the selected
                levels, the first at the output stride (4 for MiT).

        Returns:
            Tensor: Shape (N, channels, H_0, W_0).
        """
        feats = self._transform_inputs(inputs)
        if self.fusion == 'sepaspp_bottleneck':
            feats = feats[:-1] + [
                resize(
                    feats[-1],
                    scale_factor=self.context_scale_factor,
                    mode='bilinear',
                    align_corners=self.align_corners)
            ]
        size = feats[0].shape[2:]
        embedded = []
        for feat, embed in zip(feats, self.embed_layers):
            x = embed(feat)
            if x.shape[2:] != size:
                x = resize(
                    x,
                    size=size,
                    mode='bilinear',
                    align_corners=self.align_corners)
            embedded.append(x)
        return self.fuse_layer(torch.cat(embedded, dim=1))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Logits of shape (N, out_channels, H_0, W_0)."""
        return self.cls_seg(self._forward_feature(inputs))
