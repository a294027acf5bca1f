import pytest
import torch
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401  (registers the losses)
from mmseg_uda.models.losses import MaxSquareLoss


def test_build_from_registry():
    loss = MODELS.build(
        dict(type='MaxSquareLoss', loss_weight=0.1, iw_ratio=0.2))
    assert isinstance(loss, MaxSquareLoss)
    assert loss.loss_name == 'loss_max_square'
    assert loss.loss_weight == 0.1 and loss.iw_ratio == 0.2
    assert MODELS.build(dict(type='MaxSquareLoss',
                             loss_name='loss_ms_t')).loss_name == 'loss_ms_t'


def test_plain_hand_case(hand_logits):
    # p^2 summed over classes: 0.75^2 + 0.25^2 = 0.625 on three pixels,
    # 0.2^2 + 0.8^2 = 0.68 on one; mean over the 8 elements, halved:
    # -(3 * 0.625 + 0.68) / 8 / 2 = -0.1596875
    loss = MaxSquareLoss()(hand_logits)
    assert loss.dim() == 0
    torch.testing.assert_close(loss.item(), -0.1596875, atol=1e-12, rtol=0)


def test_iw_hand_case(hand_logits):
    # Weights from test_image_wise_weights: w_0 = 0.264806 (three pixels),
    # w_1 = 0.329877 (one pixel). Sum over pixels, divided by B * C = 2:
    # -(3 * 0.625 * 0.264806 + 0.68 * 0.329877) / 2
    # = -(0.496511 + 0.224316) / 2 = -0.360414
    loss = MaxSquareLoss(iw_ratio=0.2)(hand_logits)
    torch.testing.assert_close(loss.item(), -0.360414, atol=1e-6, rtol=0)


def test_loss_weight_scales(hand_logits):
    torch.testing.assert_close(
        MaxSquareLoss(loss_weight=0.1, iw_ratio=0.2)(hand_logits),
        0.1 * MaxSquareLoss(iw_ratio=0.2)(hand_logits))


def test_matches_independent_formula(reference_iw_weights):
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    expected_plain = -(probs**2).sum() / probs.numel() / 2
    expected_iw = -(probs**2 * reference_iw_weights(probs, 0.2)).sum() / (2 *
                                                                          5)
    torch.testing.assert_close(MaxSquareLoss()(logits), expected_plain)
    torch.testing.assert_close(
        MaxSquareLoss(iw_ratio=0.2)(logits), expected_iw)


def test_iw_ratio_zero_is_twice_plain():
    # alpha = 0 weights every pixel by 1/N, i.e. a mean without the 1/2.
    torch.manual_seed(1)
    logits = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(
        MaxSquareLoss(iw_ratio=0.0)(logits), 2 * MaxSquareLoss()(logits))


@pytest.mark.parametrize('iw_ratio', [None, 0.2])
def test_batch_is_mean_of_images(iw_ratio):
    torch.manual_seed(2)
    logits = torch.randn(3, 4, 5, 6).mul(2)
    loss = MaxSquareLoss(iw_ratio=iw_ratio)
    per_image = torch.stack([loss(logits[b:b + 1]) for b in range(3)])
    torch.testing.assert_close(loss(logits), per_image.mean())


@pytest.mark.parametrize('iw_ratio', [None, 0.2])
def test_gradcheck(iw_ratio):
    torch.manual_seed(3)
    logits = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        MaxSquareLoss(iw_ratio=iw_ratio), (logits, ))


@pytest.mark.parametrize('iw_ratio', [None, 0.2])
def test_gradient_reaches_logits(iw_ratio):
    # Probabilities are not detached: the loss must push the logits.
    torch.manual_seed(4)
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    MaxSquareLoss(iw_ratio=iw_ratio)(logits).backward()
    assert logits.grad is not None
    assert logits.grad.abs().sum() > 0
    # Minimising increases confidence: the argmax logit's gradient is < 0.
    pred = logits.detach().argmax(dim=1, keepdim=True)
    assert (logits.grad.gather(1, pred) < 0).all()


def test_bad_input_raises():
    with pytest.raises(ValueError, match='MaxSquareLoss: iw_ratio'):
        MaxSquareLoss(iw_ratio=2.0)
    with pytest.raises(ValueError, match=r'MaxSquareLoss.*\(3, 4, 4\)'):
        MaxSquareLoss()(torch.zeros(3, 4, 4))
