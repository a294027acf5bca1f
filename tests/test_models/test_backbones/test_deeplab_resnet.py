import pytest
import torch
import torch.nn as nn
from mmengine import Config
from mmengine.registry import init_default_scope
from mmengine.utils.dl_utils.parrots_wrapper import _BatchNorm
from mmseg.registry import MODELS

from mmseg_uda.models.backbones import DeepLabResNet
from mmseg_uda.models.utils import FrozenBatchNorm2d

BASE_CFG = 'configs/_base_/models/deeplabv2_r101.py'
BN_SUFFIXES = ('weight', 'bias', 'running_mean', 'running_var',
               'num_batches_tracked')
# Legacy DeepLab-V2: stage -> (stride of its first block, dilation of every
# block).
LEGACY_STAGES = {1: (1, 1), 2: (2, 1), 3: (1, 2), 4: (1, 4)}


@pytest.fixture(autouse=True)
def mmseg_scope():
    # build_norm_layer resolves 'FrozenBN' in the current default scope.
    init_default_scope('mmseg')


@pytest.fixture(scope='module')
def resnet101():
    """The config's backbone at full size; the only ResNet-101 built."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_CFG)
    return MODELS.build(cfg.model.backbone)


def tiny(**kwargs):
    """A cheap DeepLabResNet: one block per stage, 4 base channels."""
    kwargs.setdefault('stage_blocks', (1, 1, 1, 1))
    return DeepLabResNet(stem_channels=4, base_channels=4, **kwargs)


def legacy_key_set(stage_blocks):
    """State-dict keys of the legacy Res_Deeplab backbone, from its spec."""
    keys = {'conv1.weight'} | {f'bn1.{s}' for s in BN_SUFFIXES}
    for stage, num_blocks in enumerate(stage_blocks, 1):
        for index in range(num_blocks):
            prefix = f'layer{stage}.{index}.'
            keys |= {f'{prefix}conv{i}.weight' for i in (1, 2, 3)}
            keys |= {
                f'{prefix}bn{i}.{s}'
                for i in (1, 2, 3)
                for s in BN_SUFFIXES
            }
            if index == 0:
                keys.add(f'{prefix}downsample.0.weight')
                keys |= {f'{prefix}downsample.1.{s}' for s in BN_SUFFIXES}
    return keys


def assert_conv(conv, kernel, stride, dilation=1):
    assert conv.kernel_size == (kernel, kernel)
    assert conv.stride == (stride, stride)
    assert conv.dilation == (dilation, dilation)
    # 'same' padding for the dilated 3x3, none for 1x1 convs
    pad = dilation * (kernel // 2)
    assert conv.padding == (pad, pad)
    assert conv.bias is None


def assert_legacy_layout(model):
    """Every conv of ``model`` against the legacy DeepLab-V2 spec."""
    assert_conv(model.conv1, 7, 2)
    assert model.conv1.padding == (3, 3)
    pool = model.maxpool
    assert (pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode) == \
        (3, 2, 1, True)
    for stage, (stride, dilation) in LEGACY_STAGES.items():
        for index, block in enumerate(getattr(model, f'layer{stage}')):
            block_stride = stride if index == 0 else 1
            # caffe style: the stride sits on the first 1x1 conv
            assert_conv(block.conv1, 1, block_stride)
            assert_conv(block.conv2, 3, 1, dilation)
            assert_conv(block.conv3, 1, 1)
            if index == 0:
                assert_conv(block.downsample[0], 1, block_stride)
            else:
                assert block.downsample is None


def test_resnet101_matches_legacy_layout(resnet101):
    assert [len(getattr(resnet101, f'layer{i}')) for i in range(1, 5)] == \
        [3, 4, 23, 3]
    # torchvision's resnet101 has 44,549,160 parameters, 2,049,000 of them
    # in the ImageNet fc layer.
    assert sum(p.numel() for p in resnet101.parameters()) == 42_500_160
    assert set(resnet101.state_dict()) == legacy_key_set((3, 4, 23, 3))
    assert_legacy_layout(resnet101)


def test_defaults_are_legacy():
    model = tiny(stage_blocks=(2, 2, 2, 2))
    assert model.depth == 101
    assert model.out_indices == (0, 1, 2, 3)
    assert_legacy_layout(model)


def test_resnet101_config_bn_options(resnet101):
    # the base config is MaxSquare's: every BN trains except the stem's
    assert not any(p.requires_grad for p in resnet101.bn1.parameters())
    others = [
        m for n, m in resnet101.named_modules()
        if isinstance(m, _BatchNorm) and n != 'bn1'
    ]
    assert len(others) == 3 * (3 + 4 + 23 + 3) + 4
    assert all(p.requires_grad for m in others for p in m.parameters())


def test_resnet101_output_strides(resnet101):
    resnet101.eval()
    with torch.no_grad():
        outs = resnet101(torch.randn(1, 3, 65, 65))
    # 65 -conv/2-> 33 -ceil pool-> 17 -layer2 /2-> 9, then stride 1
    assert [tuple(o.shape) for o in outs] == [(1, 256, 17, 17), (1, 512, 9, 9),
                                              (1, 1024, 9, 9), (1, 2048, 9, 9)]


@pytest.mark.parametrize(
    'ceil_mode, expected',
    [
        # conv 7x7/2 pad 3: 1280 -> 640, 760 -> 380; max-pool 3x3/2 pad 1:
        # ceil((640 - 1) / 2) + 1 = 321 and ceil(379 / 2) + 1 = 191 (floor:
        # 320, 190); 1x1 conv stride 2: (321 - 1) // 2 + 1 = 161 and
        # (191 - 1) // 2 + 1 = 96 (floor: 160, 95).
        (True, [(191, 321), (96, 161), (96, 161), (96, 161)]),
        (False, [(190, 320), (95, 160), (95, 160), (95, 160)]),
    ])
def test_map_sizes_1280x760(ceil_mode, expected):
    model = tiny(maxpool_ceil_mode=ceil_mode).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 760, 1280))
    assert [tuple(o.shape[2:]) for o in outs] == expected
    assert [o.shape[1] for o in outs] == [16, 32, 64, 128]


def test_out_indices_select_stages():
    model = tiny(out_indices=(2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 33, 33))
    assert [o.shape[1] for o in outs] == [64, 128]


@pytest.mark.parametrize('mode, frozen', [
    ('none', set()),
    ('stem', {'bn1'}),
    ('all', {
        'bn1', 'layer1.0.bn1', 'layer1.0.bn2', 'layer1.0.bn3',
        'layer1.0.downsample.1'
    }),
])
def test_frozen_bn_affine(mode, frozen):
    model = tiny(frozen_bn_affine=mode)
    for name, module in model.named_modules():
        if name.startswith('layer1') or name == 'bn1':
            if isinstance(module, _BatchNorm):
                assert all(p.requires_grad != (name in frozen)
                           for p in module.parameters()), name
    # convs always train
    assert all(m.weight.requires_grad for m in model.modules()
               if isinstance(m, nn.Conv2d))
    if mode == 'all':
        assert not any(p.requires_grad
                       for m in model.modules() if isinstance(m, _BatchNorm)
                       for p in m.parameters())


def test_frozen_affine_keeps_batch_statistics():
    model = tiny(frozen_bn_affine='all')
    model.train()
    assert all(m.training for m in model.modules()
               if isinstance(m, _BatchNorm))
    before = model.layer4[0].bn3.running_mean.clone()
    sum(o.sum() for o in model(torch.randn(2, 3, 33, 33))).backward()
    # running stats move (train mode) but frozen affine gets no gradient
    assert not torch.equal(before, model.layer4[0].bn3.running_mean)
    assert model.layer4[0].bn3.weight.grad is None
    assert model.layer4[0].conv3.weight.grad is not None


def test_norm_eval_puts_bn_in_eval_mode():
    model = tiny(norm_eval=True)
    model.train()
    assert not any(m.training
                   for m in model.modules() if isinstance(m, _BatchNorm))
    assert model.training


def test_torchvision_dilation_convention():
    model = tiny(
        stage_blocks=(2, 2, 2, 2), style='pytorch', contract_dilation=True)
    # torchvision replace_stride_with_dilation=[False, True, True]:
    # layer3 dilations 1, 2; layer4 dilations 2, 4; stride on the 3x3.
    expected = {1: (1, [1, 1]), 2: (2, [1, 1]), 3: (1, [1, 2]), 4: (1, [2, 4])}
    for stage, (stride, dilations) in expected.items():
        for index, block in enumerate(getattr(model, f'layer{stage}')):
            assert_conv(block.conv1, 1, 1)
            assert_conv(block.conv2, 3, stride if index == 0 else 1,
                        dilations[index])


def test_stage_blocks_override_depth():
    model = tiny(stage_blocks=(1, 2, 1, 3))
    assert [len(getattr(model, f'layer{i}')) for i in range(1, 5)] == \
        [1, 2, 1, 3]
    assert set(model.state_dict()) == legacy_key_set((1, 2, 1, 3))
    # the class table is untouched
    assert DeepLabResNet.arch_settings[101][1] == (3, 4, 23, 3)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(depth=18), KeyError, 'depth 18'),
    (dict(frozen_bn_affine='some'), ValueError, 'frozen_bn_affine'),
    (dict(stage_blocks=(1, 1, 1)), ValueError, 'stage_blocks'),
    (dict(deep_stem=True), ValueError, 'deep_stem'),
])
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DeepLabResNet(**kwargs)


def plain_frozen_bn(x, weight, bias, mean, var, eps):
    shape = (1, -1, 1, 1)
    return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) * \
        weight.view(shape) + bias.view(shape)


@pytest.mark.parametrize('eps', [0., 1e-5])
def test_frozen_batch_norm_formula(eps):
    norm = FrozenBatchNorm2d(3, eps=eps)
    # float64: the layer folds the formula into scale/shift, so float32
    # rounding would differ from the direct formula near zero outputs
    stats = dict(
        weight=torch.tensor([0.5, 2., -1.]),
        bias=torch.tensor([0.1, -0.2, 0.3]),
        running_mean=torch.tensor([1., -1., 0.5]),
        running_var=torch.tensor([4., 0.25, 1e-4]))
    stats = {k: v.double() for k, v in stats.items()}
    state = dict(stats, num_batches_tracked=torch.tensor(7))
    # a trainable-BN checkpoint, step counter included, loads strictly
    norm.double().load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    expected = plain_frozen_bn(x, *stats.values(), eps)
    norm.train()
    assert torch.allclose(norm(x), expected, rtol=1e-10, atol=1e-10)
    assert list(norm.parameters()) == []
    # eps matters for the small-variance channel: FADA's formula has none
    other = plain_frozen_bn(x, *stats.values(), 1e-5 - eps)
    assert not torch.allclose(norm(x)[:, 2], other[:, 2], rtol=1e-3)


def test_frozen_bn_norm_cfg():
    model = tiny(norm_cfg=dict(type='FrozenBN', eps=0.))
    norms = [m for m in model.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert len(norms) == 1 + 4 * 3 + 4
    assert all(m.eps == 0. for m in norms)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    # BN state-dict names are kept (bn1, downsample.1), minus the counter
    assert set(model.state_dict()) == {
        k
        for k in legacy_key_set((1, 1, 1, 1))
        if not k.endswith('num_batches_tracked')
    }
