"""Data preprocessor for two-domain training batches."""
from typing import Any, Dict

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
    """

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
