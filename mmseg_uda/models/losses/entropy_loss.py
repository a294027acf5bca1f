from typing import Optional, Tuple

import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .target_prediction_loss import TargetPredictionLoss


@MODELS.register_module()
class EntropyLoss(TargetPredictionLoss):
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
        super().__init__(loss_weight, iw_ratio, loss_name)

    def elementwise(self, seg_logits: Tensor) -> Tuple[Tensor, Tensor]:
        """``-p * log p`` (with ``log p = log_softmax``) and ``p``."""
        log_probs = F.log_softmax(seg_logits, dim=1)
        probs = log_probs.exp()
        return -probs * log_probs, probs
