"""CAG-UDA's category anchors: their running-mean update, active target
sample identification (ATI) and pseudo-label assignment (PLA)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

IGNORE_INDEX = 255


def resize_labels(labels: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest-resize integer labels, shape (B, H, W) -> (B, h, w)."""
    return F.interpolate(
        labels.unsqueeze(1).float(), size=size,
        mode='nearest').squeeze(1).long()


def update_anchors(anchors: Tensor,
                   counts: Tensor,
                   feature: Tensor,
                   labels: Tensor,
                   prediction: Tensor,
                   min_pixels: int = 10,
                   max_count: int = 3000) -> None:
    """Fold one batch into the anchors, in place (the released rule).

    For each image and class with at least ``min_pixels`` correctly
    predicted pixels (``labels == prediction == c``), the masked mean
    feature ``v`` updates ``anchor_c <- (n * anchor_c + v) / (n + 1)`` and
    ``n <- min(n + 1, max_count)``, images in batch order: a running mean
    whose count saturates, after which each image has weight
    ``1 / (max_count + 1)``. As in the release, a ``v`` whose components
    sum to exactly 0 is skipped (not folded in, not counted); both anchor
    spaces follow a ReLU, so that means an all-zero feature, whatever the
    summation order.

    Args:
        anchors (Tensor): Shape (C, D), updated in place.
        counts (Tensor): Shape (C,), per-class counts, updated in place.
        feature (Tensor): Shape (B, D, h, w).
        labels (Tensor): Ground truth at the feature size, (B, h, w).
        prediction (Tensor): Argmax of the model, (B, h, w).
        min_pixels (int): Defaults to 10.
        max_count (int): Defaults to 3000.
    """
    num_classes = anchors.shape[0]
    classes = torch.arange(num_classes, device=labels.device)
    masks = ((labels.unsqueeze(1) == classes.view(1, -1, 1, 1)) &
             (prediction.unsqueeze(1) == labels.unsqueeze(1))).to(
                 feature.dtype)
    pixels = masks.sum(dim=(2, 3))  # (B, C)
    means = torch.einsum('bchw,bdhw->bcd', masks, feature) / pixels.clamp(
        min=1).unsqueeze(-1)
    nonzero = means.sum(dim=-1) != 0  # (B, C)
    for b in range(feature.shape[0]):
        valid = (pixels[b] >= min_pixels) & nonzero[b]
        n = counts[valid].to(anchors.dtype).unsqueeze(1)
        anchors[valid] = (anchors[valid] * n + means[b, valid]) / (n + 1)
        counts[valid] = (counts[valid] + 1).clamp(max=max_count)


def anchor_distances(feature: Tensor, anchors: Tensor) -> Tensor:
    """Euclidean distance of every pixel's feature to every anchor.

    Computed class by class on the raw features (no matrix-product
    shortcut, which loses precision), shape (B, D, h, w) x (C, D) ->
    (B, C, h, w).
    """
    return torch.stack([(feature - a.view(1, -1, 1, 1)).pow(2).sum(1).sqrt()
                        for a in anchors.to(feature.dtype)],
                       dim=1)


def anchor_pseudo_labels(feature: Tensor,
                         anchors: Tensor,
                         margin: float = 2.5) -> Tensor:
    """ATI + PLA: labels of the active target pixels.

    A pixel is active iff (second-smallest - smallest) anchor distance is
    at least ``margin``; it is labelled with its nearest anchor's class
    (the first on ties, which are never active for ``margin > 0``); other
    pixels get 255.

    Args:
        feature (Tensor): Frozen model's target feature, (B, D, h, w).
        anchors (Tensor): Shape (C, D), C >= 2.
        margin (float): Delta_d. Defaults to 2.5.

    Returns:
        Tensor: Long labels, shape (B, h, w).
    """
    distances = anchor_distances(feature, anchors)
    nearest2 = distances.topk(2, dim=1, largest=False).values
    active = (nearest2[:, 1] - nearest2[:, 0]) >= margin
    labels = distances.argmin(dim=1)
    return torch.where(active, labels, torch.full_like(labels, IGNORE_INDEX))


def probability_pseudo_labels(logits: Tensor,
                              threshold: float = 0.95) -> Tensor:
    """Argmax where the max softmax probability exceeds ``threshold``
    (strictly), else 255; shape (B, C, h, w) -> (B, h, w)."""
    confidence, labels = F.softmax(logits.float(), dim=1).max(dim=1)
    return torch.where(confidence > threshold, labels,
                       torch.full_like(labels, IGNORE_INDEX))
