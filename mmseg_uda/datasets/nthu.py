"""NTHU cross-city dataset (Rome, Rio, Tokyo, Taipei), 13 classes."""
import os.path as osp
from typing import Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .class_tables import CLASS_SETTINGS, train_id_suffix
from .data_root_check import ConvertedLabelsMixin

NTHU_CITIES = ('Rome', 'Rio', 'Tokyo', 'Taipei')
NTHU_SPLITS = ('train', 'test')


@DATASETS.register_module()
class NTHUDataset(ConvertedLabelsMixin, BaseSegDataset):
    """One city of the NTHU cross-city benchmark, in 13 classes.

    Expected layout, after ``python tools/dataset_converters/nthu.py
    DATA_ROOT`` has converted the test labels:

    .. code-block:: none

        DATA_ROOT                                  (the NTHU folder)
        ├── Rome                                   (also Rio, Tokyo, Taipei)
        │   ├── Images
        │   │   ├── Train
        │   │   │   ├── <name>.jpg                 (3,200, unlabeled)
        │   │   ├── Test
        │   │   │   ├── <name>.jpg                 (100)
        │   ├── Labels
        │   │   ├── Test
        │   │   │   ├── <name>_eval.png            (raw, Cityscapes ids)
        │   │   │   ├── <name>_labelTrainIds13.png (converted, 0..12, 255)

    ``split='train'`` lists the unlabeled training images (the adaptation
    target, no labels); ``split='test'`` the labeled test images. A missing
    or empty image folder, or a missing converted label of the test split,
    raises :class:`DataRootError` at construction naming the folder or file
    and the converter command.

    Args:
        city (str, optional): One of ``'Rome'``, ``'Rio'``, ``'Tokyo'``,
            ``'Taipei'``; its folder is ``DATA_ROOT/<city>``. None when
            ``data_root`` is the city folder itself. Defaults to None.
        split (str): ``'train'`` or ``'test'``. Defaults to 'test'.
        img_suffix (str): Suffix of the images. Defaults to '.jpg'.
        seg_map_suffix (str): Suffix of the converted labels.
            Defaults to '_labelTrainIds13.png'.
        data_prefix (dict, optional): Image (and label) folders relative to
            ``data_root``; defaults to the layout above for ``city`` and
            ``split``.
        require_labels (bool): Whether every test image must have its
            converted label. Defaults to True.
        **kwargs: Other arguments of :class:`BaseSegDataset`.
    """
    METAINFO = CLASS_SETTINGS[13].metainfo()
    converter_script = 'nthu.py'

    def __init__(self,
                 city: Optional[str] = None,
                 split: str = 'test',
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = train_id_suffix(13),
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if city is not None and city not in NTHU_CITIES:
            raise ValueError(f'NTHUDataset: city must be one of '
                             f'{list(NTHU_CITIES)}, got {city!r}')
        if split not in NTHU_SPLITS:
            raise ValueError(f'NTHUDataset: split must be one of '
                             f'{list(NTHU_SPLITS)}, got {split!r}')
        self.city = city
        self.split = split
        if data_prefix is None:
            data_prefix = self.default_prefix(city, split)
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
        self._metainfo['city'] = city

    @staticmethod
    def default_prefix(city: Optional[str], split: str) -> dict:
        """Image and label folders of a city's split.

        Args:
            city (str, optional): The city, or None for a city folder as
                data root.
            split (str): ``'train'`` (images only) or ``'test'``.

        Returns:
            dict: ``data_prefix`` relative to the NTHU folder.
        """
        base = city or ''
        folder = split.capitalize()
        prefix = dict(img_path=osp.join(base, 'Images', folder))
        if split == 'test':
            prefix['seg_map_path'] = osp.join(base, 'Labels', folder)
        return prefix
