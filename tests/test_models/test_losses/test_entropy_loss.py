import math

import pytest
import torch
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401  (registers the losses)
from mmseg_uda.models.losses import EntropyLoss


def _entropy_terms(logits: torch.Tensor) -> torch.Tensor:
    """-p * log p written from the definition (fine for moderate logits)."""
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -probs * torch.log(probs)


def test_build_from_registry():
    loss = MODELS.build(dict(type='EntropyLoss', loss_weight=0.1))
    assert isinstance(loss, EntropyLoss)
    assert loss.loss_name == 'loss_entropy'
    assert loss.iw_ratio is None


def test_plain_hand_case(hand_logits):
    # H(0.75, 0.25) = 0.562335 on three pixels, H(0.2, 0.8) = 0.500402 on
    # one; mean over B*C*H*W = 8 elements:
    # (3 * 0.562335 + 0.500402) / 8 = 0.273426
    loss = EntropyLoss()(hand_logits)
    torch.testing.assert_close(loss.item(), 0.273426, atol=1e-6, rtol=0)


def test_iw_hand_case(hand_logits):
    # Weights w_0 = 0.264806, w_1 = 0.329877 (see test_image_wise_weights):
    # (3 * 0.562335 * 0.264806 + 0.500402 * 0.329877) / (B * C = 2)
    # = (0.446729 + 0.165071) / 2 = 0.305900
    loss = EntropyLoss(iw_ratio=0.2)(hand_logits)
    torch.testing.assert_close(loss.item(), 0.305900, atol=1e-6, rtol=0)


def test_matches_independent_formula(reference_iw_weights):
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    terms = _entropy_terms(logits)
    probs = logits.softmax(dim=1)
    torch.testing.assert_close(
        EntropyLoss(loss_weight=0.5)(logits), 0.5 * terms.mean())
    torch.testing.assert_close(
        EntropyLoss(iw_ratio=0.2)(logits),
        (terms * reference_iw_weights(probs, 0.2)).sum() / (2 * 5))


@pytest.mark.parametrize('iw_ratio', [None, 0.2])
def test_zero_probability_is_safe(iw_ratio):
    # exp(-1e4) underflows to p = 0 exactly; p * log(p) would be NaN.
    logits = torch.zeros(2, 3, 2, 2)
    logits[:, 2] = -1e4
    logits.requires_grad_()
    loss = EntropyLoss(iw_ratio=iw_ratio)(logits)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    # Each pixel: H = ln 2 over C = 3 channels; the IW form with one class
    # per image (N = n_0 = 4) is the same mean.
    torch.testing.assert_close(loss.item(), math.log(2) / 3)


@pytest.mark.parametrize('iw_ratio', [None, 0.2])
def test_batch_is_mean_of_images(iw_ratio):
    torch.manual_seed(1)
    logits = torch.randn(3, 4, 5, 6).mul(2)
    loss = EntropyLoss(iw_ratio=iw_ratio)
    per_image = torch.stack([loss(logits[b:b + 1]) for b in range(3)])
    torch.testing.assert_close(loss(logits), per_image.mean())


@pytest.mark.parametrize('iw_ratio', [None, 0.2])
def test_gradcheck(iw_ratio):
    torch.manual_seed(2)
    logits = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(EntropyLoss(iw_ratio=iw_ratio), (logits, ))


def test_gradient_reaches_logits():
    torch.manual_seed(3)
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    EntropyLoss(iw_ratio=0.2)(logits).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_bad_input_raises():
    with pytest.raises(ValueError, match='EntropyLoss: iw_ratio'):
        EntropyLoss(iw_ratio=-1)
    with pytest.raises(ValueError, match='EntropyLoss'):
        EntropyLoss()(torch.zeros(1, 3, 4, 4, 1))
