"""IoU metric that states its evaluation convention and scores class subsets.

METHODS.md §0 "Evaluation conventions": every reported number must say how
it was obtained (label resolution, flip averaging, multi-scale, which
checkpoint), SYNTHIA runs report a 16-class and a 13-class mIoU, and the
mean is a nanmean over the classes that appear.
"""
import math
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import MessageHub, MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable

from ...datasets.transforms.checked_load_annotations import check_label_values

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
    - a logged line stating the evaluation convention, e.g.
      ``Evaluation convention: labels at full resolution, flip averaging:
      off, multi-scale: off, checkpoint: final, classes: 19 (mIoU),
      13 (mIoU*)``.

    Every mean is a nanmean over the evaluated classes: a class that is
    neither in the labels nor in the predictions has IoU NaN and is left
    out (set ``nan_to_num`` to count it instead). Returned values are
    percentages rounded to 2 decimals, like :class:`IoUMetric`, keyed
    ``mIoU``, the subset names, ``mAcc`` (and ``mDice``... if requested),
    ``aAcc``; all of them work as ``save_best`` keys of mmengine's
    ``CheckpointHook`` with the rule inferred as 'greater'.

    ``label_resolution``, ``flip``, ``img_ratios`` and ``checkpoint``
    describe what the test pipeline and the loaded weights do; they change
    no number, only the logged convention. The metric refuses predictions
    whose size differs from the labels', and labels that were resized with
    the image while ``label_resolution='full'`` is declared.

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
        flip (bool): Whether the softmax outputs of the image and its
            horizontal flip are averaged (``tools/test.py --tta``).
            Defaults to False.
        img_ratios (Sequence[float]): Scales whose outputs are averaged;
            ``(1.0, )`` means no multi-scale. Defaults to (1.0, ).
        checkpoint (str): Which weights are evaluated: ``'final'`` or
            ``'best'`` (chosen on the evaluation set itself, as the released
            implementations do; logged as such). During validation inside
            training the line says the current weights instead.
            Defaults to 'final'.
        iou_metrics (Sequence[str]): As in :class:`IoUMetric`; must contain
            ``'mIoU'``. Defaults to ('mIoU', ).
        **kwargs: Other arguments of :class:`IoUMetric` (``nan_to_num``,
            ``beta``, ``collect_device``, ``output_dir``, ``format_only``,
            ``prefix``).
    """

    def __init__(self,
                 ignore_index: int = 255,
                 eval_classes: Optional[Sequence[str]] = None,
                 class_subsets: Optional[Dict[str, Sequence[str]]] = None,
                 label_resolution: str = 'full',
                 flip: bool = False,
                 img_ratios: Sequence[float] = (1.0, ),
                 checkpoint: str = 'final',
                 iou_metrics: Sequence[str] = ('mIoU', ),
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
        if not isinstance(flip, bool):
            raise ValueError(f'UDAIoUMetric flip must be a bool, got {flip!r}')
        self.flip = flip
        self.img_ratios = self._check_img_ratios(img_ratios)
        self.checkpoint = self._check_choice(checkpoint, CHECKPOINTS,
                                             'checkpoint')
        # Dataset indices of the evaluated classes and of each subset; set
        # once the dataset's class names are known.
        self._eval_indices: Optional[List[int]] = None
        self._subset_indices: Dict[str, List[int]] = {}
        self._resolved_classes: Optional[tuple] = None

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
        """Check each prediction/label pair, then accumulate its areas.

        Args:
            data_batch (dict): A batch of data from the dataloader.
            data_samples (Sequence[dict]): Model outputs with
                ``pred_sem_seg`` (1, H, W), ``gt_sem_seg`` (1, H, W) and
                the metainfo of the test pipeline.
        """
        self._resolve_classes()
        if not self.format_only:
            for data_sample in data_samples:
                self._check_label_size(data_sample)
                self._check_label_values(data_sample)
        super().process(data_batch, data_samples)

    def _check_label_size(self, data_sample: dict) -> None:
        """Refuse a label whose size contradicts the prediction or the
        declared ``label_resolution``."""
        pred_hw = tuple(data_sample['pred_sem_seg']['data'].shape[-2:])
        label_hw = tuple(data_sample['gt_sem_seg']['data'].shape[-2:])
        where = data_sample.get('img_path', '<unknown image>')
        if pred_hw != label_hw:
            raise ValueError(
                f'{where}: prediction has (H, W) = {pred_hw} but its label '
                f'has {label_hw}. Predictions are resized to ori_shape: load '
                'labels after Resize (label_resolution="full") or add '
                'LabelsAtInferenceSize after LoadAnnotations '
                '(label_resolution="inference").')
        scale_factor = data_sample.get('scale_factor')
        img_shape = data_sample.get('img_shape')
        # A label of the resized image's size, although the image was
        # resized, can only come from resizing the label too.
        resized_with_image = (
            scale_factor is not None and img_shape is not None
            and not np.allclose(scale_factor, 1.0)
            and label_hw == tuple(img_shape[:2]))
        if self.label_resolution == 'full' and resized_with_image:
            raise ValueError(
                f'{where}: the label was resized with the image to '
                f'{label_hw} (scale_factor {scale_factor}) but the metric '
                "declares label_resolution='full'; set "
                "label_resolution='inference' or load labels after Resize")

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
            results (list): Per-sample area tuples from :meth:`process`.

        Returns:
            Dict[str, float]: Percentages keyed ``mIoU``, one key per class
            subset, ``mAcc`` (plus ``mDice``... when requested) and
            ``aAcc``.
        """
        if self.format_only:
            return super().compute_metrics(results)
        self._resolve_classes()
        logger: MMLogger = MMLogger.get_current_instance()
        # float64 so that the printed percentages are not float32 noise.
        areas = [sum(area).double() for area in zip(*results)]
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
        return dict(metrics)

    def convention(self) -> str:
        """The one-line description of the evaluation convention.

        Returns:
            str: E.g. ``Evaluation convention: labels at full resolution,
            flip averaging: off, multi-scale: off, checkpoint: final,
            classes: 19 (mIoU), 13 (mIoU*)``.
        """
        if self.img_ratios == [1.0]:
            scales = 'off'
        else:
            scales = ', '.join(f'{r:g}' for r in self.img_ratios)
        self._resolve_classes()
        classes = ', '.join([f'{len(self._eval_indices)} (mIoU)'] + [
            f'{len(names)} ({name})'
            for name, names in self.class_subsets.items()
        ])
        # A dataset that names its subset (NTHU's city) says so, so a
        # per-city score cannot be mistaken for another city's.
        subset = (self.dataset_meta or {}).get('city')
        where = f'city: {subset}, ' if subset else ''
        return (f'Evaluation convention: {where}'
                f'{LABEL_RESOLUTIONS[self.label_resolution]}, '
                f'flip averaging: {"on" if self.flip else "off"}, '
                f'multi-scale: {scales}, '
                f'checkpoint: {self._checkpoint_label()}, '
                f'classes: {classes}')

    def _checkpoint_label(self) -> str:
        # Validation during training scores the weights of the moment, not
        # the final or best checkpoint the test config declares.
        stage = MessageHub.get_current_instance().get_info('loop_stage')
        if stage == 'val':
            return 'current weights (validation during training)'
        return CHECKPOINTS[self.checkpoint]

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
