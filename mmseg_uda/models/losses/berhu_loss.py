"""Reverse Huber (berHu) regression loss of the depth-distribution method."""
import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor


def berhu_loss(pred: Tensor, target: Tensor, ratio: float = 0.2) -> Tensor:
    """Mean reverse Huber loss (METHODS.md sec. 5).

    With ``e = |pred - target|`` and ``c = ratio * max(e)`` over the whole
    tensor (without gradient)::

        loss = mean(e)                   where e <= c
               mean((e ** 2 + c ** 2) / (2 * c))   elsewhere

    i.e. one mean over all elements of the piecewise value. When every
    error is 0 (``c = 0``) the loss is 0.

    Args:
        pred (Tensor): Prediction, any shape.
        target (Tensor): Regression target of the same shape (no gradient
            is taken through it).
        ratio (float): ``c`` as a fraction of the largest error. Defaults
            to 0.2.

    Returns:
        Tensor: Scalar loss (float32 or the inputs' dtype if wider).
    """
    if pred.shape != target.shape:
        raise ValueError(f'berhu_loss: prediction {tuple(pred.shape)} and '
                         f'target {tuple(target.shape)} differ in shape')
    error = (pred.float() - target.detach().float()).abs()
    c = ratio * error.detach().max()
    # c > 0 keeps the quadratic branch finite; where c == 0 every e is 0.
    safe_c = c.clamp(min=torch.finfo(error.dtype).tiny)
    quadratic = (error.pow(2) + c.pow(2)) / (2 * safe_c)
    return torch.where(error <= c, error, quadratic).mean()


@MODELS.register_module()
class BerHuLoss(nn.Module):
    """``loss_weight * berhu_loss(pred, target)``.

    Args:
        ratio (float): Threshold ``c = ratio * max|pred - target|``.
            Defaults to 0.2.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be included in the backward graph. Defaults to
            'loss_berhu'.
    """

    def __init__(self,
                 ratio: float = 0.2,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_berhu') -> None:
        super().__init__()
        if ratio <= 0:
            raise ValueError(f'BerHuLoss: ratio must be > 0, got {ratio}')
        self.ratio = ratio
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Weighted loss.

        Args:
            pred (Tensor): Prediction, e.g. (B, 1, H, W).
            target (Tensor): Target of the same shape.

        Returns:
            Tensor: Scalar loss.
        """
        return self.loss_weight * berhu_loss(pred, target, self.ratio)

    @property
    def loss_name(self) -> str:
        return self._loss_name
