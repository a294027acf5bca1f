from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .image_wise_weights import (check_iw_ratio, check_seg_logits,
                                 image_wise_weighted_sum)


@MODELS.register_module()
class MaxSquareLoss(nn.Module):
    """Maximum squares loss for unlabelled target images.

    From "Domain Adaptation for Semantic Segmentation with Maximum Squares
    Loss" (Chen et al., ICCV 2019).
    ``p = softmax(seg_logits)`` is *not* detached, as in the authors'
    implementation.

    Plain form (``iw_ratio=None``)::

        loss = -mean(p ** 2) / 2        # mean over all B*C*H*W elements

    The paper's Eq. 6 is ``-1/(2N) * sum_n sum_c p ** 2`` (a mean over the N
    pixels of the class sum), i.e. ``C`` times this value. The authors'
    implementation, whose scale the published lambda_T = 0.1 was tuned for,
    averages over the classes too; this class reproduces the implementation,
    so the paper's Eq. 6 equals ``C * loss``.

    Image-wise weighted form (``iw_ratio=alpha``, 0.2 in the paper): per
    image, ``n_c`` pixels have argmax ``c`` and ``N = sum_c n_c``; the class
    weight is ``w_c = 1 / max(n_c ** alpha * N ** (1 - alpha), 1)`` and each
    pixel gets the (detached) weight of its argmax class on all C channels::

        loss = -sum(p ** 2 * w) / (B * C)   # a sum over pixels, no 1/2

    The paper's Eq. 13 is ``-sum_n sum_c p ** 2 / (2 * N_c ** alpha *
    N ** (1 - alpha))`` with the weight indexed by the channel ``c``. The
    implementation differs in three ways, all reproduced here: it has no
    ``1/2`` and an extra ``1/C`` (so Eq. 13 would be ``C/2`` times the value
    if the weights were indexed alike), it indexes the weight by the pixel's
    argmax class, and it clamps the denominator at 1. Unlike the reference
    code, which only broadcasts correctly for batch 1, the weights are
    computed per image, so a batch gives the mean of per-image losses.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        iw_ratio (float, optional): Exponent alpha of the image-wise
            class-balanced weights, in [0, 1]. None disables the weighting.
            Defaults to None.
        loss_name (str): Name of the loss item; it must start with ``loss_``
            to be included in the backward graph.
            Defaults to 'loss_max_square'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 iw_ratio: Optional[float] = None,
                 loss_name: str = 'loss_max_square') -> None:
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
        probs = F.softmax(seg_logits, dim=1)
        if self.iw_ratio is None:
            loss = -probs.pow(2).mean() / 2
        else:
            loss = image_wise_weighted_sum(-probs.pow(2), probs, self.iw_ratio)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of this loss item, used as its key in the losses dict.

        Returns:
            str: The name of this loss item.
        """
        return self._loss_name
