"""CAG-UDA's distance loss: per (image, class) mean features pulled towards
their category anchors."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

DISTANCES = ('smooth_l1', 'l2')
GRADIENTS = ('released', 'autograd')
# float32 stays below 3.4e38: 40 divisions by 10 bring any finite loss
# under the threshold, and a fixed count needs no host synchronisation.
MAX_RESCALES = 40


def class_mean_features(feature: Tensor,
                        labels: Tensor,
                        prediction: Tensor,
                        num_classes: int,
                        min_pixels: int = 10,
                        gradient: str = 'released'
                        ) -> Tuple[Tensor, Tensor]:
    """Masked per-(image, class) mean features.

    The mask of class c in image b is ``labels == c`` and
    ``prediction == c`` (CAG: the label agrees with the trained model's
    argmax). With ``gradient='released'`` the value is the mean but its
    backward is rescaled by ``2 * sum(m) / (h * w)``, so each masked pixel
    gets ``2 / (h * w)`` of the upstream gradient whatever the region size
    (the released implementation's backward); ``'autograd'`` is the plain
    mean's gradient ``1 / sum(m)``.

    Args:
        feature (Tensor): Shape (B, D, h, w).
        labels (Tensor): Shape (B, h, w), class ids; other values (255)
            are ignored.
        prediction (Tensor): Argmax of the trained model, shape (B, h, w).
        num_classes (int): C.
        min_pixels (int): A pair needs at least this many mask pixels.
            Defaults to 10.
        gradient (str): 'released' or 'autograd'. Defaults to 'released'.

    Returns:
        tuple[Tensor, Tensor]: Means, shape (B, C, D), and the boolean
        validity of each pair, shape (B, C).
    """
    if gradient not in GRADIENTS:
        raise ValueError(f'gradient must be one of {GRADIENTS}, got '
                         f'{gradient!r}')
    classes = torch.arange(num_classes, device=labels.device)
    masks = ((labels.unsqueeze(1) == classes.view(1, -1, 1, 1)) &
             (prediction.unsqueeze(1) == labels.unsqueeze(1))).to(
                 feature.dtype)
    counts = masks.sum(dim=(2, 3))
    sums = torch.einsum('bchw,bdhw->bcd', masks, feature)
    means = sums / counts.clamp(min=1).unsqueeze(-1)
    if gradient == 'released':
        height, width = feature.shape[2:]
        scale = (2 * counts / (height * width)).unsqueeze(-1)
        # Same value; backward multiplied by `scale`.
        means = means.detach() + scale * (means - means.detach())
    return means, counts >= min_pixels


@MODELS.register_module()
class AnchorDistanceLoss(nn.Module):
    """Distance of per-(image, class) mean features to their anchors.

    Released form (default; METHODS.md sec. 6.1): for every valid pair
    ``l = SmoothL1(v, anchor_c)`` (beta 1, mean over the D dims), then
    ``while l > 5: l = l / 10``; loss ``= loss_weight * sum(l) / n_pairs``
    with ``loss_weight = 10``, and 0 when no pair is valid. The paper's form
    is ``distance='l2'`` (``l = ||v - anchor_c||_2``),
    ``rescale_above=None``, ``gradient='autograd'``.

    Args:
        num_classes (int): C.
        distance (str): 'smooth_l1' or 'l2'. Defaults to 'smooth_l1'.
        rescale_above (float, optional): The rescale loop's threshold; None
            disables it. Defaults to 5.0.
        gradient (str): Backward of the masked mean, 'released' or
            'autograd' (see :func:`class_mean_features`). Defaults to
            'released'.
        min_pixels (int): Minimum mask pixels of a pair. Defaults to 10.
        loss_weight (float): Defaults to 10.0 (the release's factor).
        loss_name (str): Defaults to 'loss_dis'.
    """

    def __init__(self,
                 num_classes: int,
                 distance: str = 'smooth_l1',
                 rescale_above: Optional[float] = 5.0,
                 gradient: str = 'released',
                 min_pixels: int = 10,
                 loss_weight: float = 10.0,
                 loss_name: str = 'loss_dis') -> None:
        super().__init__()
        if distance not in DISTANCES:
            raise ValueError(f'AnchorDistanceLoss: distance must be one of '
                             f'{DISTANCES}, got {distance!r}')
        if gradient not in GRADIENTS:
            raise ValueError(f'AnchorDistanceLoss: gradient must be one of '
                             f'{GRADIENTS}, got {gradient!r}')
        self.num_classes = num_classes
        self.distance = distance
        self.rescale_above = rescale_above
        self.gradient = gradient
        self.min_pixels = min_pixels
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, feature: Tensor, labels: Tensor, prediction: Tensor,
                anchors: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feature (Tensor): Trained model's feature, shape (B, D, h, w).
            labels (Tensor): GT or anchor pseudo-labels, shape (B, h, w).
            prediction (Tensor): Trained model's argmax, shape (B, h, w).
            anchors (Tensor): Shape (C, D).

        Returns:
            Tensor: Scalar loss (0, still in the graph, without pairs).
        """
        means, valid = class_mean_features(feature, labels, prediction,
                                           self.num_classes, self.min_pixels,
                                           self.gradient)
        v = means[valid]  # (n_pairs, D)
        target = anchors.to(v.dtype).unsqueeze(0).expand_as(means)[valid]
        if self.distance == 'smooth_l1':
            pair_loss = F.smooth_l1_loss(
                v, target, reduction='none', beta=1.0).mean(dim=1)
        else:
            pair_loss = (v - target).pow(2).sum(dim=1).sqrt()
        if self.rescale_above is not None:
            for _ in range(MAX_RESCALES):
                pair_loss = torch.where(pair_loss > self.rescale_above,
                                        pair_loss / 10, pair_loss)
        n_pairs = valid.sum().clamp(min=1)
        # Without pairs the sum is 0 (and stays connected to the graph).
        return self.loss_weight * (pair_loss.sum() + 0 * feature.sum()
                                   ) / n_pairs

    @property
    def loss_name(self) -> str:
        """Name of the loss in the log."""
        return self._loss_name
