from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import build_conv_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class DeepLabV2Head(BaseDecodeHead):
    """DeepLab-V2 "ASPP-sum" classifier.

    This head is the classifier of `DeepLab-V2
    <https://arxiv.org/abs/1606.00915>`_ as in the legacy ``Res_Deeplab``
    code: parallel 3x3 convs ``in_channels -> num_classes`` with bias, one
    per dilation (padding = dilation, so every branch keeps the input size),
    whose outputs are **summed**. No BN, no activation, no dropout. Weights
    are drawn from N(0, ``init_std``) at construction; biases keep PyTorch's
    default init, as the legacy code leaves them.

    BaseDecodeHead's 1x1 ``conv_seg`` and dropout are not built: a parameter
    that never receives a gradient would make DDP demand
    ``find_unused_parameters``. For the same reason the branches beyond
    ``num_active_branches`` have ``requires_grad=False``.

    Works as ``decode_head`` (on layer4, ``in_index=3``) and as
    ``auxiliary_head`` (the multi-level "low" classifier on layer3,
    ``in_index=2``, loss weight set by its ``loss_decode``). Logits are
    resized to the label size with ``align_corners`` (default True, as the
    legacy bilinear upsampling).

    Args:
        in_channels (int): Channels of the selected input feature.
        num_classes (int): Number of classes.
        dilations (Sequence[int]): Dilation (= padding) of each branch.
            Default: (6, 12, 18, 24).
        num_active_branches (int, optional): Sum only the first this many
            branches. ``2`` reproduces MaxSquare's implementation, whose
            classifier returns inside its loop (d6 + d12). None sums all.
            Default: None.
        init_std (float): Std of the normal init of the branch weights.
            Default: 0.01.
        align_corners (bool): ``align_corners`` of the logit resizing.
            Default: True.
        init_cfg (dict or list[dict], optional): Initialization config.
            Default: None (keep the construction-time init).
        **kwargs: Other arguments of :class:`BaseDecodeHead` (``in_index``,
            ``loss_decode``, ``ignore_index``, ``conv_cfg``, ...), except
            ``channels`` and ``dropout_ratio``, which this head fixes.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 dilations: Sequence[int] = (6, 12, 18, 24),
                 num_active_branches: Optional[int] = None,
                 init_std: float = 0.01,
                 align_corners: bool = True,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        for fixed in ('channels', 'dropout_ratio'):
            if fixed in kwargs:
                raise TypeError(f'DeepLabV2Head: {fixed!r} is not '
                                'configurable (the head has no hidden '
                                'feature and no dropout)')
        if not isinstance(in_channels, int):
            raise TypeError('DeepLabV2Head: in_channels must be an int (one '
                            f'input feature), got {in_channels!r}')
        super().__init__(
            in_channels,
            in_channels,
            num_classes=num_classes,
            dropout_ratio=0.,
            align_corners=align_corners,
            init_cfg=init_cfg,
            **kwargs)
        del self.conv_seg
        self.dilations = tuple(dilations)
        self.num_active_branches = self._check_branches(
            self.dilations, num_active_branches)
        self.aspp_convs = nn.ModuleList(
            self._make_branch(dilation, init_std)
            for dilation in self.dilations)
        for conv in self.aspp_convs[self.num_active_branches:]:
            conv.requires_grad_(False)

    @staticmethod
    def _check_branches(dilations: Tuple[int, ...],
                        num_active_branches: Optional[int]) -> int:
        """Validate the branch settings; return the active branch count."""
        if not dilations or not all(
                isinstance(d, int) and d > 0 for d in dilations):
            raise ValueError('DeepLabV2Head: dilations must be a non-empty '
                             f'sequence of positive ints, got {dilations!r}')
        if num_active_branches is None:
            return len(dilations)
        if not 1 <= num_active_branches <= len(dilations):
            raise ValueError('DeepLabV2Head: num_active_branches must be in '
                             f'[1, {len(dilations)}], got '
                             f'{num_active_branches!r}')
        return num_active_branches

    def _make_branch(self, dilation: int, init_std: float) -> nn.Module:
        """Build one dilated 3x3 classifier branch."""
        conv = build_conv_layer(
            self.conv_cfg,
            self.in_channels,
            self.out_channels,
            kernel_size=3,
            padding=dilation,
            dilation=dilation,
            bias=True)
        nn.init.normal_(conv.weight, mean=0., std=init_std)
        return conv

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """Select the classifier's input feature (no decoder in DeepLab-V2).

        Args:
            inputs (list[Tensor]): Multi-level backbone features.

        Returns:
            Tensor: The feature at ``in_index``, shape (N, in_channels, H, W).
        """
        return self._transform_inputs(inputs)

    def cls_seg(self, feat: Tensor) -> Tensor:
        """Classify each pixel with the sum of the active branches.

        Args:
            feat (Tensor): Feature of shape (N, in_channels, H, W).

        Returns:
            Tensor: Logits of shape (N, out_channels, H, W).
        """
        active = self.aspp_convs[:self.num_active_branches]
        output = active[0](feat)
        for conv in active[1:]:
            output = output + conv(feat)
        return output

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Forward function.

        Args:
            inputs (list[Tensor]): Multi-level backbone features.

        Returns:
            Tensor: Logits of shape (N, out_channels, H, W) at the input
            feature's resolution.
        """
        return self.cls_seg(self._forward_feature(inputs))
