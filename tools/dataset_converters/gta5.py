"""Convert GTA5 labels to the 19 Cityscapes train ids.

Usage::

    python tools/dataset_converters/gta5.py DATA_ROOT [--nproc N]

``DATA_ROOT`` is the folder as distributed, with ``images/*.png`` and
``labels/*.png``. The raw labels are paletted PNGs whose palette indices are
Cityscapes label ids. Writes ``labels/<name>_labelTrainIds.png`` next to
each raw label and ``DATA_ROOT/class_stats.json``. Re-running skips labels
that are already converted.

The official train/val/test split (``split.mat`` with ``trainIds``,
``valIds``, ``testIds``; it ships with GTA5's ``read_mapping`` code) is what
``GTA5Dataset(split='train')`` (MaxSquare's configs) reads from
``DATA_ROOT/split.mat``; the converter checks it after converting and says
where to get it if it is missing.
"""
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmseg_uda.datasets.class_tables import CITYSCAPES_LUT
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.gta5 import (SPLIT_FILE, SPLIT_SOURCE, frame_number,
                                     read_split_file)
from mmseg_uda.datasets.label_conversion import (LabelTask, build_parser,
                                                 find_files, make_task,
                                                 run_converter)

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


def check_split(data_root: str) -> int:
    """Report the official split file, if any; returns the exit code.

    Args:
        data_root (str): The GTA5 folder.

    Returns:
        int: 0 if ``split.mat`` is absent (a note says where it ships) or
        valid, 1 if it is unreadable or lists frames without an image.
    """
    path = osp.join(data_root, SPLIT_FILE)
    if not osp.isfile(path):
        print(f'note: no {path}; the MaxSquare configs train on the official '
              f"split (GTA5Dataset split='train'): get split.mat from "
              f'{SPLIT_SOURCE}')
        return 0
    try:
        split = read_split_file(path)
        images = {
            frame_number(f)
            for f in find_files(osp.join(data_root, 'images'), '*.png',
                                'GTA5 images')
        }
    except (DataRootError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for name, ids in split.items():
        missing = [int(i) for i in ids if int(i) not in images]
        if missing:
            print(f'error: {path}: {len(missing)} {name} frames have no '
                  f'image in images/, e.g. {missing[:5]}', file=sys.stderr)
            return 1
    print(f'{path}: ' + ', '.join(f'{name} {len(ids)}'
                                  for name, ids in split.items()))
    return 0


def main(args: Optional[Sequence[str]] = None) -> int:
    """Run the converter and check the split file; returns the exit code."""
    description = __doc__.splitlines()[0]
    code = run_converter(args, description, collect_tasks, CITYSCAPES_LUT)
    if code != 0:
        return code
    return check_split(build_parser(description).parse_args(args).data_root)


if __name__ == '__main__':
    sys.exit(main())
