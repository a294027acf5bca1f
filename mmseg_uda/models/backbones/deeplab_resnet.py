from typing import Optional, Sequence

import torch.nn as nn
from mmengine.utils.dl_utils.parrots_wrapper import _BatchNorm
from mmseg.models.backbones.resnet import Bottleneck, ResNet
from mmseg.registry import MODELS

from ..utils.frozen_batch_norm import FrozenBatchNorm2d  # noqa: F401

FROZEN_BN_AFFINE_MODES = ('none', 'stem', 'all')


@MODELS.register_module()
class DeepLabResNet(ResNet):
    """ResNet backbone of DeepLab-V2 (the legacy ``Res_Deeplab`` network).

    With the defaults this is the network of the MaxSquare and depth-method
    implementations: caffe style (the stride sits on the first 1x1 conv of a
    bottleneck), one 7x7/2 stem conv + BN + ReLU, a 3x3/2 max-pool with
    ``ceil_mode=True``, strides (1, 2, 1, 1) and dilations (1, 1, 2, 4) in
    *every* block of a stage, i.e. output stride 8. A 1280x760 input gives
    a 161x96 layer4 map (floor-mode pooling would give 160x95). Parameter
    and buffer names are mmseg's ``ResNet`` names (``conv1``, ``bn1``,
    ``layerX.N.{conv1,bn1,...,downsample.0,downsample.1}``), which equal the
    legacy ones.

    FADA's torchvision-dilated network is ``style='pytorch'``,
    ``contract_dilation=True`` (first block of layer3 dilation 1, of layer4
    dilation 2, the rest 2 / 4, as torchvision's
    ``replace_stride_with_dilation=[False, True, True]``),
    ``maxpool_ceil_mode=False`` and ``norm_cfg=dict(type='FrozenBN', eps=0.)``.

    Args:
        depth (int): Depth of the bottleneck ResNet, from {50, 101, 152}.
            Default: 101.
        strides (Sequence[int]): Stride of the first block of each stage.
            Default: (1, 2, 1, 1).
        dilations (Sequence[int]): Dilation of each stage. Default:
            (1, 1, 2, 4).
        style (str): 'caffe' or 'pytorch'. Default: 'caffe'.
        maxpool_ceil_mode (bool): ``ceil_mode`` of the stem max-pool.
            Default: True (legacy DeepLab); torchvision uses False.
        frozen_bn_affine (str): Which BN affine parameters get
            ``requires_grad=False``: 'none', 'stem' (only the stem's ``bn1``;
            MaxSquare) or 'all' (depth method). BN layers stay in train mode
            (batch statistics) unless ``norm_eval=True``. Default: 'none'.
        stage_blocks (Sequence[int], optional): Number of blocks per stage,
            overriding the counts of ``depth`` (which then only picks the
            block type). Meant for cheap tests and light variants.
            Default: None.
        **kwargs: Other arguments of :class:`mmseg.models.ResNet`, e.g.
            ``norm_cfg``, ``norm_eval``, ``contract_dilation``,
            ``out_indices`` (default (0, 1, 2, 3)), ``stem_channels``,
            ``base_channels``, ``frozen_stages``, ``init_cfg``.
    """

    def __init__(self,
                 depth: int = 101,
                 strides: Sequence[int] = (1, 2, 1, 1),
                 dilations: Sequence[int] = (1, 1, 2, 4),
                 style: str = 'caffe',
                 maxpool_ceil_mode: bool = True,
                 frozen_bn_affine: str = 'none',
                 stage_blocks: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        self._check_args(depth, frozen_bn_affine, stage_blocks, kwargs)
        if stage_blocks is not None:
            # ResNet.__init__ reads its layout from ``self.arch_settings``;
            # an instance-level table overrides the class one for this model.
            self.arch_settings = {
                depth: (self.arch_settings[depth][0], tuple(stage_blocks))
            }
        super().__init__(
            depth=depth,
            strides=strides,
            dilations=dilations,
            style=style,
            **kwargs)
        self.maxpool_ceil_mode = maxpool_ceil_mode
        self.maxpool = nn.MaxPool2d(
            kernel_size=3, stride=2, padding=1, ceil_mode=maxpool_ceil_mode)
        self.frozen_bn_affine = frozen_bn_affine
        self._freeze_bn_affine()

    def _check_args(self, depth: int, frozen_bn_affine: str,
                    stage_blocks: Optional[Sequence[int]],
                    kwargs: dict) -> None:
        """Reject settings that leave the legacy DeepLab layout."""
        if depth not in self.arch_settings or \
                self.arch_settings[depth][0] is not Bottleneck:
            raise KeyError(f'DeepLabResNet: invalid depth {depth}; the '
                           'DeepLab-V2 layout needs a bottleneck ResNet '
                           '(50, 101 or 152)')
        if frozen_bn_affine not in FROZEN_BN_AFFINE_MODES:
            raise ValueError('DeepLabResNet: frozen_bn_affine must be one of '
                             f'{FROZEN_BN_AFFINE_MODES}, got '
                             f'{frozen_bn_affine!r}')
        if stage_blocks is not None and (len(stage_blocks) != 4 or not all(
                isinstance(n, int) and n > 0 for n in stage_blocks)):
            raise ValueError('DeepLabResNet: stage_blocks must be 4 positive '
                             f'ints, got {stage_blocks!r}')
        for key in ('deep_stem', 'avg_down'):
            if kwargs.get(key):
                raise ValueError(f'DeepLabResNet: {key}=True changes the '
                                 'stem/downsample layout that DeepLab-V2 '
                                 'checkpoints use; use mmseg ResNetV1c/V1d')

    def train(self, mode: bool = True) -> 'DeepLabResNet':
        """Set train/eval mode, honouring ``norm_eval`` and frozen stages.

        Unlike mmseg's ``ResNet.train`` this returns ``self``, as
        ``nn.Module.train`` does, so ``model.eval()`` can be chained.
        """
        super().train(mode)
        return self

    def _freeze_bn_affine(self) -> None:
        """Set ``requires_grad=False`` on the selected BN affine params."""
        if self.frozen_bn_affine == 'none':
            return
        if self.frozen_bn_affine == 'stem':
            norms = [self.norm1]
        else:
            norms = [m for m in self.modules() if isinstance(m, _BatchNorm)]
        for norm in norms:
            for param in norm.parameters():
                param.requires_grad = False
