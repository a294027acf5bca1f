"""DAFormerHead (METHODS.md sec. 7.2): every fusion equals a module tree
built here in plain PyTorch (weights copied by position, so names, shapes,
missing biases and the order of the layers are all checked), the released
initialisation's statistics, and bad options named."""
import importlib.util
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401

HERE = osp.dirname(osp.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'release_daformer', osp.join(HERE, '..', 'release_daformer.py'))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

IN_CHANNELS = (8, 16, 24, 32)
EMBED, CHANNELS, NUM_CLASSES = 12, 10, 5


def build_head(fusion, **kwargs):
    head = MODELS.build(
        dict(
            type='DAFormerHead',
            in_channels=IN_CHANNELS,
            channels=CHANNELS,
            embed_dims=EMBED,
            fusion=fusion,
            num_classes=NUM_CLASSES,
            **kwargs))
    head.init_weights()
    return head


def copy_by_position(source: nn.Module, target: nn.Module) -> None:
    src = list(source.state_dict().values())
    dst = list(target.state_dict().values())
    assert len(src) == len(dst), (len(src), len(dst))
    with torch.no_grad():
        for i, (s, d) in enumerate(zip(src, dst)):
            assert s.shape == d.shape, (i, s.shape, d.shape)
            d.copy_(s)


def features(sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, c, h, w, generator=g)
            for c, (h, w) in zip(IN_CHANNELS, sizes)]


# F1 = 8 x F4 (512 crops), and a size where it is not (F1 15 x 17, F4
# 2 x 3: the x8 upsampling of sepaspp_bottleneck gives 16 x 24, resized
# after its context module as the release does)
SIZES = [[(16, 16), (8, 8), (4, 4), (2, 2)],
         [(15, 17), (8, 9), (4, 5), (2, 3)]]


@pytest.mark.parametrize('fusion',
                         ['sepaspp', 'aspp', 'conv1', 'sepaspp_bottleneck'])
@pytest.mark.parametrize('sizes', SIZES)
def test_forward_equals_the_plain_module_tree(fusion, sizes):
    torch.manual_seed(0)
    reference = ref.randomise(
        ref.Head(IN_CHANNELS, EMBED, CHANNELS, NUM_CLASSES, fusion)).eval()
    head = build_head(fusion).eval()
    copy_by_position(reference, head)
    feats = features(sizes)
    out = head(feats)
    assert out.shape == (2, NUM_CLASSES, *sizes[0])
    torch.testing.assert_close(out, reference(feats), rtol=1e-5, atol=1e-5)
    # and the release's names (the converter keeps them)
    assert list(head.state_dict()) == list(reference.state_dict())


def test_train_mode_uses_batch_statistics_and_dropout2d():
    """BN on the batch's statistics (as the plain tree in train mode), and
    BaseDecodeHead's Dropout2d(0.1) before conv_seg: zeroed channels."""
    reference = ref.randomise(
        ref.Head(IN_CHANNELS, EMBED, CHANNELS, NUM_CLASSES)).train()
    head = build_head('sepaspp').train()
    copy_by_position(reference, head)
    assert isinstance(head.dropout, nn.Dropout2d) and head.dropout.p == 0.1
    head.dropout.p = 0.0  # the plain tree has none
    feats = features(SIZES[0])
    torch.testing.assert_close(head(feats), reference(feats), rtol=1e-5,
                               atol=1e-5)


def test_released_initialisation():
    """ConvModules Kaiming-normal fan-out (std sqrt(2 / (out k k))), BN 1 /
    0, no conv bias before BN, linear layers PyTorch's default
    (U(+-1/sqrt(fan_in))), conv_seg N(0, 0.01) bias 0."""
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='DAFormerHead', in_channels=(32, 64, 96, 128),
             channels=64, embed_dims=64, num_classes=19))
    head.init_weights()
    convs = [m for m in head.modules()
             if isinstance(m, nn.Conv2d) and m is not head.conv_seg]
    # 1 + 3 x (dw + pw) + bottleneck
    assert len(convs) == 8
    for conv in convs:
        assert conv.bias is None
        out, _, kh, kw = conv.weight.shape
        std = math.sqrt(2.0 / (out * kh * kw))
        w = conv.weight.flatten()
        assert abs(w.mean().item()) < 4 * std / math.sqrt(w.numel())
        assert w.std().item() == pytest.approx(std, rel=0.1), conv
    for bn in (m for m in head.modules() if isinstance(m, nn.BatchNorm2d)):
        assert torch.equal(bn.weight, torch.ones_like(bn.weight))
        assert torch.equal(bn.bias, torch.zeros_like(bn.bias))
    for embed in head.embed_layers:
        bound = 1 / math.sqrt(embed.proj.in_features)
        w = embed.proj.weight
        assert w.abs().max().item() <= bound
        assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)
        assert embed.proj.bias.abs().max().item() <= bound
    w = head.conv_seg.weight.flatten()
    assert w.std().item() == pytest.approx(0.01, rel=0.1)
    assert abs(w.mean().item()) < 4 * 0.01 / math.sqrt(w.numel())
    assert torch.equal(head.conv_seg.bias,
                       torch.zeros_like(head.conv_seg.bias))


def test_depthwise_branches_have_the_dilations():
    head = build_head('sepaspp')
    branches = head.fuse_layer.aspp_modules
    assert branches[0].conv.kernel_size == (1, 1)
    for i, d in enumerate((6, 12, 18), 1):
        branch = branches[i]
        dw = branch.depthwise_conv.conv
        assert (dw.dilation, dw.padding, dw.groups) == ((d, d), (d, d),
                                                        4 * EMBED)
    assert head.fuse_layer.bottleneck.conv.kernel_size == (3, 3)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="fusion.*'isa'"):
        build_head('isa')
    with pytest.raises(ValueError, match='3 embed_dims for 4'):
        MODELS.build(dict(type='DAFormerHead', in_channels=IN_CHANNELS,
                          embed_dims=(4, 4, 4), num_classes=2))
    with pytest.raises(ValueError, match='input_transform'):
        build_head('sepaspp', input_transform='resize_concat')
