from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .image_wise_weights import (check_iw_ratio, check_seg_logits,
                                 image_wise_weighted_sum)


@MODELS.register_module()
class EntropyLoss(nn.Module):
    """Entropy minimisation (MinEnt) loss for unlabelled target images.

    The MinEnt baseline of the MaxSquare paper. ``p = softmax(seg_logits)``
    is *not* detached. Plain form (``iw_ratio=None``)::

        loss = mean(-p * log p)         # mean over all B*C*H*W elements

    i.e. the per-pixel entropy (natural log) averaged over pixels and divided
    by ``C``. ``log p`` is taken as ``log_softmax(seg_logits)``, so a class
    with ``p = 0`` contributes ``0 * finite = 0`` and a finite gradient
    instead of the NaN that ``p * log(p)`` would give.

    With ``iw_ratio=alpha`` this is the IW-entropy ablation: the same
    image-wise class-balanced weights and normalisation as
    :class:`MaxSquareLoss`, ``loss = sum(-p * log p * w) / (B * C)``.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        iw_ratio (float, optional): Exponent alpha of the image-wise
            class-balanced weights, in [0, 1]. None disables the weighting.
            Defaults to None.
        loss_name (str): Name of the loss item; it must start with ``loss_``
            to be included in the backward graph. Defaults to 'loss_entropy'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 iw_ratio: Optional[float] = None,
                 loss_name: str = 'loss_entropy') -> None:
        super().__init__()
        check_iw_ratio(iw_ratio, type(self).__name__)
        self.loss_weight = loss_weight
        self.iw_ratio = iw_ratio
        self._loss_name = loss_name

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
        log_probs = F.log_softmax(seg_logits, dim=1)
        probs = log_probs.exp()
        elementwise = -probs * log_probs
        if self.iw_ratio is None:
            loss = elementwise.mean()
        else:
            loss = image_wise_weighted_sum(elementwise, probs, self.iw_ratio)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of this loss item, used as its key in the losses dict.

        Returns:
            str: The name of this loss item.
        """
        return self._loss_name
