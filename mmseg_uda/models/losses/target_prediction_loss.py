"""Shared frame of the losses on a target image's own predictions."""
from abc import ABCMeta, abstractmethod
from typing import Optional, Tuple

import torch.nn as nn
from torch import Tensor

from .image_wise_weights import (check_iw_ratio, check_seg_logits,
                                 image_wise_weighted_sum)


class TargetPredictionLoss(nn.Module, metaclass=ABCMeta):
    """Base of MaxSquare and entropy: a per-element function of ``p``.

    Subclasses give ``elementwise(seg_logits) -> (values, probs)``, both
    (B, C, H, W). Plain form: ``plain_scale * mean(values)`` over B·C·H·W;
    image-wise weighted form (``iw_ratio=alpha``): ``sum(values * w) /
    (B·C)`` with the per-image class-balanced weights of
    :func:`image_wise_class_weights`.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        iw_ratio (float, optional): Exponent alpha of the image-wise weights,
            in [0, 1]; None disables the weighting. Defaults to None.
        loss_name (str): Key of the loss item; must start with ``loss_``.
    """

    #: Factor of the plain (unweighted) mean.
    plain_scale: float = 1.0

    def __init__(self, loss_weight: float, iw_ratio: Optional[float],
                 loss_name: str) -> None:
        super().__init__()
        check_iw_ratio(iw_ratio, type(self).__name__)
        self.loss_weight = loss_weight
        self.iw_ratio = iw_ratio
        self._loss_name = loss_name

    @abstractmethod
    def elementwise(self, seg_logits: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-element loss values and the probabilities, (B, C, H, W)."""

    def extra_repr(self) -> str:
        """Extra repr."""
        return f'loss_weight={self.loss_weight}, iw_ratio={self.iw_ratio}'

    def forward(self, seg_logits: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            seg_logits (Tensor): Target logits at the loss resolution,
                shape (B, C, H, W).

        Returns:
            Tensor: Scalar loss, already multiplied by ``loss_weight``.
        """
        check_seg_logits(seg_logits, type(self).__name__)
        values, probs = self.elementwise(seg_logits)
        if self.iw_ratio is None:
            loss = self.plain_scale * values.mean()
        else:
            loss = image_wise_weighted_sum(values, probs, self.iw_ratio)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of this loss item, used as its key in the losses dict."""
        return self._loss_name
