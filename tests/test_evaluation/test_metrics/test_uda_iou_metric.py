import logging
import math
import uuid

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub, MMLogger
from mmseg.registry import METRICS

import mmseg_uda  # noqa: F401  (registers UDAIoUMetric)
from mmseg_uda.evaluation.metrics import UDAIoUMetric

CLASSES = ('a', 'b', 'c')

# Two images, 3 classes, 255 = ignore. Pixel pairs (label, prediction):
# image 1: (0,0) (0,1) (1,1) / (1,1) (2,1) (255,0 ignored)
# image 2: (2,2) (2,0)
# Totals          intersection  prediction  label  union   IoU    Acc
#   a (0)              1            2         2      3     1/3    1/2
#   b (1)              2            4         2      4     1/2    1
#   c (2)              1            1         3      3     1/3    1/3
LABELS = ([[0, 0, 1], [1, 2, 255]], [[2, 2]])
PREDS = ([[0, 1, 1], [1, 1, 0]], [[2, 0]])
IOU = {'a': 1 / 3, 'b': 1 / 2, 'c': 1 / 3}
ACC = {'a': 1 / 2, 'b': 1.0, 'c': 1 / 3}
AACC = 4 / 7


class _ListHandler(logging.Handler):

    def __init__(self, messages: list) -> None:
        super().__init__()
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def log_messages():
    """Messages the metric logs through MMLogger's current instance."""
    logger = MMLogger.get_instance(f'test_uda_iou_metric_{uuid.uuid4().hex}')
    messages = []
    handler = _ListHandler(messages)
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def _sample(label, pred, **metainfo) -> dict:
    """A model output as the Evaluator passes it (``to_dict()`` form)."""
    return dict(
        gt_sem_seg=dict(data=torch.tensor(label)[None]),
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        img_path=metainfo.pop('img_path', 'img.png'),
        **metainfo)


def _evaluate(metric, labels=LABELS, preds=PREDS, classes=CLASSES) -> dict:
    metric.dataset_meta = dict(classes=classes)
    for label, pred in zip(labels, preds):
        metric.process({}, [_sample(label, pred)])
    return metric.evaluate(len(labels))


def _class_table(messages) -> dict:
    """Parse the printed per-class table into {class: {column: value}}."""
    table = messages[messages.index('per class results:') + 1]
    rows = [[cell.strip() for cell in line.strip('|').split('|')]
            for line in table.strip().splitlines() if line.startswith('|')]
    header, body = rows[0], rows[1:]
    return {
        row[0]: {key: float(value)
                 for key, value in zip(header[1:], row[1:])}
        for row in body
    }


def _percent(value: float) -> float:
    return round(value * 100, 2)


def test_registered():
    assert METRICS.get('UDAIoUMetric') is UDAIoUMetric


def test_scores_match_hand_computation(log_messages):
    metrics = _evaluate(UDAIoUMetric())

    # Areas are summed over images before dividing (not a mean of
    # per-image IoUs).
    assert metrics['mIoU'] == pytest.approx(
        _percent(sum(IOU.values()) / 3), abs=1e-6)
    assert metrics['mAcc'] == pytest.approx(
        _percent(sum(ACC.values()) / 3), abs=1e-6)
    assert metrics['aAcc'] == pytest.approx(_percent(AACC), abs=1e-6)
    table = _class_table(log_messages)
    assert list(table) == list(CLASSES)
    for name in CLASSES:
        assert table[name]['IoU'] == pytest.approx(_percent(IOU[name]))
        assert table[name]['Acc'] == pytest.approx(_percent(ACC[name]))


def test_class_absent_everywhere_is_excluded_from_mean(log_messages):
    # 'c' is in neither labels nor predictions: IoU 0/0 = NaN, left out.
    # 'b' is predicted but never labelled: IoU 0, counted.
    labels = ([[0, 0, 0, 0]], )
    preds = ([[0, 0, 0, 1]], )
    metrics = _evaluate(UDAIoUMetric(), labels, preds)

    iou_a = 3 / 4
    assert metrics['mIoU'] == pytest.approx(_percent((iou_a + 0) / 2))
    table = _class_table(log_messages)
    assert math.isnan(table['c']['IoU'])
    assert table['b']['IoU'] == 0


def test_nan_to_num_counts_absent_class():
    labels = ([[0, 0, 0, 0]], )
    preds = ([[0, 0, 0, 1]], )
    metrics = _evaluate(UDAIoUMetric(nan_to_num=0), labels, preds)
    assert metrics['mIoU'] == pytest.approx(_percent(3 / 4 / 3))


def test_all_classes_absent_gives_nan_mean():
    metrics = _evaluate(UDAIoUMetric(), ([[255, 255]], ), ([[0, 1]], ))
    assert math.isnan(metrics['mIoU'])


def test_class_subsets(log_messages):
    metric = UDAIoUMetric(class_subsets={'mIoU*': ['a', 'c'], 'mIoU_b': ['b']})
    metrics = _evaluate(metric)

    assert metrics['mIoU'] == pytest.approx(
        _percent(sum(IOU.values()) / 3), abs=1e-6)
    assert metrics['mIoU*'] == pytest.approx(
        _percent((IOU['a'] + IOU['c']) / 2), abs=1e-6)
    assert metrics['mIoU_b'] == pytest.approx(_percent(IOU['b']))
    assert list(metrics) == ['mIoU', 'mIoU*', 'mIoU_b', 'mAcc', 'aAcc']
    summary = log_messages[log_messages.index('summary:') + 1]
    assert 'mIoU*' in summary and 'mIoU_b' in summary


def test_subset_mean_excludes_nan_class():
    # 'c' never appears: the subset {a, c} scores a alone.
    metric = UDAIoUMetric(class_subsets={'mIoU*': ['a', 'c']})
    metrics = _evaluate(metric, ([[0, 0, 1, 1]], ), ([[0, 1, 1, 1]], ))
    assert metrics['mIoU*'] == pytest.approx(_percent(1 / 2))


def test_eval_classes_ignore_labels_of_other_classes(log_messages):
    # Dataset of 4 classes scored on a, b, c only. The 'd' label pixel
    # predicted as 'a' is ignored, as in a dataset relabelled to 3 classes;
    # the 'a' pixel predicted as 'd' still counts as a miss for 'a'.
    classes = ('a', 'b', 'c', 'd')
    labels = ([[0, 0, 3, 1], [2, 2, 2, 255]], )
    preds = ([[0, 3, 0, 1], [2, 2, 0, 0]], )
    metric = UDAIoUMetric(
        eval_classes=['a', 'b', 'c'], class_subsets={'mIoU*': ['a', 'b']})
    metrics = _evaluate(metric, labels, preds, classes)

    # a: I=1, P=2 (pixels 0 and 6; pixel 2 is ignored), L=2 -> U=3
    # b: I=1, P=1, L=1 -> 1; c: I=2, P=2, L=3 -> 2/3
    iou = {'a': 1 / 3, 'b': 1.0, 'c': 2 / 3}
    assert metrics['mIoU'] == pytest.approx(
        _percent(sum(iou.values()) / 3), abs=1e-6)
    assert metrics['mIoU*'] == pytest.approx(
        _percent((iou['a'] + iou['b']) / 2), abs=1e-6)
    assert metrics['aAcc'] == pytest.approx(_percent(4 / 6))
    table = _class_table(log_messages)
    assert list(table) == ['a', 'b', 'c']
    for name, value in iou.items():
        assert table[name]['IoU'] == pytest.approx(_percent(value))


@pytest.mark.parametrize('kwargs, bad_name', [
    (dict(class_subsets={'mIoU*': ['a', 'pole']}), 'pole'),
    (dict(eval_classes=['a', 'bb']), 'bb'),
])
def test_unknown_class_name_raises_when_dataset_is_known(kwargs, bad_name):
    metric = UDAIoUMetric(**kwargs)
    with pytest.raises(ValueError) as error:
        metric.dataset_meta = dict(classes=CLASSES)
    message = str(error.value)
    assert repr(bad_name) in message
    assert "['a', 'b', 'c']" in message  # the known classes are listed


def test_subset_class_outside_eval_classes_raises():
    metric = UDAIoUMetric(
        eval_classes=['a', 'b'], class_subsets={'mIoU*': ['a', 'c']})
    with pytest.raises(ValueError, match=r"'c'.*known classes: \['a', 'b'\]"):
        metric.dataset_meta = dict(classes=CLASSES)


@pytest.mark.parametrize('kwargs, pattern', [
    (dict(class_subsets={'score13': ['a']}), "must contain 'mIoU'"),
    (dict(class_subsets={'val/mIoU': ['a']}), "must contain 'mIoU'"),
    (dict(class_subsets={'mIoU': ['a']}), 'shadow'),
    (dict(class_subsets={'mIoU*': []}), 'empty'),
    (dict(class_subsets={'mIoU*': ['a', 'a']}), 'more than once'),
    (dict(eval_classes='a'), 'list of class names'),
    (dict(label_resolution='half'), 'label_resolution'),
    (dict(checkpoint='last'), 'checkpoint'),
    (dict(flip='yes'), 'flip'),
    (dict(img_ratios=[]), 'img_ratios'),
    (dict(iou_metrics=['mDice']), 'mIoU'),
])
def test_bad_arguments_raise(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        UDAIoUMetric(**kwargs)


def test_default_convention_line(log_messages):
    # Samples without resize metadata: the label size is all that is known.
    _evaluate(UDAIoUMetric(class_subsets={'mIoU*': ['a', 'b']}))
    assert ('Evaluation convention: labels of unrecorded relation to the '
            'image (compared at 2 sizes, e.g. 3x2), input size not recorded, '
            'flip averaging: off, multi-scale: not recorded, checkpoint: not '
            'recorded (weights not loaded by tools/test.py, whose '
            'CheckpointInfoHook records them), classes: 3 (mIoU), 2 (mIoU*)'
            ) in log_messages


def test_declared_best_checkpoint_is_labelled(log_messages):
    metric = UDAIoUMetric(eval_classes=['a', 'b'], checkpoint='best')
    _evaluate(metric)
    line = next(m for m in log_messages if m.startswith('Evaluation'))
    assert line.endswith('declared best on the evaluation set (selected on '
                         'it, opt-in), classes: 2 (mIoU)')


def test_validation_during_training_names_current_weights(log_messages):
    hub = MessageHub.get_current_instance()
    hub.update_info('loop_stage', 'val')
    try:
        _evaluate(UDAIoUMetric())
    finally:
        hub.pop_info('loop_stage')
    line = next(m for m in log_messages if m.startswith('Evaluation'))
    assert 'checkpoint: current weights (validation during training)' in line


def test_metric_names_work_as_save_best_keys():
    metrics = _evaluate(UDAIoUMetric(class_subsets={'mIoU*': ['a', 'c']}))
    keys = ['mIoU', 'mIoU*', 'mAcc', 'aAcc']
    hook = CheckpointHook(interval=1, by_epoch=False, save_best=keys)
    assert hook.rules == ['greater'] * len(keys)
    assert set(keys) <= set(metrics)


def test_prediction_label_size_mismatch_raises():
    metric = UDAIoUMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    sample = _sample([[0, 1]], [[0, 1, 1, 0]], img_path='x/frame_1.png')
    with pytest.raises(ValueError, match=r'frame_1\.png.*\(1, 4\).*\(1, 2\)'):
        metric.process({}, [sample])


def test_labels_resized_with_image_contradict_full_resolution():
    # Image 1x4 resized by 0.5 to 1x2, label at the resized size too.
    sample = _sample([[0, 1]], [[0, 1]],
                     img_path='frame_2.png',
                     img_shape=(1, 2),
                     scale_factor=(0.5, 0.5))
    full = UDAIoUMetric()
    full.dataset_meta = dict(classes=CLASSES)
    with pytest.raises(ValueError, match="frame_2.png.*label_resolution='f"):
        full.process({}, [sample])

    inference = UDAIoUMetric(label_resolution='inference')
    inference.dataset_meta = dict(classes=CLASSES)
    inference.process({}, [sample])
    assert inference.evaluate(1)['mIoU'] == pytest.approx(100.0)


def test_convention_line_names_the_city(log_messages):
    metric = UDAIoUMetric()
    metric.dataset_meta = dict(classes=CLASSES, city='Tokyo')
    assert metric.convention().startswith(
        'Evaluation convention: city: Tokyo, labels at full resolution')
