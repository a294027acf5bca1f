"""Collate that ships segmentation labels as ``uint8`` between processes.

MMSeg's ``PackSegInputs`` packs ``gt_sem_seg`` as ``int64``: 8 bytes per
pixel (7.4 MB for a 1280x720 label, 16.8 MB for a 2048x1024 validation
label) copied from every dataloader worker to the main process, and then to
the device. The labels of every dataset here are train ids in [0, C) plus
the ignore index 255, so one byte holds them. This collate (run inside the
workers) stores each label that fits as ``uint8``;
:class:`~mmseg_uda.models.UDADataPreProcessor` makes it ``int64`` again on
the device, so the losses and metrics see the same values.
"""
from typing import Any, Sequence

import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS
from mmengine.structures import BaseDataElement


def compact_label(label: torch.Tensor) -> torch.Tensor:
    """``label`` as ``uint8`` when every value fits, else unchanged.

    Args:
        label (Tensor): Integer label map, e.g. shape (1, H, W).

    Returns:
        Tensor: The same values, ``uint8`` where lossless.
    """
    if label.dtype == torch.uint8 or label.is_floating_point():
        return label
    if label.numel() and (int(label.min()) < 0 or int(label.max()) > 255):
        return label  # lossless or nothing: keep the wide type
    return label.to(torch.uint8)


def _compact(data: Any) -> None:
    """Compact the ``gt_sem_seg`` of every data sample in ``data``."""
    if isinstance(data, BaseDataElement):
        if 'gt_sem_seg' in data:
            data.gt_sem_seg.data = compact_label(data.gt_sem_seg.data)
    elif isinstance(data, dict):
        for value in data.values():
            _compact(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            _compact(value)


@FUNCTIONS.register_module()
def compact_label_collate(data_batch: Sequence) -> Any:
    """:func:`mmengine.dataset.pseudo_collate` with ``uint8`` labels.

    Works on single-domain samples (``inputs``/``data_samples``) and on
    :class:`UDADataset` samples (keyed by domain). A label with values
    outside [0, 255] keeps its type.

    Args:
        data_batch (Sequence): Samples from the dataset.

    Returns:
        Any: As ``pseudo_collate``, with ``gt_sem_seg.data`` ``uint8``.
    """
    batch = pseudo_collate(data_batch)
    _compact(batch)
    return batch
