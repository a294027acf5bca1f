"""DeepLab-V3+ head of the released CAG-UDA network (plain-conv ASPP and
decoder), exposing its 256-d pre-classifier feature."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class DeepLabV3PlusHead(BaseDecodeHead):
    """DeepLab-V3+ ASPP and decoder with plain (not separable) convs.

    The network of the CAG-UDA release (METHODS.md sec. 4, 6.1)::

        x = layer4 feature (stride 16)
        aspp = cat(conv1x1(x), conv3x3_d6(x), conv3x3_d12(x), conv3x3_d18(x),
                   up(conv1x1(avgpool(x))))           # each conv+BN+ReLU
        y = Dropout(0.5)(ReLU(BN(conv1x1(aspp))))       # 1280 -> 256
        skip = ReLU(BN(conv1x1(layer1)))                # 256 -> 48
        f = cat(up(y), skip)                            # stride 4, 304
        f = Dropout(0.5)(ReLU(BN(conv3x3(f))))          # -> 256
        f = Dropout(0.1)(ReLU(BN(conv3x3(f))))          # -> 256: the feature
        logits = conv1x1(f)                             # with bias

    ``up`` is bilinear with ``align_corners`` (True in the release). Convs
    before BN have no bias. mmseg's ``DepthwiseSeparableASPPHead`` is the
    separable-conv variant and puts the image pooling first; the release
    concatenates it last, which fixes the order of the projection's input
    channels (the converter relies on it).

    :meth:`_forward_feature` returns the post-dropout 256-d feature, the
    space of CAG's category anchors; ``exposes_feature`` tells
    :class:`UDAEncoderDecoder` to keep it in the training outputs.

    Args:
        in_channels (Sequence[int]): Channels of (skip, deep) features,
            e.g. (256, 2048) for ResNet layer1 / layer4.
        channels (int): Width of ASPP and decoder. Defaults to 256.
        dilations (Sequence[int]): Dilations of the three 3x3 ASPP branches.
            Defaults to (6, 12, 18).
        skip_channels (int): Width of the reduced skip feature.
            Defaults to 48.
        aspp_dropout (float): Dropout after the ASPP projection.
            Defaults to 0.5.
        decoder_dropouts (Sequence[float]): Dropouts after the two decoder
            convs. Defaults to (0.5, 0.1).
        **kwargs: Arguments of :class:`BaseDecodeHead` (``num_classes``,
            ``in_index`` (default (0, 3)), ``norm_cfg``, ``loss_decode``,
            ``align_corners``, ...). ``dropout_ratio`` is fixed to 0: the
            last dropout belongs to the feature.
    """

    exposes_feature = True

    def __init__(self,
                 in_channels: Sequence[int] = (256, 2048),
                 channels: int = 256,
                 dilations: Sequence[int] = (6, 12, 18),
                 skip_channels: int = 48,
                 aspp_dropout: float = 0.5,
                 decoder_dropouts: Sequence[float] = (0.5, 0.1),
                 **kwargs) -> None:
        if kwargs.get('dropout_ratio', 0.):
            raise TypeError('DeepLabV3PlusHead: dropout_ratio is fixed to 0; '
                            'set decoder_dropouts instead')
        if len(in_channels) != 2 or len(decoder_dropouts) != 2:
            raise ValueError('DeepLabV3PlusHead: in_channels and '
                             'decoder_dropouts take two values (skip, deep), '
                             f'got {in_channels!r}, {decoder_dropouts!r}')
        kwargs.setdefault('in_index', (0, 3))
        kwargs.setdefault('norm_cfg', dict(type='BN', requires_grad=True))
        kwargs['dropout_ratio'] = 0.
        super().__init__(
            list(in_channels),
            channels,
            input_transform='multiple_select',
            **kwargs)
        skip_in, deep_in = in_channels
        common = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.aspp_convs = nn.ModuleList(
            [ConvModule(deep_in, channels, 1, **common)] + [
                ConvModule(
                    deep_in,
                    channels,
                    3,
                    padding=d,
                    dilation=d,
                    **common) for d in dilations
            ])
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(deep_in, channels, 1, **common))
        self.aspp_project = ConvModule(
            channels * (len(dilations) + 2), channels, 1, **common)
        self.aspp_dropout = nn.Dropout(aspp_dropout)
        self.skip_conv = ConvModule(skip_in, skip_channels, 1, **common)
        self.fuse_convs = nn.Sequential(
            ConvModule(
                channels + skip_channels, channels, 3, padding=1, **common),
            nn.Dropout(decoder_dropouts[0]),
            ConvModule(channels, channels, 3, padding=1, **common),
            nn.Dropout(decoder_dropouts[1]))

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """The decoder feature before the classifier.

        Args:
            inputs (list[Tensor]): Backbone outputs.

        Returns:
            Tensor: Shape (B, channels, h, w) at the skip feature's
            resolution (stride 4), after the last decoder dropout.
        """
        skip, x = self._transform_inputs(inputs)
        pooled = resize(
            self.image_pool(x),
            size=x.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        aspp = torch.cat([conv(x) for conv in self.aspp_convs] + [pooled],
                         dim=1)
        deep = self.aspp_dropout(self.aspp_project(aspp))
        deep = resize(
            deep,
            size=skip.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        return self.fuse_convs(torch.cat([deep, self.skip_conv(skip)], dim=1))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Logits at stride 4, shape (B, num_classes, h, w)."""
        return self.cls_seg(self._forward_feature(inputs))
