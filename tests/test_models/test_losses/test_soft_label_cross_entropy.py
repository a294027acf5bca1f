"""Soft-label cross-entropy (FADA's SCE) against a hand computation."""
import math

import pytest
import torch
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401
from mmseg_uda.models.losses import (SoftLabelCrossEntropyLoss,
                                     soft_label_cross_entropy)


def test_hand_case():
    # Two pixels, K = 4 channels (C = 2 classes x 2 domains).
    # Pixel 1: z = (ln 1, ln 2, ln 3, ln 4) -> softmax = (1, 2, 3, 4) / 10,
    #   a = (0.9, 0.1, 0, 0) (a clipped FADA label, sums to 1 here):
    #   -(0.9 ln 0.1 + 0.1 ln 0.2)
    # Pixel 2: z = 0 -> softmax = 1/4 each, a = (0, 0, 0.9, 0.9) (clipped,
    #   not renormalised: sums to 1.8): -1.8 ln 0.25
    logits = torch.zeros(1, 4, 1, 2, dtype=torch.float64)
    logits[0, :, 0, 0] = torch.tensor([1., 2., 3., 4.]).log()
    labels = torch.zeros(1, 4, 1, 2, dtype=torch.float64)
    labels[0, :, 0, 0] = torch.tensor([0.9, 0.1, 0., 0.])
    labels[0, :, 0, 1] = torch.tensor([0., 0., 0.9, 0.9])
    pixel1 = -(0.9 * math.log(0.1) + 0.1 * math.log(0.2))
    pixel2 = -1.8 * math.log(0.25)
    expected = (pixel1 + pixel2) / 2  # mean over pixels, sum over channels
    loss = soft_label_cross_entropy(logits, labels)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    module = MODELS.build(
        dict(type='SoftLabelCrossEntropyLoss', loss_weight=0.5))
    assert isinstance(module, SoftLabelCrossEntropyLoss)
    assert module.loss_name == 'loss_sce'
    assert module(logits, labels).item() == pytest.approx(
        0.5 * expected, rel=1e-6)


def test_one_softmax_over_all_channels_and_batch_mean():
    torch.manual_seed(0)
    logits, labels = torch.randn(2, 6, 3, 4), torch.rand(2, 6, 3, 4)
    # A plain loop over pixels: one softmax over the 6 channels.
    total = 0.
    for b in range(2):
        for i in range(3):
            for j in range(4):
                p = torch.softmax(logits[b, :, i, j], 0)
                total += -(labels[b, :, i, j] * p.log()).sum()
    torch.testing.assert_close(
        soft_label_cross_entropy(logits, labels), total / 24)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r'\(B, K, H, W\)'):
        soft_label_cross_entropy(
            torch.zeros(1, 4, 2, 2), torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match='soft_labels'):
        soft_label_cross_entropy(torch.zeros(4, 2), torch.zeros(4, 2))
