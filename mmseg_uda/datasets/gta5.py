"""GTA5 (Playing for Data) as a 19-class Cityscapes-style dataset."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .class_tables import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE
from .data_root_check import ConvertedLabelsMixin


@DATASETS.register_module()
class GTA5Dataset(ConvertedLabelsMixin, BaseSegDataset):
    """GTA5 with the 19 Cityscapes classes.

    Expected layout, after ``python tools/dataset_converters/gta5.py
    DATA_ROOT`` has written the train-id labels next to the raw ones:

    .. code-block:: none

        DATA_ROOT
        ├── images
        │   ├── 00001.png
        ├── labels
        │   ├── 00001.png                  (raw, paletted Cityscapes ids)
        │   ├── 00001_labelTrainIds.png    (converted, 0..18 and 255)
        ├── class_stats.json

    A missing or empty image folder, or a missing converted label (unless
    ``require_labels=False``), raises :class:`DataRootError` at construction
    naming the folder or file and the converter command.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the converted labels.
            Defaults to '_labelTrainIds.png'.
        data_prefix (dict): Image and label folders relative to
            ``data_root``. Defaults to
            ``dict(img_path='images', seg_map_path='labels')``.
        require_labels (bool): Whether every image must have its converted
            label. Defaults to True.
        **kwargs: Other arguments of :class:`BaseSegDataset`.
    """
    METAINFO = dict(
        classes=CITYSCAPES_CLASSES,
        palette=[list(color) for color in CITYSCAPES_PALETTE])
    converter_script = 'gta5.py'

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 data_prefix: dict = dict(
                     img_path='images', seg_map_path='labels'),
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
