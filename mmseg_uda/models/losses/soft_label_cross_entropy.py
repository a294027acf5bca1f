"""Cross-entropy against soft (per-pixel distribution) labels."""
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def soft_label_cross_entropy(logits: Tensor, soft_labels: Tensor) -> Tensor:
    """Mean over pixels of ``sum_j -a_j * log_softmax(z)_j``.

    One softmax over all channels of ``logits`` (FADA: the 2C
    domain x class outputs of the discriminator). The labels are used as
    given: they need not sum to 1 (FADA clips them at 0.9 without
    renormalising) and carry no gradient unless the caller lets them.

    Args:
        logits (Tensor): Scores z, shape (B, K, H, W).
        soft_labels (Tensor): Weights a, same shape as ``logits``.

    Returns:
        Tensor: Scalar loss, computed in float32 (also under autocast).

    Raises:
        ValueError: If the shapes differ or the inputs are not 4-D.
    """
    if logits.dim() != 4 or logits.shape != soft_labels.shape:
        raise ValueError('soft_label_cross_entropy: logits and soft_labels '
                         'must both have shape (B, K, H, W), got '
                         f'{tuple(logits.shape)} and '
                         f'{tuple(soft_labels.shape)}')
    log_probs = F.log_softmax(logits.float(), dim=1)
    return -(soft_labels.float() * log_probs).sum(dim=1).mean()


@MODELS.register_module()
class SoftLabelCrossEntropyLoss(nn.Module):
    """Soft-label cross-entropy (SCE) of FADA's discriminator terms.

    ``loss_weight * mean over B*H*W pixels of sum_j -a_j * log_softmax(z)_j``;
    see :func:`soft_label_cross_entropy`.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must contain ``loss`` to
            be included in the backward graph. Defaults to 'loss_sce'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_sce') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def extra_repr(self) -> str:
        """Extra repr."""
        return f'loss_weight={self.loss_weight}'

    def forward(self, logits: Tensor, soft_labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            logits (Tensor): Scores, shape (B, K, H, W).
            soft_labels (Tensor): Soft labels, shape (B, K, H, W).

        Returns:
            Tensor: Scalar loss, already multiplied by ``loss_weight``.
        """
        return self.loss_weight * soft_label_cross_entropy(logits, soft_labels)

    @property
    def loss_name(self) -> str:
        """Name of this loss item, used as its key in the losses dict.

        Returns:
            str: The name of this loss item.
        """
        return self._loss_name
