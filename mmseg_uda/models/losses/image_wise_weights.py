"""Image-wise class-balanced weighting (IW) shared by the target losses.

MaxSquare (Chen et al., ICCV 2019, Sec. 3.3) balances classes on unlabelled
target images by counting, per image, how many pixels are predicted as each
class. Both :class:`MaxSquareLoss` and :class:`EntropyLoss` use exactly the
same weights and the same normalisation, so both live here.
"""
from typing import Optional

import torch
from torch import Tensor


def check_seg_logits(seg_logits: Tensor, loss_name: str) -> None:
    """Raise a clear error unless ``seg_logits`` is a ``(B, C, H, W)`` map.

    Args:
        seg_logits (Tensor): Logits that a target loss was called with.
        loss_name (str): Name of the calling loss, quoted in the error.
    """
    if not isinstance(seg_logits, Tensor) or seg_logits.dim() != 4:
        shape = tuple(seg_logits.shape) if isinstance(
            seg_logits, Tensor) else type(seg_logits).__name__
        raise ValueError(f'{loss_name} expects logits of shape '
                         f'(B, C, H, W), got {shape}')
    if not seg_logits.is_floating_point():
        raise TypeError(f'{loss_name} expects floating point logits, got '
                        f'dtype {seg_logits.dtype}')


def check_iw_ratio(iw_ratio: Optional[float], loss_name: str) -> None:
    """Raise a clear error unless ``iw_ratio`` is None or lies in [0, 1].

    Args:
        iw_ratio (float, optional): The interpolation exponent alpha.
        loss_name (str): Name of the calling loss, quoted in the error.
    """
    if iw_ratio is None:
        return
    if isinstance(iw_ratio, bool) or not isinstance(iw_ratio, (int, float)) \
            or not 0.0 <= iw_ratio <= 1.0:
        raise ValueError(f'{loss_name}: iw_ratio must be None or a number in '
                         f'[0, 1], got {iw_ratio!r}')


def image_wise_class_weights(probs: Tensor, iw_ratio: float) -> Tensor:
    """Per-pixel image-wise class-balanced weights.

    For each image, ``n_c`` is the number of pixels whose argmax is class
    ``c`` and ``N = sum_c n_c = H * W``. The class weight is
    ``w_c = 1 / max(n_c ** iw_ratio * N ** (1 - iw_ratio), 1)`` and every
    pixel receives the weight of its own argmax class. ``iw_ratio = 0`` gives
    a plain ``1 / N`` average, ``iw_ratio = 1`` inverse class frequency.

    Args:
        probs (Tensor): Class probabilities, shape (B, C, H, W).
        iw_ratio (float): The interpolation exponent alpha in [0, 1].

    Returns:
        Tensor: Detached weights of shape (B, 1, H, W). They are at least
        float32, because ``N`` for a full-resolution image overflows fp16.
    """
    batch_size, num_classes, height, width = probs.shape
    dtype = torch.promote_types(probs.dtype, torch.float32)
    with torch.no_grad():
        pred = probs.argmax(dim=1).flatten(1)  # (B, H*W)
        # Per-image histograms in one scatter over (B, C) counters;
        # scatter_add_ (unlike bincount on CUDA) needs no host sync.
        counts = pred.new_zeros(batch_size, num_classes).scatter_add_(
            1, pred, torch.ones_like(pred)).to(dtype)
        total = counts.sum(dim=1, keepdim=True)
        # The clamp keeps absent classes (n_c = 0) from dividing by zero;
        # they are never gathered anyway, since no pixel predicts them.
        class_weights = 1.0 / (counts.pow(iw_ratio) *
                               total.pow(1.0 - iw_ratio)).clamp(min=1.0)
        pixel_weights = class_weights.gather(1, pred)
    return pixel_weights.view(batch_size, 1, height, width)


def image_wise_weighted_sum(elementwise: Tensor, probs: Tensor,
                            iw_ratio: float) -> Tensor:
    """Reduce a per-element loss map with image-wise class-balanced weights.

    Computes ``sum(elementwise * w) / (B * C)`` where ``w`` comes from
    :func:`image_wise_class_weights` and is broadcast over all C channels of
    a pixel. This is a sum over pixels (the weights already average within an
    image), so the result for a batch equals the mean of the per-image
    results.

    Args:
        elementwise (Tensor): Per-element loss, shape (B, C, H, W).
        probs (Tensor): Probabilities the weights are derived from,
            shape (B, C, H, W).
        iw_ratio (float): The interpolation exponent alpha in [0, 1].

    Returns:
        Tensor: Scalar loss.
    """
    batch_size, num_classes = probs.shape[:2]
    weights = image_wise_class_weights(probs, iw_ratio)
    return (elementwise * weights).sum() / (batch_size * num_classes)
