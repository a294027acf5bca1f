"""Convert Cityscapes ``gtFine`` label ids to the 19 train ids.

Usage::

    python tools/dataset_converters/cityscapes.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the folder as distributed, with
``gtFine/{train,val,test}/<city>/*_gtFine_labelIds.png`` (8-bit grayscale).
Writes ``*_gtFine_labelTrainIds.png`` next to each and
``DATA_ROOT/class_stats.json``. Re-running skips labels that are already
converted.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import CITYSCAPES_LUT
from mmseg_uda.datasets.label_conversion import (LabelTask, find_files,
                                                 make_task, run_converter)

LABEL_ID_SUFFIX = '_gtFine_labelIds.png'
TRAIN_ID_SUFFIX = '_gtFine_labelTrainIds.png'


def collect_tasks(data_root: str) -> List[LabelTask]:
    """One task per ``gtFine/<split>/<city>/*_gtFine_labelIds.png``.

    Args:
        data_root (str): The Cityscapes folder.

    Returns:
        list[LabelTask]: Label ids -> ``*_gtFine_labelTrainIds.png`` in the
        same folder.

    Raises:
        DataRootError: If ``gtFine`` is missing or holds no label-id PNG.
    """
    sources = find_files(
        osp.join(data_root, 'gtFine'), f'*/*/*{LABEL_ID_SUFFIX}',
        'Cityscapes label-id PNGs')
    return [
        make_task(src, src[:-len(LABEL_ID_SUFFIX)] + TRAIN_ID_SUFFIX,
                  data_root) for src in sources
    ]


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter; returns the exit code."""
    return run_converter(args,
                         __doc__.splitlines()[0], collect_tasks,
                         CITYSCAPES_LUT)


if __name__ == '__main__':
    sys.exit(main())
