from typing import Optional, Tuple

import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .target_prediction_loss import TargetPredictionLoss


@MODELS.register_module()
class MaxSquareLoss(TargetPredictionLoss):
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

    plain_scale = 0.5

    def __init__(self,
                 loss_weight: float = 1.0,
                 iw_ratio: Optional[float] = None,
                 loss_name: str = 'loss_max_square') -> None:
        super().__init__(loss_weight, iw_ratio, loss_name)

    def elementwise(self, seg_logits: Tensor) -> Tuple[Tensor, Tensor]:
        """``-p ** 2`` and ``p``."""
        probs = F.softmax(seg_logits, dim=1)
        return -probs.pow(2), probs
