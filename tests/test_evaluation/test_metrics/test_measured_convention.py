"""UDAIoUMetric's convention line states what was measured: the label size
compared, the input size, flip and multi-scale views, and the loaded
checkpoint's iteration against the schedule (issue 13, item 2)."""
import logging
import uuid
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger

import mmseg_uda  # noqa: F401
from mmseg_uda.evaluation.hooks import CheckpointInfoHook
from mmseg_uda.evaluation.metrics import UDAIoUMetric
from mmseg_uda.evaluation.runtime_info_keys import CHECKPOINT_INFO_KEY

CLASSES = ('a', 'b', 'c')


@pytest.fixture(autouse=True)
def no_checkpoint_info():
    hub = MessageHub.get_current_instance()
    hub.update_info(CHECKPOINT_INFO_KEY, None)
    yield hub
    hub.update_info(CHECKPOINT_INFO_KEY, None)


@pytest.fixture
def log_messages():
    logger = MMLogger.get_instance(f'test_measured_{uuid.uuid4().hex}')
    messages = []

    class Handler(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    handler = Handler()
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def _sample(label_hw, input_hw, file_hw=(2, 4), views=None, **metainfo):
    """A model output of an image file of ``file_hw`` resized to
    ``input_hw``, scored against a label of ``label_hw`` (all (h, w))."""
    label = torch.zeros((1, ) + tuple(label_hw), dtype=torch.long)
    sample = dict(
        gt_sem_seg=dict(data=label),
        pred_sem_seg=dict(data=label.clone()),
        img_path='frame.png',
        img_shape=input_hw,
        ori_shape=label_hw,
        scale_factor=(input_hw[1] / file_hw[1], input_hw[0] / file_hw[0]),
        **metainfo)
    if views is not None:
        sample['tta_views'] = views
    return sample


def _line(metric, samples, messages) -> str:
    metric.dataset_meta = dict(classes=CLASSES)
    for sample in samples:
        metric.process({}, [sample])
    metric.evaluate(len(samples))
    return next(m for m in messages if m.startswith('Evaluation convention'))


def test_full_resolution_labels_and_input_size(log_messages):
    line = _line(UDAIoUMetric(), [_sample((2, 4), (1, 2))] * 2, log_messages)
    assert line.startswith(
        'Evaluation convention: labels at full resolution (compared at '
        '4x2), input 2x1, flip averaging: off, multi-scale: off, ')


def test_inference_size_labels(log_messages):
    metric = UDAIoUMetric(label_resolution='inference')
    line = _line(metric, [_sample((1, 2), (1, 2))], log_messages)
    assert line.startswith('Evaluation convention: labels at inference size '
                           '(compared at 2x1), input 2x1, ')


def test_declared_inference_size_but_full_labels_raises():
    # The false line: --tta with a fixed pipeline scored 2048x1024
    # labels while the config declared label_resolution='inference', and
    # the line said "labels at inference size".
    metric = UDAIoUMetric(label_resolution='inference')
    metric.dataset_meta = dict(classes=CLASSES)
    with pytest.raises(ValueError, match=r"frame\.png.*full resolution.*"
                       r"label_resolution='inference'"):
        metric.process({}, [_sample((2, 4), (1, 2))])


def test_flip_and_multi_scale_views_are_reported(log_messages):
    views = [
        dict(img_shape=(1, 2), flip=False),
        dict(img_shape=(1, 2), flip=True),
        dict(img_shape=(2, 4), flip=False),
        dict(img_shape=(2, 4), flip=True),
    ]
    line = _line(UDAIoUMetric(flip=True, img_ratios=[1.0, 2.0]),
                 [_sample((2, 4), (1, 2), views=views)], log_messages)
    assert ('input 2x1, flip averaging: on (4 views), multi-scale: 2 scales '
            '(2x1, 4x2), ') in line


@pytest.mark.parametrize('kwargs, pattern', [
    (dict(flip=True), 'declares flip=True'),
    (dict(img_ratios=[0.5, 1.0]), 'declares img_ratios'),
])
def test_declarations_contradicted_by_the_sample_raise(kwargs, pattern):
    metric = UDAIoUMetric(**kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    with pytest.raises(ValueError, match=pattern):
        metric.process({}, [_sample((2, 4), (1, 2))])


@pytest.mark.parametrize('iteration, max_iters, expected', [
    (100, 600, 'iter 100 of 600 (NOT the end of the schedule)'),
    (600, 600, 'iter 600 of 600 (end of the schedule)'),
    (None, 600, 'weights without a recorded iteration'),
    (5, None, 'iter 5 (schedule length unknown)'),
])
def test_checkpoint_iteration_against_schedule(no_checkpoint_info,
                                               log_messages, iteration,
                                               max_iters, expected):
    # What CheckpointInfoHook records when tools/test.py loads a checkpoint.
    hook = CheckpointInfoHook()
    runner = SimpleNamespace(
        cfg=Config(dict(train_cfg=dict(max_iters=max_iters))))
    hook.before_run(runner)
    hook.after_load_checkpoint(runner, dict(meta=dict(iter=iteration)))
    line = _line(UDAIoUMetric(), [_sample((2, 4), (1, 2))], log_messages)
    assert f'checkpoint: {expected}, classes: 3 (mIoU)' in line


def test_hook_forgets_the_previous_checkpoint(no_checkpoint_info):
    hook = CheckpointInfoHook()
    runner = SimpleNamespace(cfg=Config(dict(train_cfg=dict(max_iters=8))))
    hook.after_load_checkpoint(runner, dict(meta=dict(iter=8)))
    assert no_checkpoint_info.get_info(CHECKPOINT_INFO_KEY) == dict(
        iter=8, max_iters=8)
    hook.before_run(runner)
    assert no_checkpoint_info.get_info(CHECKPOINT_INFO_KEY) is None
