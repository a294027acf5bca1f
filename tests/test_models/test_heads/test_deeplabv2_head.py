import pytest
import torch
import torch.nn.functional as F
from mmengine import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_uda.models.decode_heads import DeepLabV2Head

MULTI_CFG = 'configs/_base_/models/deeplabv2_r101_multi.py'


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def plain_aspp_sum(x, head, num_branches):
    """Independent ASPP-sum: functional convs with the head's tensors."""
    out = 0
    for conv, dilation in list(zip(head.aspp_convs,
                                   head.dilations))[:num_branches]:
        out = out + F.conv2d(
            x, conv.weight, conv.bias, padding=dilation, dilation=dilation)
    return out


def test_output_shape_and_sum_of_branches():
    head = DeepLabV2Head(in_channels=8, num_classes=5, in_index=1)
    assert head.dilations == (6, 12, 18, 24)
    inputs = [torch.randn(2, 4, 9, 9), torch.randn(2, 8, 7, 11)]
    out = head(inputs)
    assert out.shape == (2, 5, 7, 11)
    assert torch.allclose(out, plain_aspp_sum(inputs[1], head, 4), atol=1e-6)
    # each branch contributes: the sum differs from any partial sum
    assert not torch.allclose(
        out, plain_aspp_sum(inputs[1], head, 3), atol=1e-4)


def test_head_has_no_unused_parameters():
    head = DeepLabV2Head(in_channels=8, num_classes=5, in_index=0)
    assert not hasattr(head, 'conv_seg')
    assert head.dropout is None
    head([torch.randn(1, 8, 5, 5)]).sum().backward()
    # DDP without find_unused_parameters needs a grad on every trainable one
    for name, param in head.named_parameters():
        assert param.grad is not None, name
    assert {n
            for n, _ in head.named_parameters()} == {
                f'aspp_convs.{i}.{p}'
                for i in range(4)
                for p in ('weight', 'bias')
            }


def test_two_active_branches_like_maxsquare():
    head = DeepLabV2Head(
        in_channels=8, num_classes=5, in_index=0, num_active_branches=2)
    x = torch.randn(1, 8, 6, 6)
    out = head([x])
    assert torch.allclose(out, plain_aspp_sum(x, head, 2), atol=1e-6)
    # the inactive branches exist (checkpoints load) but play no part
    with torch.no_grad():
        for conv in head.aspp_convs[2:]:
            conv.weight.add_(1.)
            conv.bias.add_(1.)
    assert torch.equal(head([x]), out)
    out.sum().backward()
    for index, conv in enumerate(head.aspp_convs):
        active = index < 2
        assert conv.weight.requires_grad == active
        assert conv.bias.requires_grad == active
        assert (conv.weight.grad is not None) == active


def test_init_normal_weights_default_bias():
    head = DeepLabV2Head(in_channels=256, num_classes=19, in_index=0)
    before = [c.weight.clone() for c in head.aspp_convs]
    head.init_weights()
    for conv, weight in zip(head.aspp_convs, before):
        # init_weights must not replace the construction-time init
        assert torch.equal(conv.weight, weight)
        assert abs(conv.weight.std().item() - 0.01) < 5e-4
        assert abs(conv.weight.mean().item()) < 5e-4
        # PyTorch default bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        bound = 1 / (256 * 9)**0.5
        assert conv.bias.abs().max() <= bound
        assert conv.bias.abs().max() > bound / 4


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(num_active_branches=0), ValueError, 'num_active_branches'),
    (dict(num_active_branches=5), ValueError, 'num_active_branches'),
    (dict(dilations=()), ValueError, 'dilations'),
    (dict(channels=8), TypeError, 'channels'),
    (dict(dropout_ratio=0.1), TypeError, 'dropout_ratio'),
])
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DeepLabV2Head(in_channels=8, num_classes=5, **kwargs)


def build_tiny_multi_model():
    cfg = Config.fromfile(MULTI_CFG)
    cfg.model.backbone.update(
        stage_blocks=(1, 1, 1, 1), stem_channels=4, base_channels=4)
    cfg.model.decode_head.in_channels = 128
    cfg.model.auxiliary_head.in_channels = 64
    return MODELS.build(cfg.model)


def test_multi_level_losses_match_legacy_cross_entropy():
    torch.manual_seed(0)
    model = build_tiny_multi_model()
    assert model.with_auxiliary_head
    inputs = torch.randn(2, 3, 41, 45)
    labels = torch.randint(0, 19, (2, 1, 41, 45))
    labels[:, :, :10] = 255
    samples = [
        SegDataSample(gt_sem_seg=PixelData(data=label)) for label in labels
    ]
    losses = model.loss(inputs, samples)

    feats = model.extract_feat(inputs)
    assert feats[3].shape[2:] == (6, 6)

    def legacy_ce(logits):
        # legacy: bilinear upsampling with align_corners=True, then CE
        # averaged over the non-ignored pixels
        logits = F.interpolate(
            logits, size=(41, 45), mode='bilinear', align_corners=True)
        return F.cross_entropy(logits, labels[:, 0], ignore_index=255)

    main = legacy_ce(model.decode_head(feats))
    low = legacy_ce(model.auxiliary_head(feats))
    assert torch.allclose(losses['decode.loss_ce'], main, rtol=1e-5)
    assert torch.allclose(losses['aux.loss_ce'], 0.1 * low, rtol=1e-5)
    # a mean over all pixels (ignored ones counted) would be 10/41 smaller
    assert not torch.allclose(
        losses['decode.loss_ce'], main * 31 / 41, rtol=1e-3)
