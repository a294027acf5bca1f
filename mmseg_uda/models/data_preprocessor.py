"""Data preprocessor for two-domain training batches."""
from typing import Any, Dict, Optional

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

    Args:
        size (tuple, optional): Pad every training image to this size.
        size_divisor (int, optional): Pad to a multiple of this.
        **kwargs: Other arguments of :class:`SegDataPreProcessor`.
    """

    def __init__(self,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 **kwargs) -> None:
        if size is None and size_divisor is None:
            size_divisor = 1
        super().__init__(size=size, size_divisor=size_divisor, **kwargs)

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
            return super().forward(data, training)
        domains = {
            name: super(UDADataPreProcessor, self).forward(batch, training)
            for name, batch in data.items()
        }
        return dict(
            inputs={name: out['inputs']
                    for name, out in domains.items()},
            data_samples={
                name: out['data_samples']
                for name, out in domains.items()
            })
