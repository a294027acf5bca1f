"""``acc_seg`` of MMSeg's decode heads without an autograd graph.

``BaseDecodeHead.loss_by_feat`` logs ``accuracy(seg_logits, seg_label)``, a
top-k over the full-resolution logits. The logits require grad, so top-k is
recorded for backward and keeps its int64 index map (8 bytes per pixel)
alive until the backward pass, although the accuracy never gets a gradient.
Importing ``mmseg_uda`` makes the decode heads compute the same value on
detached logits under ``no_grad``: identical numbers, no saved tensors.
Inside ``accuracy_stride(s)`` (``UDAEncoderDecoder(acc_seg_stride=s)``) it
is measured on every ``s``-th pixel in each direction only: a cheaper
estimate of the same accuracy.
"""
import contextlib
from typing import Iterator

import torch
from mmseg.models.decode_heads import decode_head
from mmseg.models.losses import accuracy as _accuracy

_stride = 1  # set by accuracy_stride (one process, one training step)


@contextlib.contextmanager
def accuracy_stride(stride: int) -> Iterator[None]:
    """Measure ``acc_seg`` on every ``stride``-th pixel (each direction)
    while the context is open.

    Args:
        stride (int): 1 for every pixel (mmseg's value).
    """
    global _stride
    previous, _stride = _stride, int(stride)
    try:
        yield
    finally:
        _stride = previous


def detached_accuracy(pred: torch.Tensor, target: torch.Tensor, *args,
                      **kwargs):
    """:func:`mmseg.models.losses.accuracy` on ``pred.detach()`` (on every
    ``s``-th pixel inside ``accuracy_stride(s)``).

    Args:
        pred (Tensor): Logits, shape (B, C, H, W).
        target (Tensor): Labels, shape (B, H, W).
        *args, **kwargs: Further arguments of mmseg's ``accuracy``.

    Returns:
        Tensor | tuple[Tensor]: As mmseg's ``accuracy``.
    """
    with torch.no_grad():
        if _stride > 1 and pred.dim() == 4 and target.dim() == 3:
            pred = pred[:, :, ::_stride, ::_stride]
            target = target[:, ::_stride, ::_stride]
        return _accuracy(pred.detach(), target, *args, **kwargs)


decode_head.accuracy = detached_accuracy
