"""Convert Mapillary Vistas v1.2 validation labels to the 7 categories.

Usage::

    python tools/dataset_converters/mapillary.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the Mapillary Vistas folder as distributed, with
``validation/images/*.jpg`` and the v1.2 labels in ``validation/labels``
(v1.2 archive) or ``validation/v1.2/labels`` (v2.0 archive): paletted PNGs
whose palette indices are the 66 Vistas v1.2 class ids. The classes are
grouped into flat, construction, object, nature, sky, human and vehicle by
the depth release's table (``MAPILLARY_SEVEN_GROUPS`` in
``mmseg_uda/datasets/class_tables.py``: curb is construction, terrain flat,
pothole object; catch basin, manhole and the other classes are ignored,
255). A label holding an id above 65 is not a v1.2 label (v2.0 labels have
124 classes): it fails, named with the id in the summary. Writes
``<name>_labelTrainIds7.png`` next to each label and
``DATA_ROOT/class_stats.json``. Only the validation split is converted (the
benchmark evaluates on it). Re-running skips converted labels.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

import numpy as np

from mmseg_uda.datasets.class_tables import (MAPILLARY_SEVEN_LUT,
                                             MAPILLARY_V12_CLASSES)
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 is_converted_label,
                                                 make_setting_tasks,
                                                 read_label_ids, run_converter,
                                                 setting_mappings)

LABEL_DIRS = (osp.join('validation',
                       'labels'), osp.join('validation', 'v1.2', 'labels'))
TRAIN_ID_STEM = '_labelTrainIds'
LUTS = {7: MAPILLARY_SEVEN_LUT}
# Largest Vistas v1.2 class id ('Unlabeled').
MAX_V12_ID = len(MAPILLARY_V12_CLASSES) - 1


def read_v12_label_ids(path: str) -> np.ndarray:
    """Read a raw label and check that it is a Vistas v1.2 one.

    Raises:
        ValueError: If an id exceeds 65, naming the file and the id.
    """
    ids = read_label_ids(path)
    if ids.max(initial=0) > MAX_V12_ID:
        raise ValueError(
            f'{path}: holds class id {int(ids.max())} > {MAX_V12_ID}: not a '
            f'Mapillary Vistas v1.2 label (v2.0 labels have 124 classes); '
            f'convert the v1.2 labels (validation/v1.2/labels in the v2.0 '
            f'archive)')
    return ids


def label_dir(data_root: str) -> str:
    """The folder of the v1.2 validation labels under ``data_root``.

    Raises:
        DataRootError: If none of ``LABEL_DIRS`` exists, naming them.
    """
    for folder in LABEL_DIRS:
        if osp.isdir(osp.join(data_root, folder)):
            return osp.join(data_root, folder)
    tried = ' or '.join(repr(osp.join(data_root, f)) for f in LABEL_DIRS)
    raise DataRootError(f'folder {tried} does not exist; expected the '
                        f'Mapillary Vistas v1.2 validation labels there')


def collect_tasks(data_root: str) -> List[LabelTask]:
    """One task per raw validation label ``<name>.png``.

    Args:
        data_root (str): The Mapillary Vistas folder.

    Returns:
        list[LabelTask]: Raw label -> ``<name>_labelTrainIds7.png``.

    Raises:
        DataRootError: If the label folder is missing or holds no raw label.
    """
    folder = label_dir(data_root)
    raw_labels = [
        f for f in find_files(folder, '*.png', 'Mapillary label PNGs')
        if not is_converted_label(f)
    ]
    if not raw_labels:
        raise DataRootError(f'{folder!r} holds converted labels only, no raw '
                            f'Mapillary label PNGs')
    return [
        task for src in raw_labels
        for task in make_setting_tasks(src, src[:-len('.png')] +
                                       TRAIN_ID_STEM, data_root, LUTS)
    ]


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter; returns the exit code."""
    return run_converter(args,
                         __doc__.splitlines()[0], collect_tasks,
                         setting_mappings(LUTS),
                         reader=read_v12_label_ids)


if __name__ == '__main__':
    sys.exit(main())
