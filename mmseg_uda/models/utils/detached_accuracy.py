"""``acc_seg`` of MMSeg's decode heads without an autograd graph.

``BaseDecodeHead.loss_by_feat`` logs ``accuracy(seg_logits, seg_label)``, a
top-k over the full-resolution logits. The logits require grad, so top-k is
recorded for backward and keeps its int64 index map (8 bytes per pixel)
alive until the backward pass, although the accuracy never gets a gradient.
Importing ``mmseg_uda`` makes the decode heads compute the same value on
detached logits under ``no_grad``: identical numbers, no saved tensors.
"""
import torch
from mmseg.models.decode_heads import decode_head
from mmseg.models.losses import accuracy as _accuracy


def detached_accuracy(pred: torch.Tensor, target: torch.Tensor, *args,
                      **kwargs):
    """:func:`mmseg.models.losses.accuracy` on ``pred.detach()``.

    Args:
        pred (Tensor): Logits, shape (B, C, H, W).
        target (Tensor): Labels, shape (B, H, W).
        *args, **kwargs: Further arguments of mmseg's ``accuracy``.

    Returns:
        Tensor | tuple[Tensor]: As mmseg's ``accuracy``.
    """
    with torch.no_grad():
        return _accuracy(pred.detach(), target, *args, **kwargs)


decode_head.accuracy = detached_accuracy
