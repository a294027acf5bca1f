"""GPU speed settings of UDAEncoderDecoder, checked on the CPU:
``channels_last`` (same step within float tolerance, NHWC weights and
features) and ``acc_seg_stride`` (acc_seg on every s-th pixel, against a
hand computation; losses unchanged)."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from test_uda_encoder_decoder import make_batch, optim_cfg, tiny_model_cfg

import mmseg_uda  # noqa: F401

NHWC = torch.channels_last


def build(**kwargs):
    torch.manual_seed(0)
    cfg = tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1))
    model = MODELS.build(dict(cfg, **kwargs))
    model.init_weights()
    return model


def test_channels_last_step_matches_default_format():
    plain = build()
    fast = build(channels_last=True)
    fast.load_state_dict(plain.state_dict())
    convs = [p for p in fast.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=NHWC) for p in convs)
    assert all(p.is_contiguous() for p in plain.parameters())
    data = make_batch(0)[0]
    inputs = fast.data_preprocessor(copy.deepcopy(data), True)['inputs']
    fast.eval()  # no BN statistics update before the compared steps
    with torch.no_grad():
        feats = fast.extract_feat(inputs['source'])
    assert feats[-1].is_contiguous(memory_format=NHWC)
    logs = []
    for model in (plain, fast):
        model.train()
        wrapper = build_optim_wrapper(model, optim_cfg())
        logs.append([model.train_step(make_batch(s)[0], wrapper)
                     for s in range(2)])
    for log_plain, log_fast in zip(*logs):
        for key in log_plain:
            assert torch.allclose(log_plain[key], log_fast[key], rtol=1e-4,
                                  atol=1e-5), key
    for (name, a), b in zip(plain.state_dict().items(),
                            fast.state_dict().values()):
        if a.is_floating_point():
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), name
    # Inference in the same format gives the same prediction.
    plain.eval()
    fast.eval()
    img = inputs['target']
    with torch.no_grad():
        assert torch.allclose(plain._forward(img), fast._forward(img),
                              rtol=1e-4, atol=1e-4)


def hand_accuracy(logits, label, stride, align_corners):
    """Share (%) of non-ignored pixels on the stride grid whose argmax is
    the label, from the upsampled logits."""
    up = F.interpolate(logits, size=label.shape[-2:], mode='bilinear',
                       align_corners=align_corners)
    pred = up.argmax(1)[:, ::stride, ::stride]
    target = label[:, ::stride, ::stride]
    valid = target != 255
    return 100.0 * (pred[valid] == target[valid]).float().mean()


@pytest.mark.parametrize('stride', [1, 3])
def test_acc_seg_stride_measures_the_subsampled_grid(stride):
    model = build(acc_seg_stride=stride).train()
    data, _, _, label = make_batch(0)
    processed = model.data_preprocessor(copy.deepcopy(data), True)
    source = model.forward_domain(processed['inputs']['source'])
    losses = model.source_losses(source,
                                 processed['data_samples']['source'])
    expected = hand_accuracy(source.logits['main'].detach(), label[None],
                             stride, model.align_corners)
    assert losses['decode.acc_seg'].item() == pytest.approx(
        expected.item(), abs=1e-4)
    # The loss itself is computed on every pixel whatever the stride.
    full = build(acc_seg_stride=1).train()
    full_losses = full.source_losses(
        full.forward_domain(processed['inputs']['source']),
        processed['data_samples']['source'])
    assert torch.equal(losses['decode.loss_ce'], full_losses['decode.loss_ce'])


def test_acc_seg_stride_must_be_positive():
    with pytest.raises(ValueError, match='acc_seg_stride'):
        build(acc_seg_stride=0)
