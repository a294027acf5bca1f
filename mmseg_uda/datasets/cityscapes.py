"""Cityscapes in 19/16/13/7 classes, with an early check that the labels
exist."""
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .class_tables import ClassSettingMixin
from .data_root_check import ConvertedLabelsMixin


@DATASETS.register_module()
class CityscapesUDADataset(ClassSettingMixin, ConvertedLabelsMixin,
                           CityscapesDataset):
    """MMSeg's Cityscapes dataset in a chosen class setting that fails early
    on unconverted data.

    Images ``leftImg8bit/<split>/<city>/*_leftImg8bit.png``, labels
    ``gtFine/<split>/<city>/*_gtFine_labelTrainIds{N}.png`` written by
    ``python tools/dataset_converters/cityscapes.py DATA_ROOT`` for every
    class setting: no ``N`` for the 19 classes (the name MMSeg's converter
    uses), ``16`` (SYNTHIA -> Cityscapes), ``13`` (Cityscapes -> NTHU) and
    ``7`` (depth method). For the unlabeled target split pass
    ``require_labels=False`` (labels not checked), or leave ``seg_map_path``
    out of ``data_prefix``.

    A missing or empty image folder, or a missing converted label (unless
    ``require_labels=False``), raises :class:`DataRootError` at construction
    naming the folder or file and the converter command.

    Args:
        num_classes (int): 19, 16, 13 or 7; selects the label files and
            ``metainfo``. Defaults to 19.
        seg_map_suffix (str, optional): Suffix of the label files; defaults
            to the one of the class setting.
        require_labels (bool): Whether every image must have its converted
            label. Defaults to True.
        **kwargs: Arguments of :class:`mmseg.datasets.CityscapesDataset`.
    """
    converter_script = 'cityscapes.py'
    class_choices = (19, 16, 13, 7)
    default_num_classes = 19
    seg_map_stem = '_gtFine_labelTrainIds'
