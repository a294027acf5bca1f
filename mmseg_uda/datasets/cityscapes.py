"""Cityscapes with an early check that the train-id labels exist."""
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .data_root_check import ConvertedLabelsMixin


@DATASETS.register_module()
class CityscapesUDADataset(ConvertedLabelsMixin, CityscapesDataset):
    """MMSeg's Cityscapes dataset that fails early on unconverted data.

    Images ``leftImg8bit/<split>/<city>/*_leftImg8bit.png``, labels
    ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png`` written by
    ``python tools/dataset_converters/cityscapes.py DATA_ROOT``. For the
    unlabeled target split pass ``require_labels=False`` (labels not
    checked), or leave ``seg_map_path`` out of ``data_prefix``.

    A missing or empty image folder, or a missing converted label (unless
    ``require_labels=False``), raises :class:`DataRootError` at construction
    naming the folder or file and the converter command.

    Args:
        require_labels (bool): Whether every image must have its converted
            label. Defaults to True.
        **kwargs: Arguments of :class:`mmseg.datasets.CityscapesDataset`.
    """
    converter_script = 'cityscapes.py'
