"""Converters: legacy Res_Deeplab and torchvision ResNet -> mmseg_uda.

The source networks are written here from their specifications (plain
PyTorch, small widths) so the test checks identical outputs, not just keys.
"""
import argparse
import importlib.util
import os.path as osp
import pickle
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint
from mmseg.registry import MODELS

from mmseg_uda.models.utils.checkpoint_converters import (
    convert_deeplabv2_legacy, unwrap_state_dict)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MULTI_CFG = osp.join(REPO, 'configs/_base_/models/deeplabv2_r101_multi.py')
BASE_CFG = osp.join(REPO, 'configs/_base_/models/deeplabv2_r101.py')
WIDTH = 4  # legacy 64; every channel count scales with it
DILATIONS = (6, 12, 18, 24)


def load_tool(name):
    path = osp.join(REPO, 'tools', 'model_converters', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


# --- legacy DeepLab-V2 (Res_Deeplab) network, from its specification ---


class LegacyBottleneck(nn.Module):
    """Caffe style: stride on conv1, dilation = padding on conv2."""

    def __init__(self,
                 inplanes,
                 planes,
                 stride=1,
                 dilation=1,
                 downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes,
            planes,
            3,
            1,
            padding=dilation,
            dilation=dilation,
            bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + residual)


class LegacyClassifier(nn.Module):
    """ASPP-sum over all four branches."""

    def __init__(self, inplanes, num_classes):
        super().__init__()
        self.conv2d_list = nn.ModuleList(
            nn.Conv2d(inplanes, num_classes, 3, padding=d, dilation=d)
            for d in DILATIONS)

    def forward(self, x):
        return sum(conv(x) for conv in self.conv2d_list)


class LegacyResDeeplab(nn.Module):

    def __init__(self, layers, num_classes=19, multi_level=True):
        super().__init__()
        self.inplanes = WIDTH
        self.multi_level = multi_level
        self.conv1 = nn.Conv2d(3, WIDTH, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(WIDTH)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.layer1 = self._make_layer(WIDTH, layers[0])
        self.layer2 = self._make_layer(WIDTH * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(WIDTH * 4, layers[2], dilation=2)
        self.layer4 = self._make_layer(WIDTH * 8, layers[3], dilation=4)
        if multi_level:
            self.layer5 = LegacyClassifier(WIDTH * 16, num_classes)
            self.layer6 = LegacyClassifier(WIDTH * 32, num_classes)
        else:
            self.layer5 = LegacyClassifier(WIDTH * 32, num_classes)

    def _make_layer(self, planes, blocks, stride=1, dilation=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4 or dilation in (2, 4):
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4))
        layers = [
            LegacyBottleneck(self.inplanes, planes, stride, dilation,
                             downsample)
        ]
        self.inplanes = planes * 4
        layers += [
            LegacyBottleneck(self.inplanes, planes, 1, dilation)
            for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x3 = self.layer3(self.layer2(self.layer1(x)))
        x4 = self.layer4(x3)
        if self.multi_level:
            return self.layer6(x4), self.layer5(x3)
        return self.layer5(x4), None


# --- torchvision ResNet layout, from its specification ---


class FrozenBNNoEps(nn.Module):
    """maskrcnn-benchmark frozen BN: (x - mean) / sqrt(var) * w + b."""

    def __init__(self, channels):
        super().__init__()
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            self.register_buffer(name, torch.ones(channels))

    def forward(self, x):
        shape = (1, -1, 1, 1)
        return (x - self.running_mean.view(shape)) / \
            self.running_var.view(shape).sqrt() * self.weight.view(shape) + \
            self.bias.view(shape)


class TVBottleneck(nn.Module):
    """Pytorch style: stride and dilation on conv2."""

    def __init__(self, inplanes, planes, stride, dilation, downsample, norm):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = norm(planes)
        self.conv2 = nn.Conv2d(
            planes,
            planes,
            3,
            stride,
            padding=dilation,
            dilation=dilation,
            bias=False)
        self.bn2 = norm(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = norm(planes * 4)
        self.downsample = downsample

    forward = LegacyBottleneck.forward


class TVResNet(nn.Module):
    """replace_stride_with_dilation=[False, True, True], floor max-pool."""

    def __init__(self, layers, norm):
        super().__init__()
        self.norm, self.inplanes, self.dilation = norm, WIDTH, 1
        self.conv1 = nn.Conv2d(3, WIDTH, 7, 2, padding=3, bias=False)
        self.bn1 = norm(WIDTH)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        self.layer1 = self._make_layer(WIDTH, layers[0], 1, False)
        self.layer2 = self._make_layer(WIDTH * 2, layers[1], 2, False)
        self.layer3 = self._make_layer(WIDTH * 4, layers[2], 2, True)
        self.layer4 = self._make_layer(WIDTH * 8, layers[3], 2, True)
        self.fc = nn.Linear(WIDTH * 32, 10)

    def _make_layer(self, planes, blocks, stride, dilate):
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                self.norm(planes * 4))
        layers = [
            TVBottleneck(self.inplanes, planes, stride, previous_dilation,
                         downsample, self.norm)
        ]
        self.inplanes = planes * 4
        layers += [
            TVBottleneck(self.inplanes, planes, 1, self.dilation, None,
                         self.norm) for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        feats = []
        for index in range(1, 5):
            x = getattr(self, f'layer{index}')(x)
            feats.append(x)
        return feats


def randomize(net):
    """Random weights and BN statistics, so a mix-up cannot go unseen."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith('num_batches_tracked'):
                tensor.fill_(3)
            elif name.endswith('running_var') or (name.endswith('weight')
                                                  and tensor.dim() == 1):
                tensor.uniform_(0.5, 1.5)
            elif tensor.dim() == 1:
                tensor.normal_(0, 0.1)
            else:
                fan_in = tensor[0].numel()
                tensor.normal_(0, (2 / fan_in)**0.5)
    return net.eval()


def build_model(cfg_path, num_classes=19, **backbone):
    cfg = Config.fromfile(cfg_path)
    backbone.setdefault('stage_blocks', (1, 1, 1, 1))
    cfg.model.backbone.update(
        stem_channels=WIDTH, base_channels=WIDTH, **backbone)
    cfg.model.decode_head.update(
        in_channels=WIDTH * 32, num_classes=num_classes)
    if 'auxiliary_head' in cfg.model:
        cfg.model.auxiliary_head.update(
            in_channels=WIDTH * 16, num_classes=num_classes)
    return MODELS.build(cfg.model).eval()


def head_logits(model, x):
    with torch.no_grad():
        feats = model.extract_feat(x)
        low = model.auxiliary_head(feats) if model.with_auxiliary_head \
            else None
        return model.decode_head(feats), low


@pytest.mark.parametrize('variant', ['module_prefix', 'no_counters'])
def test_legacy_multi_level_gives_identical_logits(tmp_path, variant):
    legacy = randomize(LegacyResDeeplab((2, 1, 2, 1)))
    state = legacy.state_dict()
    if variant == 'module_prefix':
        saved = dict(
            state_dict={
                f'module.{k}': v
                for k, v in state.items()
            },
            iteration=5)
    else:
        saved = OrderedDict((k, v) for k, v in state.items()
                            if not k.endswith('num_batches_tracked'))
    torch.save(saved, tmp_path / 'legacy.pth')
    load_tool('deeplabv2_legacy').main(
        [str(tmp_path / 'legacy.pth'),
         str(tmp_path / 'out.pth')])

    model = build_model(MULTI_CFG, stage_blocks=(2, 1, 2, 1))
    # strict: every key of the model is in the file and nothing else
    load_checkpoint(model, str(tmp_path / 'out.pth'), strict=True)
    x = torch.randn(2, 3, 61, 75)
    main, low = head_logits(model, x)
    with torch.no_grad():
        legacy_main, legacy_low = legacy(x)
    # 61x75 -conv-> 31x38 -ceil pool-> 16x20 -layer2-> 8x10
    assert main.shape == (2, 19, 8, 10)
    assert torch.allclose(main, legacy_main, rtol=1e-5, atol=1e-5)
    assert torch.allclose(low, legacy_low, rtol=1e-5, atol=1e-5)


def test_legacy_init_weights_single_level(tmp_path, capsys):
    # the published init: "Scale." prefix, no BN counters, a 21-class
    # classifier named layer5 that sits on layer4
    legacy = randomize(
        LegacyResDeeplab((1, 1, 1, 1), num_classes=21, multi_level=False))
    torch.save(
        {
            f'Scale.{k}': v
            for k, v in legacy.state_dict().items()
            if not k.endswith('num_batches_tracked')
        }, tmp_path / 'init.pth')
    tool = load_tool('deeplabv2_legacy')
    tool.main([str(tmp_path / 'init.pth'), str(tmp_path / 'keep.pth')])
    report = capsys.readouterr().out
    assert 'layer5 (4 branches, 21 classes, 128 input channels) -> ' \
        'decode_head' in report
    assert 'Added 17 BN num_batches_tracked' in report

    model = build_model(BASE_CFG, num_classes=21)
    load_checkpoint(model, str(tmp_path / 'keep.pth'), strict=True)
    x = torch.randn(1, 3, 50, 47)
    with torch.no_grad():
        assert torch.allclose(
            head_logits(model, x)[0], legacy(x)[0], rtol=1e-5, atol=1e-5)

    tool.main([
        str(tmp_path / 'init.pth'),
        str(tmp_path / 'drop.pth'), '--drop-classifier'
    ])
    assert 'Dropped 8 keys' in capsys.readouterr().out
    dropped = torch.load(tmp_path / 'drop.pth', weights_only=True)
    keys = set(dropped['state_dict'])
    assert all(k.startswith('backbone.') for k in keys)
    assert keys == {
        f'backbone.{k}'
        for k in legacy.state_dict() if not k.startswith('layer5')
    }
    assert len(dropped['meta']['dropped']) == 8
    assert dropped['meta']['converter'] == 'deeplabv2_legacy'


def test_legacy_resnet101_key_layout():
    # the real depth (3, 4, 23, 3) at a tiny width: keys and shapes only
    legacy = LegacyResDeeplab((3, 4, 23, 3))
    converted, summary = convert_deeplabv2_legacy(
        unwrap_state_dict({'model': legacy.state_dict()}, 'mem'))
    model = build_model(MULTI_CFG, stage_blocks=None)
    assert len(model.backbone.layer3) == 23
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in converted.items()} == expected
    assert summary.dropped == []


def test_classifier_only_file_uses_resnet101_channels():
    state = {
        f'layer{n}.conv2d_list.{i}.{p}':
        torch.zeros((19, c, 3, 3) if p == 'weight' else (19, ))
        for n, c in ((5, 1024), (6, 2048))
        for i in range(4)
        for p in ('weight', 'bias')
    }
    converted, _ = convert_deeplabv2_legacy(state)
    assert converted['auxiliary_head.aspp_convs.3.weight'].shape[1] == 1024
    assert converted['decode_head.aspp_convs.0.weight'].shape[1] == 2048


@pytest.mark.parametrize('state, error, match', [
    ({
        'conv1.weight': torch.zeros(1),
        'layer7.x': torch.zeros(1)
    }, KeyError, "unknown key 'layer7.x'"),
    ({
        'layer1.0.conv1.bias': torch.zeros(1)
    }, KeyError, "'layer1.0.conv1.bias'"),
    ({
        'state_dict': {
            'conv1.weight': 'oops'
        }
    }, ValueError, "'conv1.weight'"),
    ({
        'epoch': 3
    }, ValueError, "'epoch'"),
    ({
        'conv1.weight': torch.zeros(1),
        'module.conv1.weight': torch.zeros(1)
    }, ValueError, 'both become'),
])
def test_bad_input_raises_clear_error(state, error, match):
    with pytest.raises(error, match=match):
        convert_deeplabv2_legacy(
            unwrap_state_dict(state, 'bad.pth'), source='bad.pth')


def test_classifier_on_unknown_feature_raises():
    legacy = LegacyResDeeplab((1, 1, 1, 1))
    state = legacy.state_dict()
    state['layer5.conv2d_list.0.weight'] = torch.zeros(19, 7, 3, 3)
    with pytest.raises(ValueError, match='layer5 has branch weights'):
        convert_deeplabv2_legacy(state)
    state = {
        k: v
        for k, v in legacy.state_dict().items() if not k.startswith('layer5')
    }
    state.update({
        k.replace('layer6', 'layer5'): v
        for k, v in legacy.state_dict().items() if k.startswith('layer6')
    })
    state.update({
        k: v
        for k, v in legacy.state_dict().items() if k.startswith('layer6')
    })
    with pytest.raises(ValueError, match='both read the 128-channel'):
        convert_deeplabv2_legacy(state)


def test_missing_file_and_unsafe_pickle(tmp_path):
    tool = load_tool('deeplabv2_legacy')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        tool.main([str(tmp_path / 'nope.pth'), str(tmp_path / 'o.pth')])
    state = LegacyResDeeplab((1, 1, 1, 1)).state_dict()
    torch.save({
        'state_dict': state,
        'args': argparse.Namespace(lr=1.)
    }, tmp_path / 'pickled.pth')
    with pytest.raises(pickle.UnpicklingError, match='--unsafe-load'):
        tool.main([str(tmp_path / 'pickled.pth'), str(tmp_path / 'o.pth')])
    assert not (tmp_path / 'o.pth').exists()
    tool.main([
        str(tmp_path / 'pickled.pth'),
        str(tmp_path / 'o.pth'), '--unsafe-load'
    ])
    saved = torch.load(tmp_path / 'o.pth', weights_only=True)
    assert len(saved['state_dict']) == len(state)
    # the write went through a temporary file that is gone now
    assert sorted(p.name
                  for p in tmp_path.iterdir()) == ['o.pth', 'pickled.pth']


@pytest.mark.parametrize('frozen', [False, True])
def test_torchvision_gives_identical_features(tmp_path, frozen):
    norm = FrozenBNNoEps if frozen else nn.BatchNorm2d
    tv_net = randomize(TVResNet((2, 1, 2, 2), norm))
    torch.save(tv_net.state_dict(), tmp_path / 'tv.pth')
    load_tool('torchvision_resnet').main(
        [str(tmp_path / 'tv.pth'),
         str(tmp_path / 'out.pth')])
    converted = torch.load(tmp_path / 'out.pth', weights_only=True)
    assert 'fc.weight (ImageNet classifier, unused by segmentation)' in \
        converted['meta']['dropped']

    norm_cfg = dict(type='FrozenBN', eps=0.) if frozen else dict(type='BN')
    model = build_model(
        BASE_CFG,
        stage_blocks=(2, 1, 2, 2),
        style='pytorch',
        contract_dilation=True,
        maxpool_ceil_mode=False,
        norm_cfg=norm_cfg)
    backbone_keys = {f'backbone.{k}' for k in model.backbone.state_dict()}
    # FrozenBN has no step counter; the converter adds one for plain BN
    assert {
        k
        for k in converted['state_dict']
        if not (frozen and k.endswith('num_batches_tracked'))
    } == backbone_keys
    load_checkpoint(model, str(tmp_path / 'out.pth'), strict=False)
    x = torch.randn(1, 3, 61, 75)
    with torch.no_grad():
        ours, theirs = model.extract_feat(x), tv_net(x)
    assert [tuple(f.shape[2:]) for f in ours] == [(16, 19), (8, 10), (8, 10),
                                                  (8, 10)]
    for mine, ref in zip(ours, theirs):
        # FrozenBN folds the formula into scale/shift: rounding differs
        assert torch.allclose(
            mine, ref, rtol=1e-5, atol=1e-5 * ref.abs().max().item())
