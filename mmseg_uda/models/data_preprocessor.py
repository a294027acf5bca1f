"""Data preprocessor for two-domain training batches."""
from typing import Any, Dict, Optional

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class UDADataPreProcessor(SegDataPreProcessor):
    """Normalises, pads and stacks each domain of a UDA batch.

    A training batch from :class:`UDADataset` is
    ``dict(source=dict(inputs, data_samples), target=dict(...))``; each
    domain goes through :class:`SegDataPreProcessor` on its own (the domains
    may have different image sizes) and the result is
    ``dict(inputs=dict(source=Tensor, target=Tensor),
    data_samples=dict(source=list, target=list))``, which the UDA segmentor's
    ``loss`` consumes. Any other batch (validation, test, single-domain
    training such as source-only or self-training) is processed exactly as
    by :class:`SegDataPreProcessor`.

    Without ``size`` or ``size_divisor`` (the methods resize rather than
    crop, so a domain's training images share one size) images are stacked
    unpadded (``size_divisor=1``).

    Labels may arrive as ``uint8`` (``compact_label_collate``, the dataset
    bases' collate: one byte per pixel between processes); they are made
    ``int64`` here, on the device, after padding, so every loss and metric
    sees mmseg's usual ``int64`` labels with the same values (255 = ignore).

    Args:
        size (tuple, optional): Pad every training image to this size.
        size_divisor (int, optional): Pad to a multiple of this.
        non_blocking (bool): Copy batches to the device asynchronously
            (effective for pinned host memory, the dataset bases'
            ``pin_memory=True``; a plain copy otherwise). Defaults to True.
        **kwargs: Other arguments of :class:`SegDataPreProcessor`.
    """

    def __init__(self,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 non_blocking: bool = True,
                 **kwargs) -> None:
        if size is None and size_divisor is None:
            size_divisor = 1
        super().__init__(size=size, size_divisor=size_divisor, **kwargs)
        # mmseg's SegDataPreProcessor does not pass this on to mmengine's
        # BaseDataPreprocessor, whose cast_data reads it.
        self._non_blocking = non_blocking

    @staticmethod
    def _labels_to_int64(data_samples) -> None:
        for sample in data_samples or ():
            if 'gt_sem_seg' in sample:
                label = sample.gt_sem_seg.data
                if label.dtype != torch.int64:
                    sample.gt_sem_seg.data = label.long()

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Process a batch.

        Args:
            data (dict): A batch from the dataloader, either single-domain
                (``inputs``/``data_samples``) or keyed by domain.
            training (bool): Whether this is a training batch.

        Returns:
            dict: ``inputs`` and ``data_samples``, each keyed by domain for a
            two-domain batch.
        """
        if 'inputs' in data:
            out = super().forward(data, training)
            self._labels_to_int64(out['data_samples'])
            return out
        domains = {
            name: super(UDADataPreProcessor, self).forward(batch, training)
            for name, batch in data.items()
        }
        for out in domains.values():
            self._labels_to_int64(out['data_samples'])
        return dict(
            inputs={name: out['inputs']
                    for name, out in domains.items()},
            data_samples={
                name: out['data_samples']
                for name, out in domains.items()
            })
