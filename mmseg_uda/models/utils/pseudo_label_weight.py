"""Pixel weights of teacher pseudo-labels: the confidence share q and the
crop-row band (METHODS.md sec. 7.1 step 6)."""
import torch
from torch import Tensor

QUALITY_SCOPES = ('batch', 'image')


def quality_weight(max_prob: Tensor,
                   threshold: float = 0.968,
                   scope: str = 'batch') -> Tensor:
    """``q``: the share of pixels whose top probability is ``>= threshold``.

    Args:
        max_prob (Tensor): Per-pixel ``max_c p``, shape (B, H, W).
        threshold (float): Confidence threshold. Defaults to 0.968.
        scope (str): ``'batch'``: one q over all B·H·W pixels (released);
            ``'image'``: one q per image. Defaults to 'batch'.

    Returns:
        Tensor: Shape () for ``'batch'``, (B,) for ``'image'``; float32, on
        ``max_prob``'s device (no host sync).
    """
    if scope not in QUALITY_SCOPES:
        raise ValueError(f'quality_weight: scope must be one of '
                         f'{list(QUALITY_SCOPES)}, got {scope!r}')
    confident = max_prob.ge(threshold).float()
    if scope == 'batch':
        return confident.mean()
    return confident.flatten(1).mean(dim=1)


def pseudo_label_weight(max_prob: Tensor,
                        threshold: float = 0.968,
                        scope: str = 'batch',
                        ignore_top: int = 0,
                        ignore_bottom: int = 0) -> Tensor:
    """Per-pixel weights ``w_t`` of the pseudo-labels.

    ``w_t = q`` everywhere (:func:`quality_weight`, computed before any row
    is zeroed), then rows ``[0, ignore_top)`` and the last
    ``ignore_bottom`` rows of every crop set to 0 (DAFormer's "pseudo-label
    crop" 15 / 120; 0 / 0 in the original DACS). The pseudo-label itself is
    not thresholded.

    Args:
        max_prob (Tensor): Per-pixel ``max_c p``, shape (B, H, W).
        threshold (float): Confidence threshold. Defaults to 0.968.
        scope (str): ``'batch'`` or ``'image'`` q. Defaults to 'batch'.
        ignore_top (int): Rows zeroed at the top. Defaults to 0.
        ignore_bottom (int): Rows zeroed at the bottom. Defaults to 0.

    Returns:
        Tensor: Weights, shape (B, H, W), float32.
    """
    if ignore_top < 0 or ignore_bottom < 0:
        raise ValueError('pseudo_label_weight: ignore_top and ignore_bottom '
                         f'must be >= 0, got {ignore_top}, {ignore_bottom}')
    q = quality_weight(max_prob, threshold, scope)
    weight = q.reshape(-1, 1, 1).expand(max_prob.shape).clone()
    height = max_prob.shape[1]
    rows = torch.arange(height, device=max_prob.device)
    band = (rows < ignore_top) | (rows >= height - ignore_bottom)
    return weight.masked_fill_(band.view(1, height, 1), 0.0)
