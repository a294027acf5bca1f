"""Shared machinery of the label converters in ``tools/dataset_converters``.

A converter lists :class:`LabelTask` s (raw label -> train-id label) and calls
:func:`run_converter`, which maps every raw label through a 256-entry lookup
table in parallel, skips outputs that are newer than their source, writes
each output atomically, and stores per-image class pixel counts in
``DATA_ROOT/class_stats.json``::

    {"labels/00001_labelTrainIds.png": {"0": 51234, "10": 8123, ...}, ...}

Keys are output paths relative to the data root (with ``/``); values count
the pixels of each train id present (ignored pixels are not counted).
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image

from .data_root_check import DataRootError

STATS_FILE = 'class_stats.json'
CONVERTED = 'converted'
SKIPPED = 'skipped'
FAILED = 'failed'

# PIL modes whose pixel values are the raw ids: 8-bit grey, or the palette
# indices of a paletted PNG (GTA5; decoding it to colours would lose ids).
_ID_MODES = ('L', 'P')


@dataclass(frozen=True)
class LabelTask:
    """One raw label to convert.

    Args:
        src (str): Raw label file (label ids).
        dst (str): Output file (train ids).
        key (str): ``dst`` relative to the data root, the key in the stats.
    """
    src: str
    dst: str
    key: str


@dataclass(frozen=True)
class LabelResult:
    """Outcome of one :class:`LabelTask`.

    Args:
        key (str): The task's key.
        status (str): ``'converted'``, ``'skipped'`` or ``'failed'``.
        class_counts (dict[str, int]): Train id -> pixel count; empty when
            the task failed.
        error (str): Why the task failed, naming the file.
    """
    key: str
    status: str
    class_counts: Dict[str, int] = field(default_factory=dict)
    error: str = ''


@dataclass
class ConversionSummary:
    """Counts of a whole conversion run."""
    converted: int = 0
    skipped: int = 0
    errors: List[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def __str__(self) -> str:
        total = self.converted + self.skipped + self.failed
        return (f'{total} label files: {self.converted} converted, '
                f'{self.skipped} skipped (up to date), {self.failed} failed')


def read_label_ids(path: str) -> np.ndarray:
    """Read a single-channel 8-bit label PNG without colour expansion.

    Args:
        path (str): A grayscale (mode ``L``) or paletted (mode ``P``) image.

    Returns:
        np.ndarray: The pixel values (palette indices for mode ``P``),
        shape (H, W), dtype ``uint8``.

    Raises:
        ValueError: If the image has another mode (e.g. an RGB colour
            label), naming the file.
        OSError: If the file cannot be decoded.
    """
    with Image.open(path) as img:
        if img.mode not in _ID_MODES:
            raise ValueError(
                f'{path}: expected a single-channel label image with the raw '
                f'ids as pixel values (PIL mode L or P), got mode '
                f'{img.mode!r}')
        return np.array(img, dtype=np.uint8)


def count_train_ids(train_ids: np.ndarray, num_classes: int) -> Dict[str, int]:
    """Count the pixels of every class present in a train-id label.

    Args:
        train_ids (np.ndarray): Label of shape (H, W), dtype ``uint8``.
        num_classes (int): Ids ``>= num_classes`` (ignore) are not counted.

    Returns:
        dict[str, int]: Train id (as a string, for JSON) -> pixel count, for
        the classes with at least one pixel, in increasing id order.
    """
    counts = np.bincount(train_ids.ravel(), minlength=256)[:num_classes]
    return {str(i): int(counts[i]) for i in np.flatnonzero(counts)}


def _atomic_target(path: str) -> str:
    # A hidden temporary name in the destination folder, so that os.replace
    # is a rename on one file system and never exposes a partly written
    # file; the pid keeps concurrent writers apart, and unlike mkstemp an
    # ordinary open keeps the user's umask permissions.
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.{os.getpid()}.tmp')


def write_label_atomic(label: np.ndarray, path: str) -> None:
    """Write a ``uint8`` label as a grayscale PNG, atomically.

    Args:
        label (np.ndarray): Label of shape (H, W), dtype ``uint8``.
        path (str): Output file; replaced only once fully written.
    """
    tmp = _atomic_target(path)
    try:
        Image.fromarray(label).save(tmp, format='PNG')
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_json_atomic(obj: object, path: str) -> None:
    """Write ``obj`` as JSON, atomically (see :func:`write_label_atomic`)."""
    tmp = _atomic_target(path)
    try:
        with open(tmp, 'w') as f:
            json.dump(obj, f)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _up_to_date_counts(task: LabelTask,
                       num_classes: int) -> Optional[Dict[str, int]]:
    """Counts of an existing output newer than its source, else None."""
    if not (osp.isfile(task.dst)
            and osp.getmtime(task.dst) >= osp.getmtime(task.src)):
        return None
    try:
        return count_train_ids(read_label_ids(task.dst), num_classes)
    except (OSError, ValueError):
        # An unreadable output is regenerated rather than trusted.
        return None


def convert_label(task: LabelTask, lut: np.ndarray,
                  num_classes: int) -> LabelResult:
    """Convert one raw label, or count an up-to-date output.

    Never raises: a failure is returned with a message naming the file, so
    that one bad file does not stop a parallel run.

    Args:
        task (LabelTask): What to convert.
        lut (np.ndarray): Raw id -> train id, shape (256, ), ``uint8``.
        num_classes (int): Number of train classes, for the statistics.

    Returns:
        LabelResult: The outcome and the class pixel counts.
    """
    try:
        counts = _up_to_date_counts(task, num_classes)
        if counts is not None:
            return LabelResult(task.key, SKIPPED, counts)
        train_ids = lut[read_label_ids(task.src)]
        write_label_atomic(train_ids, task.dst)
        return LabelResult(task.key, CONVERTED,
                           count_train_ids(train_ids, num_classes))
    except Exception as e:  # noqa: BLE001  reported per file, run goes on
        message = str(e) if task.src in str(e) else f'{task.src}: {e}'
        return LabelResult(
            task.key, FAILED, error=f'{message} ({type(e).__name__})')


def convert_labels(tasks: Sequence[LabelTask],
                   lut: np.ndarray,
                   stats_path: str,
                   nproc: int = 1,
                   num_classes: int = 19) -> ConversionSummary:
    """Convert labels in parallel and write the class statistics.

    Args:
        tasks (Sequence[LabelTask]): Labels to convert.
        lut (np.ndarray): Raw id -> train id, shape (256, ), ``uint8``.
        stats_path (str): Where to write the per-image class pixel counts
            of every converted or skipped label.
        nproc (int): Number of worker processes. Defaults to 1.
        num_classes (int): Number of train classes. Defaults to 19.

    Returns:
        ConversionSummary: Numbers converted and skipped, failure messages.
    """
    worker = partial(convert_label, lut=lut, num_classes=num_classes)
    if nproc > 1:
        results = track_parallel_progress(
            worker, list(tasks), nproc, chunksize=8, keep_order=False)
    else:
        results = track_progress(worker, list(tasks))
    summary = ConversionSummary()
    stats = {}
    for result in results:
        if result.status == FAILED:
            summary.errors.append(result.error)
            continue
        stats[result.key] = result.class_counts
        if result.status == CONVERTED:
            summary.converted += 1
        else:
            summary.skipped += 1
    summary.errors.sort()
    # Sorted by file; each file's counts stay in increasing train-id order.
    write_json_atomic(dict(sorted(stats.items())), stats_path)
    return summary


def find_files(folder: str, pattern: str, what: str) -> List[str]:
    """Sorted files matching ``pattern`` (recursive glob) under ``folder``.

    Args:
        folder (str): The folder to search.
        pattern (str): Glob relative to ``folder``; ``**`` matches any
            number of sub-folders.
        what (str): What the files are, for the error message.

    Returns:
        list[str]: The matching file paths, sorted.

    Raises:
        DataRootError: If the folder does not exist or nothing matches.
    """
    if not osp.isdir(folder):
        raise DataRootError(f'folder {folder!r} does not exist; expected '
                            f'{what} ({pattern}) in it')
    files = sorted(
        f for f in glob.glob(osp.join(folder, pattern), recursive=True)
        if osp.isfile(f))
    if not files:
        raise DataRootError(f'no {what} ({pattern}) found under {folder!r}')
    return files


def make_task(src: str, dst: str, data_root: str) -> LabelTask:
    """A :class:`LabelTask` keyed by ``dst`` relative to ``data_root``."""
    key = osp.relpath(dst, data_root).replace(os.sep, '/')
    return LabelTask(src=src, dst=dst, key=key)


def build_parser(description: str) -> argparse.ArgumentParser:
    """Command-line parser shared by the label converters."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('data_root', help='dataset folder as distributed')
    parser.add_argument(
        '--nproc',
        type=int,
        default=1,
        help='number of worker processes (default: 1)')
    return parser


def run_converter(argv: Optional[Sequence[str]],
                  description: str,
                  collect_tasks: Callable[[str], List[LabelTask]],
                  lut: np.ndarray,
                  num_classes: int = 19) -> int:
    """Parse arguments, convert, print a summary; the converters' ``main``.

    Args:
        argv (Sequence[str], optional): Command-line arguments; ``None``
            reads ``sys.argv``.
        description (str): Help text of the converter.
        collect_tasks (Callable[[str], list[LabelTask]]): Lists the labels
            of a data root; raises :class:`DataRootError` when there are
            none.
        lut (np.ndarray): Raw id -> train id, shape (256, ), ``uint8``.
        num_classes (int): Number of train classes. Defaults to 19.

    Returns:
        int: Exit code: 0 on success, 1 if any file failed, 2 if the data
        root holds no expected files.
    """
    args = build_parser(description).parse_args(argv)
    if args.nproc < 1:
        print(
            f'error: --nproc must be >= 1, got {args.nproc}', file=sys.stderr)
        return 2
    try:
        tasks = collect_tasks(args.data_root)
    except DataRootError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    stats_path = osp.join(args.data_root, STATS_FILE)
    summary = convert_labels(tasks, lut, stats_path, args.nproc, num_classes)
    for error in summary.errors:
        print(f'failed: {error}', file=sys.stderr)
    print(f'\n{summary}; class statistics in {stats_path}')
    return 1 if summary.failed else 0
