import math

import pytest
import torch
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401  (registers the losses)
from mmseg_uda.models.losses import SelfGuidanceLoss


def _logits(*pairs):
    """(1, 2, 1, W) logits from per-pixel (class-0, class-1) probabilities."""
    probs = torch.tensor(pairs, dtype=torch.float64)  # (W, 2)
    return probs.log().t().reshape(1, 2, 1, len(pairs))


@pytest.fixture
def hand_case():
    """Three pixels, C = 2, threshold 0.95.

    pixel 0: p_f = (0.99, 0.01), p_l = (0.3, 0.7)  -> p_e = (0.645, 0.355)
             main is confident, label 0 (the ensemble overrules low's argmax)
    pixel 1: p_f = (0.5, 0.5),   p_l = (0.04, 0.96) -> p_e = (0.27, 0.73)
             low is confident, label 1
    pixel 2: p_f = (0.9, 0.1),   p_l = (0.2, 0.8)   -> p_e = (0.55, 0.45)
             neither exceeds 0.95, ignored (label 0 for a threshold 0.85)
    """
    main = _logits((0.99, 0.01), (0.5, 0.5), (0.9, 0.1))
    low = _logits((0.3, 0.7), (0.04, 0.96), (0.2, 0.8))
    return low, main


def test_build_from_registry():
    loss = MODELS.build(
        dict(type='SelfGuidanceLoss', loss_weight=0.01, threshold=0.9))
    assert isinstance(loss, SelfGuidanceLoss)
    assert loss.loss_name == 'loss_self_guidance'
    assert loss.threshold == 0.9 and loss.ignore_index == 255


def test_pseudo_label_hand_case(hand_case):
    low, main = hand_case
    label = SelfGuidanceLoss().pseudo_label(low, main)
    assert label.tolist() == [[[0, 1, 255]]]
    label = SelfGuidanceLoss(threshold=0.85).pseudo_label(low, main)
    assert label.tolist() == [[[0, 1, 0]]]


def test_value_hand_case(hand_case):
    low, main = hand_case
    # CE of the low head: -log p_l[label], averaged over kept pixels.
    # (-ln 0.3 - ln 0.96) / 2 = (1.203973 + 0.040822) / 2 = 0.622397
    loss = SelfGuidanceLoss(loss_weight=0.5)(low, main)
    torch.testing.assert_close(loss.item(), 0.5 * 0.622397, atol=1e-6, rtol=0)
    # With threshold 0.85 pixel 2 joins with label 0: (... - ln 0.2) / 3
    loss = SelfGuidanceLoss(threshold=0.85)(low, main)
    expected = -(math.log(0.3) + math.log(0.96) + math.log(0.2)) / 3
    torch.testing.assert_close(loss.item(), expected)


def test_batch_matches_independent_formula():
    torch.manual_seed(0)
    low = torch.randn(3, 4, 5, 6).mul(4)
    main = torch.randn(3, 4, 5, 6).mul(4)
    p_f, p_l = main.softmax(1), low.softmax(1)
    keep = (p_f.max(1).values > 0.95) | (p_l.max(1).values > 0.95)
    label = ((p_f + p_l) / 2).argmax(1)
    assert 0 < keep.sum() < keep.numel()
    nll = -torch.log(p_l.gather(1, label.unsqueeze(1)).squeeze(1))
    # The mean runs over all kept pixels of the batch, not per image.
    expected = nll[keep].sum() / keep.sum()
    torch.testing.assert_close(SelfGuidanceLoss()(low, main), expected)


def test_main_gets_no_gradient():
    torch.manual_seed(1)
    low = torch.randn(2, 3, 4, 4).mul(5).requires_grad_()
    main = torch.randn(2, 3, 4, 4).mul(5).requires_grad_()
    loss = SelfGuidanceLoss()(low, main)
    loss.backward()
    assert main.grad is None
    assert low.grad is not None and low.grad.abs().sum() > 0


def test_gradcheck_low():
    torch.manual_seed(2)
    low = torch.randn(2, 3, 2, 2, dtype=torch.float64).mul(4)
    main = torch.randn(2, 3, 2, 2, dtype=torch.float64).mul(4)
    loss = SelfGuidanceLoss(threshold=0.8)
    label = loss.pseudo_label(low, main)
    assert (label != 255).any()
    assert torch.autograd.gradcheck(lambda x: loss(x, main),
                                    (low.requires_grad_(), ))


def test_all_ignored_returns_connected_zero():
    # Uniform predictions (p = 1/3) never pass the threshold.
    low = torch.zeros(2, 3, 4, 4, requires_grad=True)
    main = torch.zeros(2, 3, 4, 4)
    loss = SelfGuidanceLoss()(low, main)
    assert loss.item() == 0.0
    assert loss.requires_grad
    loss.backward()
    assert torch.equal(low.grad, torch.zeros_like(low))


def test_bad_input_raises():
    with pytest.raises(ValueError, match='threshold'):
        SelfGuidanceLoss(threshold=1.5)
    low = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match=r'main_logits \(1, 3, 2, 2\)'):
        SelfGuidanceLoss()(low, torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match='ignore_index=1 is a class index'):
        SelfGuidanceLoss(ignore_index=1)(low, low)
