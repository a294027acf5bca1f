"""Convert Mapillary Vistas v1.2 validation labels to the 7 categories.

Usage::

    python tools/dataset_converters/mapillary.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the Mapillary Vistas folder as distributed, with
``validation/images/*.jpg`` and the v1.2 labels in ``validation/labels``
(v1.2 archive) or ``validation/v1.2/labels`` (v2.0 archive): paletted PNGs
whose palette indices are the 66 Vistas v1.2 class ids. The classes are
grouped into flat, construction, object, nature, sky, human and vehicle as
``MAPILLARY_SEVEN_GROUPS`` in ``mmseg_uda/datasets/class_tables.py`` lists;
the other classes are ignored (255). Writes
``<name>_labelTrainIds7.png`` next to each label and
``DATA_ROOT/class_stats.json``. Only the validation split is converted (the
benchmark evaluates on it). Re-running skips converted labels.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import MAPILLARY_SEVEN_LUT
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 is_converted_label,
                                                 make_setting_tasks,
                                                 run_converter,
                                                 setting_mappings)

LABEL_DIRS = (osp.join('validation',
                       'labels'), osp.join('validation', 'v1.2', 'labels'))
TRAIN_ID_STEM = '_labelTrainIds'
LUTS = {7: MAPILLARY_SEVEN_LUT}


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
                         setting_mappings(LUTS))


if __name__ == '__main__':
    sys.exit(main())
