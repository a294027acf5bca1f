"""SYNTHIA RAND-CITYSCAPES in 16 (default), 19 or 7 classes, with depth."""
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .class_tables import CLASS_SETTINGS, ClassSettingMixin
from .data_root_check import ConvertedLabelsMixin, DataRootError, abbreviate

# OpenCV decodes colour PNGs as BGR: the class id (red) is channel 2.
_RED = 2


def read_synthia_label_ids(path: str) -> np.ndarray:
    """Read the class ids of a SYNTHIA RAND-CITYSCAPES label.

    The labels are 16-bit, 3-channel PNGs with the class id in the red
    channel and instance ids (often above 255) in the green one. An ordinary
    8-bit read scales every class id to 0, so the file is decoded with
    ``IMREAD_UNCHANGED``; OpenCV returns the channels in BGR order.

    Args:
        path (str): A ``GT/LABELS/*.png`` file.

    Returns:
        np.ndarray: Class ids of shape (H, W), dtype ``uint8``.

    Raises:
        OSError: If the file cannot be decoded.
        ValueError: If it is not a 16-bit 3-channel image, or its red
            channel holds values above 255 (no SYNTHIA class id), naming
            the file.
    """
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise OSError(f'{path}: cannot decode (missing, empty or not an '
                      f'image)')
    if label.dtype != np.uint16 or label.ndim != 3 or label.shape[2] < 3:
        raise ValueError(
            f'{path}: expected a 16-bit 3-channel SYNTHIA RAND-CITYSCAPES '
            f'label (class id in red), got dtype {label.dtype} and shape '
            f'{label.shape}; is this the RAND-CITYSCAPES GT/LABELS folder?')
    class_ids = label[..., _RED]
    if class_ids.max() > 255:
        raise ValueError(
            f'{path}: red channel holds {int(class_ids.max())}, not a '
            f'SYNTHIA class id (0..22)')
    return class_ids.astype(np.uint8)


@DATASETS.register_module()
class SynthiaDataset(ClassSettingMixin, ConvertedLabelsMixin, BaseSegDataset):
    """SYNTHIA RAND-CITYSCAPES, optionally with its depth maps.

    Expected layout, after ``python tools/dataset_converters/synthia.py
    DATA_ROOT`` has written the train-id labels next to the raw ones:

    .. code-block:: none

        DATA_ROOT                           (RAND_CITYSCAPES)
        ├── RGB
        │   ├── 0000000.png
        ├── GT
        │   ├── LABELS
        │   │   ├── 0000000.png                 (raw, 16-bit, class in red)
        │   │   ├── 0000000_labelTrainIds.png   (19 classes)
        │   │   ├── 0000000_labelTrainIds16.png (16 classes)
        │   │   ├── 0000000_labelTrainIds7.png  (7 categories)
        ├── Depth
        │   ├── Depth
        │   │   ├── 0000000.png                 (16-bit)
        ├── class_stats.json

    With ``with_depth=True`` every sample also gets ``depth_map_path``; put
    :class:`LoadSynthiaDepth` in the pipeline (after the image and label
    loaders, before any resize or flip) to deliver ``gt_depth_map`` =
    ``65536 / (raw + 1)``, which ``PackSegInputs`` packs as
    ``data_samples.gt_depth_map``.

    A missing or empty image folder, a missing converted label (unless
    ``require_labels=False``) or, with ``with_depth``, a missing depth map
    raises :class:`DataRootError` at construction naming the folder or file.

    Args:
        num_classes (int): 16 (SYNTHIA -> Cityscapes), 19 or 7 (depth
            method). Selects the label files and ``metainfo``.
            Defaults to 16.
        with_depth (bool): Whether samples carry ``depth_map_path``.
            Defaults to False.
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str, optional): Suffix of the converted labels;
            defaults to the one of the class setting.
        data_prefix (dict): Image and label folders relative to
            ``data_root``. Defaults to
            ``dict(img_path='RGB', seg_map_path='GT/LABELS')``.
        depth_prefix (str): Depth folder relative to ``data_root``.
            Defaults to 'Depth/Depth'.
        require_labels (bool): Whether every image must have its converted
            label. Defaults to True.
        **kwargs: Other arguments of :class:`BaseSegDataset`.
    """
    METAINFO = CLASS_SETTINGS[16].metainfo()
    converter_script = 'synthia.py'
    class_choices = (16, 19, 7)
    default_num_classes = 16
    seg_map_stem = '_labelTrainIds'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 with_depth: bool = False,
                 img_suffix: str = '.png',
                 seg_map_suffix: Optional[str] = None,
                 data_prefix: dict = dict(
                     img_path='RGB', seg_map_path='GT/LABELS'),
                 depth_prefix: str = 'Depth/Depth',
                 **kwargs) -> None:
        # Set before the base class loads the data list.
        self.with_depth = with_depth
        self.depth_prefix = depth_prefix
        super().__init__(
            num_classes=num_classes,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
        if with_depth:
            self._check_depth_loader()

    @property
    def depth_dir(self) -> str:
        """The depth folder, joined to ``data_root`` like ``data_prefix``."""
        if self.data_root and not osp.isabs(self.depth_prefix):
            return osp.join(self.data_root, self.depth_prefix)
        return self.depth_prefix

    def load_data_list(self) -> List[dict]:
        """Load (and check) the data list, adding ``depth_map_path``.

        Returns:
            list[dict]: Entries with ``img_path``, ``seg_map_path`` and, with
            ``with_depth``, ``depth_map_path`` (``Depth/Depth/<name>.png``).

        Raises:
            DataRootError: If a depth map is missing.
        """
        data_list = super().load_data_list()
        if not self.with_depth:
            return data_list
        for info in data_list:
            info['depth_map_path'] = osp.join(self.depth_dir,
                                              osp.basename(info['img_path']))
        missing = [
            info['depth_map_path'] for info in data_list
            if not osp.isfile(info['depth_map_path'])
        ]
        if missing and '://' not in self.depth_dir:
            raise DataRootError(
                f'{type(self).__name__}: {len(missing)} of {len(data_list)} '
                f'depth maps are missing under {self.depth_dir!r}, e.g. '
                f'{abbreviate(missing)}. They come with the RAND-CITYSCAPES '
                f'download (Depth/Depth, no conversion needed); set '
                f'depth_prefix or with_depth=False.')
        return data_list

    def _check_depth_loader(self) -> None:
        # A depth config that forgot the loader would only fail deep in the
        # model; an empty pipeline (inspection) is fine.
        transforms = self.pipeline.transforms
        if transforms and not any(
                type(t).__name__ == 'LoadSynthiaDepth' for t in transforms):
            raise ValueError(
                f'{type(self).__name__}: with_depth=True but the pipeline '
                f'has no LoadSynthiaDepth, so the depth maps would never be '
                f'loaded; add dict(type="LoadSynthiaDepth") after the label '
                f'loader')
