"""GTA5 (Playing for Data) as a 19-class Cityscapes-style dataset."""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .class_tables import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE
from .data_root_check import ConvertedLabelsMixin, DataRootError

SPLIT_FILE = 'split.mat'
SPLITS = ('train', 'val', 'test')
# Where the official split ships (with the label-reading sample code).
SPLIT_SOURCE = ('read_mapping.zip from https://download.visinf.tu-darmstadt'
                '.de/data/from_games/code/read_mapping.zip')


def read_split_file(path: str) -> Dict[str, np.ndarray]:
    """The official GTA5 split: image numbers of train, val and test.

    Args:
        path (str): ``split.mat`` from GTA5's ``read_mapping`` code, with
            the variables ``trainIds``, ``valIds`` and ``testIds`` (1-based
            frame numbers: 1 is ``00001.png``).

    Returns:
        dict[str, np.ndarray]: ``'train'``, ``'val'``, ``'test'`` -> sorted
        frame numbers, ``int64``.

    Raises:
        DataRootError: If the file is missing, naming it and where it ships.
        ValueError: If it cannot be read or lacks a variable, naming the
            file and the variable.
    """
    if not osp.isfile(path):
        raise DataRootError(
            f'GTA5 split file {path!r} does not exist. It ships in '
            f'{SPLIT_SOURCE}; extract split.mat into the GTA5 data_root, or '
            f'use split=None for all 24,966 frames.')
    import scipy.io  # only needed with a split
    try:
        content = scipy.io.loadmat(path)
    except Exception as err:  # noqa: BLE001 -- any reader error
        raise ValueError(
            f'cannot read GTA5 split file {path!r}: {err}') from err
    split = {}
    for name in SPLITS:
        key = f'{name}Ids'
        if key not in content:
            raise ValueError(f'GTA5 split file {path!r} has no variable '
                             f'{key!r} (found {sorted(content)})')
        split[name] = np.sort(
            np.asarray(content[key]).astype(np.int64).ravel())
    return split


def frame_number(img_path: str) -> Optional[int]:
    """``.../00042.png`` -> 42; None for a name that is not a number."""
    stem = osp.splitext(osp.basename(img_path))[0]
    return int(stem) if stem.isdigit() else None


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
        ├── split.mat                      (only for ``split``)

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
        split (str, optional): 'train' (12,403 frames), 'val' or 'test' of
            the official split, or None for every frame (24,966; FADA).
            Defaults to None.
        split_file (str): The split file, relative to ``data_root`` unless
            absolute. Defaults to 'split.mat'.
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
                 split: Optional[str] = None,
                 split_file: str = SPLIT_FILE,
                 **kwargs) -> None:
        if split is not None and split not in SPLITS:
            raise ValueError(f'GTA5Dataset: split must be None or one of '
                             f'{SPLITS}, got {split!r}')
        # Set before the base class loads the data list.
        self.split = split
        self.split_file = split_file
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """The checked data list, restricted to ``split`` if one is given.

        Raises:
            DataRootError: If the split file is missing (named), or a frame
                of the split has no image.
        """
        data_list = super().load_data_list()
        if self.split is None:
            return data_list
        path = self.split_file
        if self.data_root and not osp.isabs(path):
            path = osp.join(self.data_root, path)
        wanted = read_split_file(path)[self.split]
        wanted_set = set(wanted.tolist())
        kept = [
            info for info in data_list
            if frame_number(info['img_path']) in wanted_set
        ]
        if len(kept) != len(wanted):
            found = {frame_number(info['img_path']) for info in kept}
            missing = [f'{n:05d}{self.img_suffix}' for n in wanted
                       if int(n) not in found]
            raise DataRootError(
                f'GTA5Dataset: {len(missing)} of the {len(wanted)} '
                f'{self.split!r} frames listed in {path!r} have no image, '
                f'e.g. {missing[:5]}')
        return kept
