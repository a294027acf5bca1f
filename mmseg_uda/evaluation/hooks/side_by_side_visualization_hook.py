"""Pictures of a test run: image | prediction | label, and per-class IoU."""
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import MessageHub, print_log
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from ...utils.atomic_write import atomic_write_bytes
from ..runtime_info_keys import PER_CLASS_IOU_KEY

# Colour of ignored label pixels (255) in the label panel.
_IGNORE_BGR = (0, 0, 0)
_GAP = 4  # white pixels between the panels


@HOOKS.register_module()
class SideBySideVisualizationHook(Hook):
    """Write one ``image | prediction | label`` picture per test image and a
    per-class IoU bar chart of the run.

    MMSeg's ``SegVisualizationHook`` overlays the prediction on the image
    (every ``interval``-th batch); users comparing a prediction with its
    label would rather see the three side by side. ``tools/test.py
    --show-dir DIR`` adds this hook: ``DIR/side_by_side/<image stem>.png``
    (the panels at the prediction's size, colours of the dataset palette,
    ignored label pixels black) and, after the evaluation,
    ``DIR/per_class_iou.png`` from :class:`UDAIoUMetric`'s per-class IoU.

    Args:
        out_dir (str): Where the pictures go.
        interval (int): Draw every ``interval``-th test batch (all images of
            it). Defaults to 1 (every image).
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, interval: int = 1) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError('SideBySideVisualizationHook interval must be a '
                             f'positive int, got {interval!r}')
        self.out_dir = out_dir
        self.interval = interval

    def after_test_iter(self,
                        runner: Runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        if not outputs or not self.every_n_inner_iters(batch_idx,
                                                       self.interval):
            return
        palette = np.asarray(
            runner.test_dataloader.dataset.metainfo['palette'], np.uint8)
        for output in outputs:
            picture = side_by_side(output, palette)
            stem = osp.splitext(osp.basename(output.img_path))[0]
            path = osp.join(self.out_dir, 'side_by_side', f'{stem}.png')
            ok, encoded = cv2.imencode('.png', picture)
            if not ok:
                raise RuntimeError(f'could not encode the picture of {stem}')
            atomic_write_bytes(encoded.tobytes(), path)

    def after_test_epoch(self,
                         runner: Runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        if not is_main_process():
            return
        ious = MessageHub.get_current_instance().get_info(PER_CLASS_IOU_KEY)
        if not ious:
            print_log('no per-class IoU to chart (the evaluator is not '
                      'UDAIoUMetric)', 'current')
            return
        path = osp.join(self.out_dir, 'per_class_iou.png')
        palette = runner.test_dataloader.dataset.metainfo['palette']
        classes = runner.test_dataloader.dataset.metainfo['classes']
        colours = {name: palette[classes.index(name)] for name in ious}
        atomic_write_bytes(iou_bar_chart(ious, colours, metrics or {}), path)
        print_log(f'pictures written to {self.out_dir}', 'current')


def colourise(label: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(H, W) class map -> (H, W, 3) BGR picture; 255 and out-of-range
    values are black."""
    valid = label < len(palette)
    rgb = np.zeros(label.shape + (3, ), np.uint8)
    rgb[valid] = palette[label[valid]]
    return rgb[..., ::-1]


def side_by_side(output, palette: np.ndarray) -> np.ndarray:
    """``image | prediction | label`` (BGR) of one test output.

    Args:
        output (SegDataSample): With ``img_path``, ``pred_sem_seg`` (1, H, W)
            and, if labelled, ``gt_sem_seg`` (1, H, W).
        palette (np.ndarray): (num_classes, 3) RGB.

    Returns:
        np.ndarray: (H, 3 W + 2 gaps, 3) ``uint8``; without a label, two
        panels.
    """
    pred = output.pred_sem_seg.data[0].cpu().numpy().astype(np.int64)
    h, w = pred.shape
    image = cv2.imread(output.img_path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'cannot read {output.img_path}')
    panels = [
        cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA),
        colourise(pred, palette)
    ]
    if 'gt_sem_seg' in output:
        label = output.gt_sem_seg.data[0].cpu().numpy().astype(np.int64)
        if label.shape != pred.shape:
            label = cv2.resize(
                label.astype(np.uint8), (w, h),
                interpolation=cv2.INTER_NEAREST).astype(np.int64)
        panels.append(colourise(label, palette))
    gap = np.full((h, _GAP, 3), 255, np.uint8)
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    return np.concatenate(row, axis=1)


def iou_bar_chart(ious: Dict[str, float], colours: Dict[str, Sequence[int]],
                  metrics: Dict[str, float]) -> bytes:
    """A horizontal bar chart of per-class IoU (%), as PNG bytes.

    Args:
        ious (dict[str, float]): Class name -> IoU in % (NaN: absent).
        colours (dict[str, Sequence[int]]): Class name -> RGB.
        metrics (dict[str, float]): Summary scores for the title (keys
            containing 'mIoU').

    Returns:
        bytes: The PNG.
    """
    import io

    import matplotlib
    matplotlib.use('Agg')  # no display on servers
    import matplotlib.pyplot as plt

    names = list(ious)
    values = [0.0 if np.isnan(v) else v for v in ious.values()]
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(names) + 1.2))
    try:
        bars = axes.barh(
            names,
            values,
            color=[np.asarray(colours[n]) / 255 for n in names],
            edgecolor='black',
            linewidth=0.5)
        for bar, value in zip(bars, ious.values()):
            text = 'absent' if np.isnan(value) else f'{value:.1f}'
            axes.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
                      text, va='center', fontsize=8)
        axes.invert_yaxis()
        axes.set_xlim(0, 110)
        axes.set_xlabel('IoU (%)')
        title = ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()
                          if 'mIoU' in k)
        axes.set_title(title or 'per-class IoU', fontsize=10)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format='png', dpi=100)
    finally:
        plt.close(figure)
    return buffer.getvalue()
