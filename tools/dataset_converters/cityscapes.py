"""Convert Cityscapes ``gtFine`` label ids to train ids in 19/16/13/7 classes.

Usage::

    python tools/dataset_converters/cityscapes.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the folder as distributed, with
``gtFine/{train,val,test}/<city>/*_gtFine_labelIds.png`` (8-bit grayscale).
Writes, next to each, one label per class setting of the benchmarks:

- ``*_gtFine_labelTrainIds.png``: the 19 classes (GTA5 -> Cityscapes);
- ``*_gtFine_labelTrainIds16.png``: 16 classes (SYNTHIA -> Cityscapes);
- ``*_gtFine_labelTrainIds13.png``: 13 classes (Cityscapes -> NTHU);
- ``*_gtFine_labelTrainIds7.png``: 7 categories (depth method),

and ``DATA_ROOT/class_stats.json`` with the class pixel counts of every
output. Re-running skips labels that are already converted.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import (CITYSCAPES_13_LUT,
                                             CITYSCAPES_16_LUT, CITYSCAPES_LUT,
                                             CITYSCAPES_SEVEN_LUT)
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 make_setting_tasks,
                                                 run_converter,
                                                 setting_mappings)

LABEL_ID_SUFFIX = '_gtFine_labelIds.png'
TRAIN_ID_STEM = '_gtFine_labelTrainIds'
TRAIN_ID_SUFFIX = TRAIN_ID_STEM + '.png'
LUTS = {
    19: CITYSCAPES_LUT,
    16: CITYSCAPES_16_LUT,
    13: CITYSCAPES_13_LUT,
    7: CITYSCAPES_SEVEN_LUT,
}


def collect_tasks(data_root: str) -> List[LabelTask]:
    """One task per ``gtFine/<split>/<city>/*_gtFine_labelIds.png`` and
    class setting.

    Args:
        data_root (str): The Cityscapes folder.

    Returns:
        list[LabelTask]: Label ids -> ``*_gtFine_labelTrainIds{N}.png`` in
        the same folder, for every N in ``LUTS``.

    Raises:
        DataRootError: If ``gtFine`` is missing or holds no label-id PNG.
    """
    sources = find_files(
        osp.join(data_root, 'gtFine'), f'*/*/*{LABEL_ID_SUFFIX}',
        'Cityscapes label-id PNGs')
    return [
        task for src in sources for task in make_setting_tasks(
            src, src[:-len(LABEL_ID_SUFFIX)] + TRAIN_ID_STEM, data_root, LUTS)
    ]


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter; returns the exit code."""
    return run_converter(args,
                         __doc__.splitlines()[0], collect_tasks,
                         setting_mappings(LUTS))


if __name__ == '__main__':
    sys.exit(main())
