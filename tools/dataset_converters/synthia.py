"""Convert SYNTHIA RAND-CITYSCAPES labels to train ids in 19/16/7 classes.

Usage::

    python tools/dataset_converters/synthia.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the ``RAND_CITYSCAPES`` folder as distributed, with
``RGB/*.png``, ``GT/LABELS/*.png`` and ``Depth/Depth/*.png``. The labels are
16-bit 3-channel PNGs with the class id in the red channel (read with
``IMREAD_UNCHANGED``; OpenCV's channel order is BGR). Writes, next to each
raw label:

- ``GT/LABELS/<name>_labelTrainIds.png``: the 19 Cityscapes classes;
- ``GT/LABELS/<name>_labelTrainIds16.png``: 16 classes (SYNTHIA ->
  Cityscapes);
- ``GT/LABELS/<name>_labelTrainIds7.png``: 7 categories (depth method),

and ``DATA_ROOT/class_stats.json``. The depth maps stay as they are (the
``LoadSynthiaDepth`` transform converts them). Re-running skips labels that
are already converted.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import (SYNTHIA_16_LUT, SYNTHIA_LUT,
                                             SYNTHIA_SEVEN_LUT)
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 is_converted_label,
                                                 make_setting_tasks,
                                                 run_converter,
                                                 setting_mappings)
from mmseg_uda.datasets.synthia import read_synthia_label_ids

TRAIN_ID_STEM = '_labelTrainIds'
LUTS = {19: SYNTHIA_LUT, 16: SYNTHIA_16_LUT, 7: SYNTHIA_SEVEN_LUT}


def collect_tasks(data_root: str) -> List[LabelTask]:
    """One task per raw label ``GT/LABELS/<name>.png`` and class setting.

    Args:
        data_root (str): The RAND_CITYSCAPES folder.

    Returns:
        list[LabelTask]: Raw label -> ``GT/LABELS/<name>_labelTrainIds{N}``
        ``.png`` for every N in ``LUTS``.

    Raises:
        DataRootError: If ``GT/LABELS`` is missing or holds no raw label.
    """
    label_dir = osp.join(data_root, 'GT', 'LABELS')
    raw_labels = [
        f for f in find_files(label_dir, '*.png', 'SYNTHIA label PNGs')
        if not is_converted_label(f)
    ]
    if not raw_labels:
        raise DataRootError(f'{label_dir!r} holds converted labels only, no '
                            f'raw SYNTHIA label PNGs')
    return [
        task for src in raw_labels
        for task in make_setting_tasks(src, src[:-len('.png')] +
                                       TRAIN_ID_STEM, data_root, LUTS)
    ]


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter; returns the exit code."""
    return run_converter(
        args,
        __doc__.splitlines()[0],
        collect_tasks,
        setting_mappings(LUTS),
        reader=read_synthia_label_ids)


if __name__ == '__main__':
    sys.exit(main())
