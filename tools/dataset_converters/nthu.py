"""Convert NTHU cross-city test labels to the 13 cross-city classes.

Usage::

    python tools/dataset_converters/nthu.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the NTHU folder as distributed, holding one folder per city
(``Rome``, ``Rio``, ``Tokyo``, ``Taipei``; any subset), each with
``Images/Train/*.jpg``, ``Images/Test/*.jpg`` and
``Labels/Test/<name>_eval.png``; a single city folder works too. The labels
hold Cityscapes label ids (7 road, 8 sidewalk, ...): they are mapped to the
19 train ids and then to the 13 shared classes. Writes
``Labels/Test/<name>_labelTrainIds13.png`` next to each and
``DATA_ROOT/class_stats.json``. Re-running skips labels that are already
converted.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import NTHU_LUT
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 make_setting_tasks,
                                                 run_converter,
                                                 setting_mappings)
from mmseg_uda.datasets.nthu import NTHU_CITIES

RAW_SUFFIX = '_eval.png'
TRAIN_ID_STEM = '_labelTrainIds'
LUTS = {13: NTHU_LUT}
_LABEL_DIR = osp.join('Labels', 'Test')


def _city_folders(data_root: str) -> List[str]:
    if osp.isdir(osp.join(data_root, _LABEL_DIR)):
        return [data_root]
    cities = [
        osp.join(data_root, city) for city in NTHU_CITIES
        if osp.isdir(osp.join(data_root, city))
    ]
    if not cities:
        names = ', '.join(NTHU_CITIES)
        raise DataRootError(f'{data_root!r} holds no NTHU city folder '
                            f'({names}) and no {_LABEL_DIR} folder')
    return cities


def collect_tasks(data_root: str) -> List[LabelTask]:
    """One task per ``<city>/Labels/Test/<name>_eval.png``.

    Args:
        data_root (str): The NTHU folder, or one city folder.

    Returns:
        list[LabelTask]: Raw label -> ``<name>_labelTrainIds13.png`` in the
        same folder.

    Raises:
        DataRootError: If no city folder, ``Labels/Test`` folder or raw
            label is found.
    """
    tasks = []
    for city in _city_folders(data_root):
        sources = find_files(
            osp.join(city, _LABEL_DIR), f'*{RAW_SUFFIX}', 'NTHU test labels')
        for src in sources:
            stem = src[:-len(RAW_SUFFIX)] + TRAIN_ID_STEM
            tasks += make_setting_tasks(src, stem, data_root, LUTS)
    return tasks


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter; returns the exit code."""
    return run_converter(args,
                         __doc__.splitlines()[0], collect_tasks,
                         setting_mappings(LUTS))


if __name__ == '__main__':
    sys.exit(main())
