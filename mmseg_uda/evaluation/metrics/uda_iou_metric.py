"""IoU metric that states its evaluation convention and scores class subsets.

METHODS.md §0 "Evaluation conventions": every reported number must say how
it was obtained (label resolution, flip averaging, multi-scale, which
checkpoint), SYNTHIA runs report a 16-class and a 13-class mIoU, and the
mean is a nanmean over the classes that appear. The convention line reports
what the evaluated samples and the loaded checkpoint show, not what a config
declares.
"""
import math
import re
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.logging import MessageHub, MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable

from ...datasets.transforms.checked_load_annotations import check_label_values
from ..prediction_export import (check_format, prediction_path, value_table,
                                 write_prediction, write_sidecar)
from ..runtime_info_keys import CHECKPOINT_INFO_KEY, PER_CLASS_IOU_KEY

LABEL_RESOLUTIONS = {
    'full': 'labels at full resolution',
    'inference': 'labels at inference size',
}
CHECKPOINTS = {
    'final': 'final',
    'best': 'best on the evaluation set (selected on it, opt-in)',
}
# Metric names the parent class already returns; subsets must not shadow them.
_RESERVED_NAMES = ('aAcc', 'mIoU', 'mAcc', 'mDice', 'mFscore', 'mPrecision',
                   'mRecall')
# mmengine's CheckpointHook infers the 'greater' rule for keys containing
# 'miou' (case-insensitive); '/' separates the evaluator prefix and
# whitespace breaks checkpoint file names.
_SUBSET_NAME = re.compile(r'[^\s/]*mIoU[^\s/]*', re.IGNORECASE)
# What one sample shows about how it was scored: label (h, w) compared,
# the image file's (h, w) (None: unknown), the input (h, w) of each view
# (None: unknown) and whether each view was flipped.
Measurement = Tuple[Tuple[int, int], Optional[Tuple[int, int]],
                    Optional[Tuple[Tuple[int, int], ...]], Tuple[bool, ...]]


@METRICS.register_module()
class UDAIoUMetric(IoUMetric):
    """IoU metric for domain adaptation benchmarks.

    Extends MMSeg's :class:`IoUMetric` with

    - ``eval_classes``: the headline mIoU (and the printed table) covers
      only these classes. Label pixels of the dataset's other classes are
      treated as ignored, exactly as if the dataset had been relabelled to
      ``eval_classes`` (e.g. SYNTHIA→Cityscapes scored on 16 of Cityscapes'
      19 classes: a val pixel of ``terrain`` is not counted; a prediction of
      an excluded class on an evaluated pixel is still a miss).
    - ``class_subsets``: one extra mIoU per named subset of the evaluated
      classes, e.g. ``{'mIoU*': [13 names]}``.
    - a logged line stating the evaluation convention as measured, e.g.
      ``Evaluation convention: labels at full resolution (compared at
      2048x1024), input 1024x512, flip averaging: on (2 views), multi-scale:
      off, checkpoint: iter 600 of 600 (end of the schedule), classes:
      19 (mIoU)``. Sizes are W x H. The label size is the one compared; the
      input size and flip come from each sample's metainfo (the
      ``tta_views`` of :class:`MeasuredSegTTAModel` under ``--tta``); the
      checkpoint's iteration and the schedule's length from
      :class:`CheckpointInfoHook` (``tools/test.py`` adds it).
    - ``output_dir``: prediction PNGs in a named format (``output_format``,
      see :mod:`mmseg_uda.evaluation.prediction_export`) with a sidecar.

    Every mean is a nanmean over the evaluated classes: a class that is
    neither in the labels nor in the predictions has IoU NaN and is left
    out (set ``nan_to_num`` to count it instead). Returned values are
    percentages rounded to 2 decimals, like :class:`IoUMetric`, keyed
    ``mIoU``, the subset names, ``mAcc`` (and ``mDice``... if requested),
    ``aAcc``; all of them work as ``save_best`` keys of mmengine's
    ``CheckpointHook`` with the rule inferred as 'greater'.

    ``label_resolution``, ``flip`` and ``img_ratios`` declare what the test
    pipeline should do; each sample is checked against them (a clear error
    naming the image otherwise), and the logged line reports what was
    measured. ``checkpoint='best'`` adds that the checkpoint was selected on
    the evaluation set.

    Args:
        ignore_index (int): Label value that is not evaluated.
            Defaults to 255.
        eval_classes (Sequence[str], optional): Names of the dataset classes
            the headline mIoU covers. Defaults to None (all classes).
        class_subsets (dict[str, Sequence[str]], optional): Extra scores:
            metric name -> names of (evaluated) classes. A name must contain
            ``mIoU``, e.g. ``'mIoU*'`` or ``'mIoU13'``, and no whitespace or
            ``/``. Defaults to None.
        label_resolution (str): ``'full'`` (labels at their original
            resolution, predictions upsampled to it) or ``'inference'``
            (labels nearest-resized to the inference size, see
            ``LabelsAtInferenceSize``). Defaults to 'full'.
        flip (bool, optional): If given, every sample must (True) or must
            not (False) average a horizontally flipped view. Defaults to None
            (not checked; measured and logged anyway).
        img_ratios (Sequence[float], optional): If given, every sample must
            average this many input scales (``(1.0, )``: one). Defaults to
            None (not checked; measured and logged anyway).
        checkpoint (str): Which weights are evaluated: ``'final'`` or
            ``'best'`` (chosen on the evaluation set itself, as the released
            implementations do; logged as such). The line also reports the
            loaded iteration against the schedule's length.
            Defaults to 'final'.
        iou_metrics (Sequence[str]): As in :class:`IoUMetric`; must contain
            ``'mIoU'``. Defaults to ('mIoU', ).
        output_format (str): Format of the PNGs written to ``output_dir``:
            ``'train_ids'`` or ``'cityscapes_label_ids'``.
            Defaults to 'train_ids'.
        **kwargs: Other arguments of :class:`IoUMetric` (``nan_to_num``,
            ``beta``, ``collect_device``, ``output_dir``, ``format_only``,
            ``prefix``).
    """

    def __init__(self,
                 ignore_index: int = 255,
                 eval_classes: Optional[Sequence[str]] = None,
                 class_subsets: Optional[Dict[str, Sequence[str]]] = None,
                 label_resolution: str = 'full',
                 flip: Optional[bool] = None,
                 img_ratios: Optional[Sequence[float]] = None,
                 checkpoint: str = 'final',
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 output_format: str = 'train_ids',
                 **kwargs) -> None:
        if 'mIoU' not in iou_metrics:
            raise ValueError('UDAIoUMetric needs iou_metrics to contain '
                             f"'mIoU', got {list(iou_metrics)}")
        super().__init__(
            ignore_index=ignore_index, iou_metrics=list(iou_metrics), **kwargs)
        self.eval_classes = self._check_class_list(eval_classes,
                                                   'eval_classes')
        self.class_subsets = self._check_class_subsets(class_subsets or {})
        self.label_resolution = self._check_choice(label_resolution,
                                                   LABEL_RESOLUTIONS,
                                                   'label_resolution')
        if flip is not None and not isinstance(flip, bool):
            raise ValueError(f'UDAIoUMetric flip must be a bool, got {flip!r}')
        self.flip = flip
        self.img_ratios = (None if img_ratios is None else
                           self._check_img_ratios(img_ratios))
        self.checkpoint = self._check_choice(checkpoint, CHECKPOINTS,
                                             'checkpoint')
        self.output_format = check_format(output_format)
        # Dataset indices of the evaluated classes and of each subset; set
        # once the dataset's class names are known.
        self._eval_indices: Optional[List[int]] = None
        self._subset_indices: Dict[str, List[int]] = {}
        self._resolved_classes: Optional[tuple] = None
        # What the last evaluation measured (None before the first).
        self._measured: Optional[List[Measurement]] = None
        self._sidecar_written = False

    @staticmethod
    def _check_choice(value: str, choices: dict, arg: str) -> str:
        if value not in choices:
            raise ValueError(f'UDAIoUMetric {arg} must be one of '
                             f'{list(choices)}, got {value!r}')
        return value

    @staticmethod
    def _check_class_list(names: Optional[Sequence[str]],
                          arg: str) -> Optional[List[str]]:
        if names is None:
            return None
        if isinstance(names, str) or not all(
                isinstance(name, str) for name in names):
            raise ValueError(f'UDAIoUMetric {arg} must be a list of class '
                             f'names, got {names!r}')
        if len(names) == 0:
            raise ValueError(f'UDAIoUMetric {arg} is empty')
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(
                f'UDAIoUMetric {arg} lists {duplicates} more than once')
        return list(names)

    def _check_class_subsets(
            self, subsets: Dict[str, Sequence[str]]) -> Dict[str, List[str]]:
        checked = OrderedDict()
        for name, classes in subsets.items():
            if not isinstance(name, str) or not _SUBSET_NAME.fullmatch(name):
                raise ValueError(
                    f'UDAIoUMetric class_subsets key {name!r} must contain '
                    "'mIoU' (so that CheckpointHook's save_best infers the "
                    "'greater' rule) and no whitespace or '/'")
            if name in _RESERVED_NAMES:
                raise ValueError(
                    f'UDAIoUMetric class_subsets key {name!r} would shadow '
                    f'a metric of the same name; reserved: {_RESERVED_NAMES}')
            checked[name] = self._check_class_list(
                classes, f'class_subsets[{name!r}]')
        return checked

    @staticmethod
    def _check_img_ratios(img_ratios: Sequence[float]) -> List[float]:
        ratios = list(img_ratios)
        if not ratios or not all(
                isinstance(r, (int, float)) and r > 0 for r in ratios):
            raise ValueError('UDAIoUMetric img_ratios must be a non-empty '
                             f'list of positive numbers, got {img_ratios!r}')
        return [float(r) for r in ratios]

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Optional[dict]: Meta info of the dataset."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        """Set the dataset meta info and check the configured class names.

        The runner sets this before the first evaluation, so a misspelt
        class name fails at start-up rather than after a full test pass.
        """
        self._dataset_meta = dataset_meta
        self._resolve_classes()

    @staticmethod
    def _lookup(names: Sequence[str], known: Sequence[str],
                arg: str) -> List[int]:
        """Positions of ``names`` in ``known``; unknown names raise."""
        position = {name: i for i, name in enumerate(known)}
        unknown = [name for name in names if name not in position]
        if unknown:
            raise ValueError(
                f'UDAIoUMetric {arg} names unknown class(es) '
                f'{unknown}; known classes: {list(known)}')
        return [position[name] for name in names]

    def _resolve_classes(self) -> None:
        """Map ``eval_classes`` and ``class_subsets`` to dataset indices."""
        classes = tuple(self.dataset_meta['classes'])
        if classes == self._resolved_classes:
            return
        eval_names = self.eval_classes or list(classes)
        eval_indices = self._lookup(eval_names, classes, 'eval_classes')
        # Subsets are looked up among the evaluated classes: label pixels
        # of the other classes are ignored, so their IoU means nothing.
        subset_indices = {
            name: [
                eval_indices[i] for i in self._lookup(
                    names, eval_names, f'class_subsets[{name!r}]')
            ]
            for name, names in self.class_subsets.items()
        }
        self._eval_indices = eval_indices
        self._subset_indices = subset_indices
        self._resolved_classes = classes

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Check each prediction/label pair, accumulate its areas and what
        it shows about the convention, and write its PNG if asked.

        Args:
            data_batch (dict): A batch of data from the dataloader.
            data_samples (Sequence[dict]): Model outputs with
                ``pred_sem_seg`` (1, H, W), ``gt_sem_seg`` (1, H, W) and
                the metainfo of the test pipeline.
        """
        self._resolve_classes()
        num_classes = len(self.dataset_meta['classes'])
        for data_sample in data_samples:
            pred_label = data_sample['pred_sem_seg']['data'].squeeze(0)
            measurement = None
            if not self.format_only:
                measurement = self._measure(data_sample)
                self._check_sample(data_sample, measurement)
                self._check_label_values(data_sample)
                label = data_sample['gt_sem_seg']['data'].squeeze(0).to(
                    pred_label)
                self.results.append(
                    self.intersect_and_union(pred_label, label, num_classes,
                                             self.ignore_index) +
                    (measurement, ))
            if self.output_dir is not None:
                self._write_prediction(data_sample, pred_label, measurement)

    @staticmethod
    def _measure(data_sample: dict) -> Measurement:
        """Label size compared, image file size, input size of each view and
        flip of each view, from the sample's data and metainfo."""
        label_hw = tuple(data_sample['gt_sem_seg']['data'].shape[-2:])
        views = data_sample.get('tta_views')
        if views is None:
            img_shape = data_sample.get('img_shape')
            views = [dict(img_shape=img_shape,
                          flip=data_sample.get('flip', False))]
        input_hws = tuple(
            tuple(int(s) for s in view['img_shape'][:2]) for view in views
            if view.get('img_shape'))
        flips = tuple(bool(view.get('flip', False)) for view in views)
        return (label_hw, _file_hw(data_sample), input_hws
                or None, flips)

    def _check_sample(self, data_sample: dict,
                      measurement: Measurement) -> None:
        """Refuse a sample that contradicts the prediction's size or the
        declared ``label_resolution``, ``flip`` or ``img_ratios``."""
        label_hw, file_hw, input_hws, flips = measurement
        pred_hw = tuple(data_sample['pred_sem_seg']['data'].shape[-2:])
        where = data_sample.get('img_path', '<unknown image>')
        if pred_hw != label_hw:
            raise ValueError(
                f'{where}: prediction has (H, W) = {pred_hw} but its label '
                f'has {label_hw}. Predictions are resized to ori_shape: load '
                'labels after Resize (label_resolution="full") or add '
                'LabelsAtInferenceSize after LoadAnnotations '
                '(label_resolution="inference").')
        scale_factor = data_sample.get('scale_factor')
        resized = (
            scale_factor is not None and input_hws is not None
            and not np.allclose(scale_factor, 1.0))
        if resized and self.label_resolution == 'full' and \
                label_hw == input_hws[0] and label_hw != file_hw:
            # A label of the resized image's size, although the image was
            # resized, can only come from resizing the label too.
            raise ValueError(
                f'{where}: the label was resized with the image to '
                f'{label_hw} (scale_factor {scale_factor}) but the metric '
                "declares label_resolution='full'; set "
                "label_resolution='inference' or load labels after Resize")
        if resized and self.label_resolution == 'inference' and \
                file_hw is not None and label_hw == file_hw and \
                label_hw != input_hws[0]:
            raise ValueError(
                f'{where}: the label is at the full resolution {label_hw} '
                f'(input {input_hws[0]}) but the metric declares '
                "label_resolution='inference'; add LabelsAtInferenceSize "
                'after LoadAnnotations or declare label_resolution="full"')
        if self.flip is not None and self.flip != (True in flips):
            raise ValueError(
                f'{where}: the metric declares flip={self.flip} but the '
                f'sample averaged views with flips {list(flips)} (flip '
                'averaging is `tools/test.py --tta`)')
        if self.img_ratios is not None and input_hws is not None and len(
                set(input_hws)) != len(self.img_ratios):
            raise ValueError(
                f'{where}: the metric declares img_ratios '
                f'{self.img_ratios} but the sample averaged input sizes '
                f'{sorted(set(input_hws))}')

    def _write_prediction(self, data_sample: dict, pred_label: torch.Tensor,
                          measurement: Optional[Measurement]) -> None:
        """Write the prediction PNG (and, once, the format sidecar)."""
        classes = self.dataset_meta['classes']
        evaluated = [classes[i] for i in self._eval_indices]
        table = value_table(classes, self.output_format, evaluated)
        where = data_sample.get('img_path', '<unknown image>')
        if (self.output_format == 'cityscapes_label_ids'
                and measurement is not None and measurement[1] is not None
                and measurement[0] != measurement[1]):
            raise ValueError(
                f'{where}: Cityscapes label-id export needs predictions at '
                f'the image resolution {measurement[1]}, got '
                f'{measurement[0]} (labels at inference size); export with '
                'the full-resolution test pipeline')
        write_prediction(pred_label.cpu().numpy().astype(np.intp), table,
                         prediction_path(self.output_dir, where,
                                         self.output_format))
        if not self._sidecar_written and is_main_process():
            write_sidecar(self.output_dir, self.output_format, classes, table)
            self._sidecar_written = True

    def _check_label_values(self, data_sample: dict) -> None:
        """Refuse label values outside the classes: they would silently
        change the IoUs (whatever loaded the label)."""
        label = data_sample['gt_sem_seg']['data']
        num_classes = len(self.dataset_meta['classes'])
        bad = ((label >= num_classes) & (label != self.ignore_index)) | (
            label < 0)
        if bool(bad.any()):
            where = (data_sample.get('seg_map_path')
                     or data_sample.get('img_path', '<unknown label>'))
            check_label_values(label.cpu().numpy(), num_classes,
                               self.ignore_index, where)

    def intersect_and_union(self, pred_label: torch.Tensor,
                            label: torch.Tensor, num_classes: int,
                            ignore_index: int):
        """Areas per class, with label pixels of classes outside
        ``eval_classes`` ignored.

        Args:
            pred_label (torch.Tensor): Predicted class map (H, W).
            label (torch.Tensor): Label map (H, W).
            num_classes (int): Number of dataset classes.
            ignore_index (int): Label value that is not evaluated.

        Returns:
            tuple[torch.Tensor]: Intersection, union, prediction and label
            areas, each of shape (num_classes, ).
        """
        if self.eval_classes is not None:
            evaluated = torch.isin(
                label, torch.tensor(self._eval_indices, device=label.device))
            label = label.masked_fill(~evaluated, ignore_index)
        return IoUMetric.intersect_and_union(pred_label, label, num_classes,
                                             ignore_index)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute and print the scores of the evaluated classes.

        Args:
            results (list): Per-sample tuples from :meth:`process`: four
                areas of shape (num_classes, ) and the sample's measurement.

        Returns:
            Dict[str, float]: Percentages keyed ``mIoU``, one key per class
            subset, ``mAcc`` (plus ``mDice``... when requested) and
            ``aAcc``.
        """
        if self.format_only:
            return super().compute_metrics(results)
        self._resolve_classes()
        logger: MMLogger = MMLogger.get_current_instance()
        columns = list(zip(*results))
        self._measured = list(columns[4])
        # float64 so that the printed percentages are not float32 noise.
        areas = [sum(area).double() for area in columns[:4]]
        all_classes = self.total_area_to_metrics(*areas, self.metrics,
                                                 self.nan_to_num, self.beta)
        all_acc = all_classes.pop('aAcc')
        per_class = OrderedDict((key, value[self._eval_indices])
                                for key, value in all_classes.items())

        metrics = OrderedDict(mIoU=_nanmean_percent(per_class['IoU']))
        for name, indices in self._subset_indices.items():
            metrics[name] = _nanmean_percent(all_classes['IoU'][indices])
        for key, value in per_class.items():
            metrics.setdefault('m' + key, _nanmean_percent(value))
        metrics['aAcc'] = _round_percent(float(all_acc))

        print_log(self.convention(), logger)
        self._log_tables(per_class, metrics, logger)
        class_names = self.dataset_meta['classes']
        MessageHub.get_current_instance().update_info(
            PER_CLASS_IOU_KEY,
            OrderedDict((class_names[i], _round_percent(float(iou)))
                        for i, iou in zip(self._eval_indices,
                                          per_class['IoU'])))
        return dict(metrics)

    def convention(self) -> str:
        """The one-line description of the evaluation convention.

        After an evaluation it reports what the samples and the loaded
        checkpoint showed; before any, the declared label resolution.

        Returns:
            str: E.g. ``Evaluation convention: labels at full resolution
            (compared at 2048x1024), input 1024x512, flip averaging: off,
            multi-scale: off, checkpoint: iter 600 of 600 (end of the
            schedule), classes: 19 (mIoU), 13 (mIoU*)`` (sizes W x H).
        """
        self._resolve_classes()
        classes = ', '.join([f'{len(self._eval_indices)} (mIoU)'] + [
            f'{len(names)} ({name})'
            for name, names in self.class_subsets.items()
        ])
        # A dataset that names its subset (NTHU's city) says so, so a
        # per-city score cannot be mistaken for another city's.
        subset = (self.dataset_meta or {}).get('city')
        where = f'city: {subset}, ' if subset else ''
        if self._measured:
            measured = _describe_measurements(self._measured)
        else:
            measured = (f'{LABEL_RESOLUTIONS[self.label_resolution]} '
                        '(declared; nothing evaluated yet)')
        return (f'Evaluation convention: {where}{measured}, '
                f'checkpoint: {self._checkpoint_label()}, '
                f'classes: {classes}')

    def _checkpoint_label(self) -> str:
        hub = MessageHub.get_current_instance()
        # Validation during training scores the weights of the moment, not
        # the final or best checkpoint the test config declares.
        if hub.get_info('loop_stage') == 'val':
            return 'current weights (validation during training)'
        info = hub.get_info(CHECKPOINT_INFO_KEY)
        if info is None:
            label = ('not recorded (weights not loaded by tools/test.py, '
                     'whose CheckpointInfoHook records them)')
        elif info['iter'] is None:
            label = 'weights without a recorded iteration'
        elif info['max_iters'] is None:
            label = f'iter {info["iter"]} (schedule length unknown)'
        else:
            end = ('end of the schedule' if info['iter'] >= info['max_iters']
                   else 'NOT the end of the schedule')
            label = f'iter {info["iter"]} of {info["max_iters"]} ({end})'
        if self.checkpoint == 'best':
            label += f', declared {CHECKPOINTS["best"]}'
        return label

    def _log_tables(self, per_class: Dict[str, np.ndarray],
                    metrics: Dict[str, float], logger: MMLogger) -> None:
        """Print the per-class table and the summary table."""
        class_names = self.dataset_meta['classes']
        class_table = PrettyTable()
        class_table.add_column('Class',
                               [class_names[i] for i in self._eval_indices])
        for key, value in per_class.items():
            class_table.add_column(key, np.round(value * 100, 2).tolist())
        print_log('per class results:', logger)
        print_log('\n' + class_table.get_string(), logger)

        summary = PrettyTable()
        for key, value in metrics.items():
            summary.add_column(key, [value])
        print_log('summary:', logger)
        print_log('\n' + summary.get_string(), logger)


def _round_percent(value: float) -> float:
    return float(np.round(value * 100, 2))


def _nanmean_percent(values: np.ndarray) -> float:
    """Percentage nanmean; NaN (without numpy's warning) if all are NaN."""
    values = np.asarray(values, dtype=np.float64)
    present = values[~np.isnan(values)]
    if present.size == 0:
        return math.nan
    return _round_percent(float(present.mean()))


def _file_hw(data_sample: dict) -> Optional[Tuple[int, int]]:
    """(h, w) of the image file, from the resized size and its factor.

    ``ori_shape`` is not it once ``LabelsAtInferenceSize`` has set it to the
    inference size; ``img_shape / scale_factor`` is.
    """
    img_shape = data_sample.get('img_shape')
    scale_factor = data_sample.get('scale_factor')
    if img_shape is not None and scale_factor is not None:
        w_scale, h_scale = scale_factor[:2]
        return (int(round(img_shape[0] / h_scale)),
                int(round(img_shape[1] / w_scale)))
    ori_shape = data_sample.get('ori_shape')
    return None if ori_shape is None else tuple(int(s) for s in ori_shape[:2])


def _wxh(hw: Tuple[int, int]) -> str:
    return f'{hw[1]}x{hw[0]}'


def _sizes(hws: Sequence[Tuple[int, int]]) -> str:
    """'1024x512', or 'N sizes, e.g. 1024x768' when they vary."""
    distinct = sorted(set(hws), key=hws.index)
    if len(distinct) == 1:
        return _wxh(distinct[0])
    return f'{len(distinct)} sizes, e.g. {_wxh(distinct[0])}'


def _describe_measurements(measured: Sequence[Measurement]) -> str:
    """Label resolution, input size, flip and multi-scale as measured."""
    kinds = []
    for label_hw, file_hw, input_hws, _ in measured:
        if file_hw is not None and label_hw == file_hw:
            kinds.append('full')
        elif input_hws is not None and label_hw == input_hws[0]:
            kinds.append('inference')
        else:
            kinds.append('unknown')
    names = dict(LABEL_RESOLUTIONS,
                 unknown='labels of unrecorded relation to the image')
    counts = Counter(kinds)
    compared = _sizes([m[0] for m in measured])
    if len(counts) == 1:
        labels = f'{names[kinds[0]]} (compared at {compared})'
    else:
        labels = 'labels mixed: ' + ', '.join(
            f'{names[kind]} for {n} images' for kind, n in counts.items())

    inputs = [m[2] for m in measured if m[2] is not None]
    if not inputs:
        size = 'input size not recorded'
        scales = 'not recorded'
    else:
        size = f'input {_sizes([views[0] for views in inputs])}'
        per_image = [sorted(set(views), key=views.index) for views in inputs]
        if all(len(views) == 1 for views in per_image):
            scales = 'off'
        else:
            first = max(per_image, key=len)
            scales = (f'{len(first)} scales (' +
                      ', '.join(_wxh(hw) for hw in first) + ')')
    flipped = sum(True in m[3] for m in measured)
    if flipped == 0:
        flip = 'off'
    elif flipped == len(measured):
        flip = f'on ({len(measured[0][3])} views)'
    else:
        flip = f'on for {flipped} of {len(measured)} images'
    return (f'{labels}, {size}, flip averaging: {flip}, '
            f'multi-scale: {scales}')
