"""Shared machinery of the label converters in ``tools/dataset_converters``.

A converter lists :class:`LabelTask` s (raw label -> train-id label) and calls
:func:`run_converter`, which maps every raw label through a 256-entry lookup
table in parallel, skips outputs that are newer than their source, writes
each output atomically, and stores per-image class pixel counts in
``DATA_ROOT/class_stats.json`` (format version 2)::

    {"version": 2,
     "labels": {"labels/00001_labelTrainIds.png":
                    {"num_classes": 19, "pixels": {"0": 51234, "10": 8123}},
                ...}}

Keys are output paths relative to the data root (with ``/``); ``pixels``
counts the pixels of each train id present in the full-resolution label
(ignored pixels are not counted) and ``num_classes`` is the class setting
the label was written in, so a reader can refuse statistics of another
class count. Version 1 (written before rare-class sampling needed the class
count) is the bare mapping ``{key: {train id: pixels}}``; it is still read
(:func:`load_class_stats`), without class counts.

A converter that writes several class settings from one raw label (e.g.
Cityscapes in 19, 16, 13 and 7 classes) names each task's setting
(``LabelTask.setting``) and passes a :class:`ClassMapping` per name instead
of one LUT; the tasks of one raw label are converted together, so the raw
label is decoded once. A dataset whose raw labels are not 8-bit id images
(SYNTHIA) passes its own ``reader``.
"""
import argparse
import glob
import io
import json
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from functools import partial
from typing import (Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image

from ..utils.atomic_write import atomic_write_bytes
from .class_tables import train_id_suffix
from .data_root_check import DataRootError, abbreviate, converter_command

STATS_FILE = 'class_stats.json'
#: Format version of the statistics the converters write.
STATS_VERSION = 2
# Every converter output name contains this.
CONVERTED_MARK = '_labelTrainIds'
CONVERTED = 'converted'
SKIPPED = 'skipped'
FAILED = 'failed'

# Name of the class setting of a converter with a single LUT.
DEFAULT_SETTING = ''

# Reads a raw label file as uint8 ids of shape (H, W).
LabelReader = Callable[[str], np.ndarray]

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
        setting (str): Name of the class setting (LUT) to apply, a key of
            the ``settings`` given to :func:`convert_labels`. Defaults to
            '' (the converter's only LUT).
    """
    src: str
    dst: str
    key: str
    setting: str = DEFAULT_SETTING


@dataclass(frozen=True, eq=False)
class ClassMapping:
    """How one class setting is written.

    Args:
        lut (np.ndarray): Raw id -> train id, shape (256, ), ``uint8``.
        num_classes (int): Number of train classes, for the statistics.
    """
    lut: np.ndarray
    num_classes: int


@dataclass(frozen=True)
class LabelResult:
    """Outcome of one :class:`LabelTask`.

    Args:
        key (str): The task's key.
        status (str): ``'converted'``, ``'skipped'`` or ``'failed'``.
        class_counts (dict[str, int]): Train id -> pixel count; empty when
            the task failed.
        error (str): Why the task failed, naming the file.
        num_classes (int): The class setting of the output; 0 when the task
            failed.
    """
    key: str
    status: str
    class_counts: Dict[str, int] = field(default_factory=dict)
    error: str = ''
    num_classes: int = 0


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


def write_label_atomic(label: np.ndarray, path: str) -> None:
    """Write a ``uint8`` label as a grayscale PNG, atomically.

    Args:
        label (np.ndarray): Label of shape (H, W), dtype ``uint8``.
        path (str): Output file; replaced only once fully written.
    """
    buffer = io.BytesIO()
    Image.fromarray(label).save(buffer, format='PNG')
    atomic_write_bytes(buffer.getvalue(), path)


def write_json_atomic(obj: object, path: str) -> None:
    """Write ``obj`` as JSON, atomically."""
    atomic_write_bytes(json.dumps(obj).encode(), path)


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


def convert_label(task: LabelTask,
                  lut: np.ndarray,
                  num_classes: int,
                  reader: LabelReader = read_label_ids) -> LabelResult:
    """Convert one raw label, or count an up-to-date output.

    Never raises: a failure is returned with a message naming the file, so
    that one bad file does not stop a parallel run.

    Args:
        task (LabelTask): What to convert.
        lut (np.ndarray): Raw id -> train id, shape (256, ), ``uint8``.
        num_classes (int): Number of train classes, for the statistics.
        reader (Callable[[str], np.ndarray]): Reads a raw label as ``uint8``
            ids of shape (H, W). Defaults to :func:`read_label_ids`.

    Returns:
        LabelResult: The outcome and the class pixel counts.
    """
    settings = {task.setting: ClassMapping(lut, num_classes)}
    return convert_source([task], settings, reader)[0]


def convert_source(tasks: Sequence[LabelTask],
                   settings: Mapping[str, ClassMapping],
                   reader: LabelReader = read_label_ids) -> List[LabelResult]:
    """Convert the tasks of one raw label, decoding it at most once.

    Outputs that are up to date are only counted; the raw label is read
    only if some output needs writing. Never raises (see
    :func:`convert_label`); if the raw label cannot be read, every task
    that needed it fails.

    Args:
        tasks (Sequence[LabelTask]): Tasks sharing one ``src``.
        settings (Mapping[str, ClassMapping]): Setting name -> mapping.
        reader (Callable[[str], np.ndarray]): Reads a raw label as ``uint8``
            ids of shape (H, W).

    Returns:
        list[LabelResult]: One result per task, in order.
    """
    results: List[Optional[LabelResult]] = [None] * len(tasks)
    for i, task in enumerate(tasks):
        try:
            counts = _up_to_date_counts(task,
                                        settings[task.setting].num_classes)
        except Exception as e:  # noqa: BLE001  e.g. the source vanished
            results[i] = _failure(task, e)
            continue
        if counts is not None:
            results[i] = LabelResult(
                task.key,
                SKIPPED,
                counts,
                num_classes=settings[task.setting].num_classes)
    todo = [i for i, result in enumerate(results) if result is None]
    if not todo:
        return results
    src = tasks[todo[0]].src
    try:
        raw = reader(src)
    except Exception as e:  # noqa: BLE001  reported per file, run goes on
        for i in todo:
            results[i] = _failure(tasks[i], e)
        return results
    for i in todo:
        task = tasks[i]
        mapping = settings[task.setting]
        try:
            train_ids = mapping.lut[raw]
            write_label_atomic(train_ids, task.dst)
            results[i] = LabelResult(
                task.key,
                CONVERTED,
                count_train_ids(train_ids, mapping.num_classes),
                num_classes=mapping.num_classes)
        except Exception as e:  # noqa: BLE001
            results[i] = _failure(task, e)
    return results


def _failure(task: LabelTask, error: Exception) -> LabelResult:
    message = str(error)
    if task.src not in message and task.dst not in message:
        message = f'{task.src}: {message}'
    return LabelResult(
        task.key, FAILED, error=f'{message} ({type(error).__name__})')


def _group_by_source(tasks: Sequence[LabelTask]) -> List[List[LabelTask]]:
    groups: Dict[str, List[LabelTask]] = {}
    for task in tasks:
        groups.setdefault(task.src, []).append(task)
    return list(groups.values())


def convert_labels(tasks: Sequence[LabelTask],
                   lut: Union[np.ndarray, Mapping[str, ClassMapping]],
                   stats_path: str,
                   nproc: int = 1,
                   num_classes: int = 19,
                   reader: LabelReader = read_label_ids) -> ConversionSummary:
    """Convert labels in parallel and write the class statistics.

    The progress bar counts raw labels; the summary counts output files.

    Args:
        tasks (Sequence[LabelTask]): Labels to convert.
        lut (np.ndarray | Mapping[str, ClassMapping]): Raw id -> train id,
            shape (256, ), ``uint8``, for every task; or one
            :class:`ClassMapping` per ``LabelTask.setting``.
        stats_path (str): Where to write the per-image class pixel counts
            of every converted or skipped label.
        nproc (int): Number of worker processes. Defaults to 1.
        num_classes (int): Number of train classes when ``lut`` is an
            array. Defaults to 19.
        reader (Callable[[str], np.ndarray]): Reads a raw label as ``uint8``
            ids of shape (H, W); must be a module-level function (worker
            processes unpickle it). Defaults to :func:`read_label_ids`.

    Returns:
        ConversionSummary: Numbers converted and skipped, failure messages.

    Raises:
        KeyError: If a task names a setting that ``lut`` does not define.
    """
    settings = _as_settings(lut, num_classes)
    unknown = sorted({t.setting for t in tasks} - set(settings))
    if unknown:
        raise KeyError(f'tasks name class settings {unknown} that are not '
                       f'defined; defined: {sorted(settings)}')
    groups = _group_by_source(tasks)
    worker = partial(convert_source, settings=settings, reader=reader)
    if nproc > 1:
        grouped = track_parallel_progress(
            worker, groups, nproc, chunksize=8, keep_order=False)
    else:
        grouped = track_progress(worker, groups)
    summary = ConversionSummary()
    stats = {}
    for result in (r for results in grouped for r in results):
        if result.status == FAILED:
            summary.errors.append(result.error)
            continue
        stats[result.key] = dict(
            num_classes=result.num_classes, pixels=result.class_counts)
        if result.status == CONVERTED:
            summary.converted += 1
        else:
            summary.skipped += 1
    summary.errors.sort()
    # Sorted by file; each file's counts stay in increasing train-id order.
    write_json_atomic(
        dict(version=STATS_VERSION, labels=dict(sorted(stats.items()))),
        stats_path)
    return summary


def _as_settings(lut: Union[np.ndarray, Mapping[str, ClassMapping]],
                 num_classes: int) -> Dict[str, ClassMapping]:
    if isinstance(lut, np.ndarray):
        return {DEFAULT_SETTING: ClassMapping(lut, num_classes)}
    return dict(lut)


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


def make_task(src: str,
              dst: str,
              data_root: str,
              setting: str = DEFAULT_SETTING) -> LabelTask:
    """A :class:`LabelTask` keyed by ``dst`` relative to ``data_root``."""
    key = osp.relpath(dst, data_root).replace(os.sep, '/')
    return LabelTask(src=src, dst=dst, key=key, setting=setting)


def make_setting_tasks(src: str, dst_stem: str, data_root: str,
                       num_classes: Sequence[int]) -> List[LabelTask]:
    """One task per class setting for a raw label.

    Args:
        src (str): The raw label.
        dst_stem (str): Output path up to the class count, e.g.
            ``'.../aachen_000000_000019_gtFine_labelTrainIds'``; setting
            ``N`` is written to ``dst_stem + 'N.png'`` (``dst_stem +
            '.png'`` for 19 classes, see
            :func:`~mmseg_uda.datasets.class_tables.train_id_suffix`).
        data_root (str): The data root, for the keys.
        num_classes (Sequence[int]): The class settings to write.

    Returns:
        list[LabelTask]: Tasks whose ``setting`` is ``str(N)``.
    """
    return [
        make_task(src, dst_stem + train_id_suffix(n, ''), data_root, str(n))
        for n in num_classes
    ]


def setting_mappings(
        luts: Mapping[int, np.ndarray]) -> Dict[str, ClassMapping]:
    """Class mappings keyed as :func:`make_setting_tasks` names them.

    Args:
        luts (Mapping[int, np.ndarray]): Number of classes -> LUT.

    Returns:
        dict[str, ClassMapping]: ``str(N)`` -> mapping with N classes.
    """
    return {str(n): ClassMapping(lut, n) for n, lut in luts.items()}


def is_converted_label(path: str) -> bool:
    """Whether a file is a converter output (``*_labelTrainIds*.png``)."""
    return CONVERTED_MARK in osp.basename(path)


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
                  lut: Union[np.ndarray, Mapping[str, ClassMapping]],
                  num_classes: int = 19,
                  reader: LabelReader = read_label_ids) -> int:
    """Parse arguments, convert, print a summary; the converters' ``main``.

    Args:
        argv (Sequence[str], optional): Command-line arguments; ``None``
            reads ``sys.argv``.
        description (str): Help text of the converter.
        collect_tasks (Callable[[str], list[LabelTask]]): Lists the labels
            of a data root; raises :class:`DataRootError` when there are
            none.
        lut (np.ndarray | Mapping[str, ClassMapping]): Raw id -> train id,
            shape (256, ), ``uint8``; or one mapping per class setting (see
            :func:`convert_labels`).
        num_classes (int): Number of train classes when ``lut`` is an
            array. Defaults to 19.
        reader (Callable[[str], np.ndarray]): Reads a raw label as ``uint8``
            ids. Defaults to :func:`read_label_ids`.

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
    summary = convert_labels(tasks, lut, stats_path, args.nproc, num_classes,
                             reader)
    for error in summary.errors:
        print(f'failed: {error}', file=sys.stderr)
    print(f'\n{summary}; class statistics in {stats_path}')
    return 1 if summary.failed else 0


@dataclass(frozen=True)
class ClassStats:
    """The contents of a ``class_stats.json``.

    Attributes:
        path (str): The file.
        version (int): Its format version (1 or 2).
        pixels (dict[str, dict[str, int]]): Label path relative to the
            file's folder -> train id (as a string) -> pixel count.
        num_classes (dict[str, int]): Label path -> the class setting it
            was counted in; empty for version 1, which does not record it.
    """
    path: str
    version: int
    pixels: Dict[str, Dict[str, int]]
    num_classes: Dict[str, int]


def _is_count_map(obj: object) -> bool:
    return isinstance(obj, dict) and all(
        isinstance(n, int) for n in obj.values())


def read_class_stats(stats_path: str, command: str = '') -> ClassStats:
    """Read and check the per-image class statistics a converter wrote.

    Args:
        stats_path (str): The ``class_stats.json`` file, format version 2
            or 1 (see the module docstring).
        command (str): The converter command that creates it, for the
            error message. Defaults to ''.

    Returns:
        ClassStats: Pixel counts (and, from version 2, class settings) per
        label file.

    Raises:
        DataRootError: If the file is missing, unreadable, of an unknown
            version or not of the documented shape, naming it.
    """
    hint = f' Create it with `{command}`.' if command else ''
    if not osp.isfile(stats_path):
        raise DataRootError(
            f'class statistics {stats_path!r} do not exist.{hint}')
    try:
        with open(stats_path) as f:
            stats = json.load(f)
    except (OSError, ValueError) as e:
        raise DataRootError(f'cannot read class statistics {stats_path!r} '
                            f'({type(e).__name__}: {e}).{hint}') from e
    if isinstance(stats, dict) and 'version' in stats:
        version = stats['version']
        if version != STATS_VERSION:
            raise DataRootError(
                f'class statistics {stats_path!r} have format version '
                f'{version!r}; this code reads versions 1 and '
                f'{STATS_VERSION}.{hint}')
        labels = stats.get('labels')
        if not isinstance(labels, dict) or not all(
                isinstance(v, dict) and isinstance(v.get('num_classes'), int)
                and _is_count_map(v.get('pixels')) for v in labels.values()):
            raise DataRootError(
                f'class statistics {stats_path!r} (version {version}) are '
                'not a mapping "labels" of label files to {"num_classes": '
                f'int, "pixels": {{train id: count}}}}.{hint}')
        return ClassStats(stats_path, version,
                          {k: v['pixels']
                           for k, v in labels.items()},
                          {k: v['num_classes']
                           for k, v in labels.items()})
    if not isinstance(stats, dict) or not all(
            _is_count_map(v) for v in stats.values()):
        raise DataRootError(f'class statistics {stats_path!r} are not a '
                            f'mapping of label files to class counts.{hint}')
    return ClassStats(stats_path, 1, stats, {})


def load_class_stats(stats_path: str,
                     command: str = '') -> Dict[str, Dict[str, int]]:
    """Per-image class pixel counts of a ``class_stats.json`` (any version).

    Args:
        stats_path (str): The ``class_stats.json`` file.
        command (str): The converter command that creates it, for the
            error message. Defaults to ''.

    Returns:
        dict[str, dict[str, int]]: Label path relative to the file's folder
        -> train id (as a string) -> pixel count.

    Raises:
        DataRootError: If the file is missing or is not such a mapping.
    """
    return read_class_stats(stats_path, command).pixels


def stats_keys(seg_map_paths: Sequence[str], stats_path: str) -> List[str]:
    """Keys of label files in a ``class_stats.json``.

    Args:
        seg_map_paths (Sequence[str]): Label files, as in a dataset's data
            list.
        stats_path (str): The statistics file; keys are relative to its
            folder.

    Returns:
        list[str]: One key per label file, with ``/`` separators.
    """
    root = osp.dirname(osp.abspath(stats_path))
    return [
        osp.relpath(osp.abspath(path), root).replace(os.sep, '/')
        for path in seg_map_paths
    ]


def class_pixel_totals(stats: Mapping[str, Mapping[str, int]],
                       keys: Sequence[str],
                       num_classes: int,
                       stats_path: str = 'class statistics') -> np.ndarray:
    """Pixel count of every class over a set of label files.

    The source-frequency class weights and the spatial-prior thresholds of
    the depth method (METHODS.md section 5) are functions of these totals.

    Args:
        stats (Mapping[str, Mapping[str, int]]): As loaded by
            :func:`load_class_stats`.
        keys (Sequence[str]): The label files to sum over (see
            :func:`stats_keys`).
        num_classes (int): Number of classes.
        stats_path (str): Name of the statistics, for the error message.

    Returns:
        np.ndarray: Counts of shape (num_classes, ), dtype ``int64``.

    Raises:
        KeyError: If a key is missing from the statistics, naming it.
    """
    totals = np.zeros(num_classes, dtype=np.int64)
    for key in keys:
        if key not in stats:
            raise KeyError(f'{key!r} is not in {stats_path}: re-run the '
                           f'converter of this dataset')
        for class_id, count in stats[key].items():
            if int(class_id) < num_classes:
                totals[int(class_id)] += count
    return totals


def dataset_class_pixels(dataset,
                         stats_file: Optional[str] = None,
                         require_num_classes: bool = False,
                         user: str = 'class statistics'
                         ) -> Tuple[str, List[Dict[int, int]]]:
    """The class pixel counts of every image of a labelled dataset.

    Read from the statistics its converter wrote, looked up by each
    sample's ``seg_map_path`` relative to the statistics' folder.

    Args:
        dataset (BaseSegDataset): The labelled dataset, with
            ``seg_map_path`` in every data info and ``classes`` in its
            ``metainfo``.
        stats_file (str, optional): The statistics; defaults to
            ``class_stats.json`` in the dataset's ``data_root``.
        require_num_classes (bool): Refuse statistics that do not record
            the class setting (version 1), entries counted in another
            number of classes than the dataset's and train ids outside it.
            Without it, ids outside the dataset's classes are dropped.
            Defaults to False.
        user (str): What needs the statistics, for messages.

    Returns:
        tuple[str, list[dict[int, int]]]: The statistics file and, per
        image in dataset order, train id -> full-resolution pixel count
        (classes with at least one pixel).

    Raises:
        DataRootError: If the statistics are missing, lack an image or (with
            ``require_num_classes``) do not fit the dataset's class count,
            naming the file and the converter command.
        ValueError: If the dataset has no labels.
    """
    owner = type(dataset).__name__
    data_root = getattr(dataset, 'data_root', None)
    command = converter_command(
        getattr(dataset, 'converter_script', '') or 'NAME.py', data_root)
    if stats_file is None:
        if not data_root:
            raise ValueError(f'{owner} has no data_root; give {user} its '
                             f'stats_file')
        stats_file = osp.join(data_root, STATS_FILE)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not all(info.get('seg_map_path') for info in infos):
        raise ValueError(f'{owner} has samples without seg_map_path; {user} '
                         f'needs a labelled dataset')
    stats = read_class_stats(stats_file, command)
    keys = stats_keys([info['seg_map_path'] for info in infos], stats_file)
    missing = [key for key in keys if key not in stats.pixels]
    if missing:
        raise DataRootError(
            f'{len(missing)} of {len(keys)} label files of {owner} have no '
            f'entry in {stats_file!r}, e.g. {abbreviate(missing)}. Re-run '
            f'`{command}`.')
    num_classes = len(dataset.metainfo['classes'])
    if require_num_classes:
        _check_num_classes(stats, keys, num_classes, owner, user, command)
    return stats_file, [{
        int(c): n
        for c, n in stats.pixels[key].items() if int(c) < num_classes
    } for key in keys]


def _check_num_classes(stats: ClassStats, keys: Sequence[str],
                       num_classes: int, owner: str, user: str,
                       command: str) -> None:
    if stats.version < 2:
        raise DataRootError(
            f'{user}: class statistics {stats.path!r} are format version '
            f'{stats.version}, which does not record the number of classes '
            f'the labels were counted in. Re-run `{command}` (labels that '
            f'are up to date are only re-counted) to write version '
            f'{STATS_VERSION}.')
    other = [k for k in keys if stats.num_classes[k] != num_classes]
    if other:
        counts = sorted({stats.num_classes[k] for k in other})
        raise DataRootError(
            f'{user}: {len(other)} of {len(keys)} entries of {owner} in '
            f'{stats.path!r} were counted in {counts} classes, but the '
            f'dataset has {num_classes} classes, e.g. {abbreviate(other)}. '
            'Use the statistics of the labels the dataset reads (its '
            f'num_classes setting) or re-run `{command}`.')
    outside = [
        k for k in keys
        if any(not 0 <= int(c) < num_classes for c in stats.pixels[k])
    ]
    if outside:
        raise DataRootError(
            f'{user}: {len(outside)} entries of {stats.path!r} count train '
            f'ids outside the {num_classes} classes of {owner}, e.g. '
            f'{abbreviate(outside)}. Re-run `{command}`.')
