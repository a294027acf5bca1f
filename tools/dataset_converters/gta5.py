"""Convert GTA5 labels to the 19 Cityscapes train ids.

Usage::

    python tools/dataset_converters/gta5.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the folder as distributed, with ``images/*.png`` and
``labels/*.png``. The raw labels are paletted PNGs whose palette indices are
Cityscapes label ids. Writes ``labels/<name>_labelTrainIds.png`` next to
each raw label and ``DATA_ROOT/class_stats.json``. Re-running skips labels
that are already converted.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import CITYSCAPES_LUT
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 make_task, run_converter)

TRAIN_ID_SUFFIX = '_labelTrainIds.png'


def collect_tasks(data_root: str) -> List[LabelTask]:
    """One task per raw label ``labels/<name>.png``.

    Args:
        data_root (str): The GTA5 folder.

    Returns:
        list[LabelTask]: Raw label -> ``labels/<name>_labelTrainIds.png``.

    Raises:
        DataRootError: If ``labels`` is missing or holds no raw label.
    """
    label_dir = osp.join(data_root, 'labels')
    raw_labels = [
        f for f in find_files(label_dir, '*.png', 'GTA5 label PNGs')
        if not f.endswith(TRAIN_ID_SUFFIX)
    ]
    if not raw_labels:
        raise DataRootError(f'{label_dir!r} holds converted labels only, no '
                            f'raw GTA5 label PNGs')
    return [
        make_task(src, src[:-len('.png')] + TRAIN_ID_SUFFIX, data_root)
        for src in raw_labels
    ]


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter; returns the exit code."""
    return run_converter(args,
                         __doc__.splitlines()[0], collect_tasks,
                         CITYSCAPES_LUT)


if __name__ == '__main__':
    sys.exit(main())
