"""Shared fixtures for the target-loss tests."""
import math

import pytest
import torch


def _reference_iw_weights(probs: torch.Tensor, ratio: float) -> torch.Tensor:
    """Image-wise weights written as plainly as possible (loops, no bincount).

    Returns float64 weights of shape (B, 1, H, W).
    """
    batch_size, num_classes, height, width = probs.shape
    total = height * width
    weights = torch.empty(batch_size, 1, height, width, dtype=torch.float64)
    for b in range(batch_size):
        pred = probs[b].argmax(dim=0)
        for c in range(num_classes):
            mask = pred == c
            count = int(mask.sum())
            weights[b, 0][mask] = 1.0 / max(
                count**ratio * total**(1.0 - ratio), 1.0)
    return weights


@pytest.fixture
def reference_iw_weights():
    """Independent implementation of the image-wise class weights."""
    return _reference_iw_weights


@pytest.fixture
def hand_logits() -> torch.Tensor:
    """A 1x2x2x2 case whose probabilities are round numbers.

    Pixels (0,0), (0,1), (1,0): logits (ln 3, 0) -> p = (0.75, 0.25), argmax 0.
    Pixel  (1,1):               logits (0, ln 4) -> p = (0.2, 0.8),   argmax 1.
    """
    logits = torch.zeros(1, 2, 2, 2, dtype=torch.float64)
    logits[0, 0] = math.log(3.0)
    logits[0, 0, 1, 1] = 0.0
    logits[0, 1, 1, 1] = math.log(4.0)
    return logits
