"""Flip test-time augmentation: configs/_base_/tta_flip.py, the pipeline
derived from a test pipeline and MeasuredSegTTAModel (MMSeg's SegTTAModel),
which must average softmax probabilities (METHODS.md §0)."""
import copy
import glob
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_uda  # noqa: F401  (registers LabelsAtInferenceSize)
from mmseg_uda.evaluation import (MeasuredSegTTAModel,
                                  tta_pipeline_from_test_pipeline)
from mmseg_uda.evaluation.metrics import UDAIoUMetric

CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'tta_flip.py')


def _view(logits) -> SegDataSample:
    sample = SegDataSample(metainfo=dict(img_path='img.png'))
    sample.seg_logits = PixelData(data=torch.tensor(logits))
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 1, 2, dtype=torch.long))
    return sample


def test_merge_averages_softmax_not_logits():
    # Per pixel (3 classes), views a and b:
    # pixel 0: a = (0, -4, 0), b = (0, 2, -4): the mean logit picks class 0
    #          (0 vs -1 vs -2), the mean probability picks class 1.
    # pixel 1: a = (3, 0, 0), b = (2, 0, 1): both pick class 0.
    view_a = [[[0., 3.]], [[-4., 0.]], [[0., 0.]]]
    view_b = [[[0., 2.]], [[2., 0.]], [[-4., 1.]]]

    def softmax(z):
        exp = [math.exp(v) for v in z]
        return [e / sum(exp) for e in exp]

    expected = []
    for pixel in range(2):
        p_a = softmax([view_a[c][0][pixel] for c in range(3)])
        p_b = softmax([view_b[c][0][pixel] for c in range(3)])
        mean = [(x + y) / 2 for x, y in zip(p_a, p_b)]
        expected.append(max(range(3), key=mean.__getitem__))
    assert expected == [1, 0]

    tta = MeasuredSegTTAModel(module=_OutChannels(3))
    merged = tta.merge_preds([[_view(view_a), _view(view_b)]])
    assert merged[0].pred_sem_seg.data.flatten().tolist() == expected


class _OutChannels(nn.Module):
    """Just what ``SegTTAModel.merge_preds`` reads from the segmentor."""

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.out_channels = out_channels
        # BaseTTAModel checks the wrapped model has test_step; merge_preds
        # never calls it.
        self.test_step = None


@MODELS.register_module(name='_TTATestBackbone', force=True)
class _TTATestBackbone(nn.Module):
    """Adds a left-to-right ramp (a different slope per channel) to the image,
    so that the logits depend on the absolute column and the plain and the
    flipped view disagree; a per-pixel head alone would be flip-equivariant.
    """

    def forward(self, x):
        ramp = torch.linspace(-1., 1., x.shape[-1])
        slopes = torch.tensor([4., -3., 1.])[:, None, None]
        return [x + slopes * ramp]


def _segmentor() -> EncoderDecoder:
    # The data preprocessor is built through mmengine's registry.
    init_default_scope('mmseg')
    torch.manual_seed(0)
    # ConfigDict: EncoderDecoder reads test_cfg.mode as an attribute.
    model = MODELS.build(
        ConfigDict(
            type='EncoderDecoder',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[128., 128., 128.],
                std=[64., 64., 64.]),
            backbone=dict(type='_TTATestBackbone'),
            decode_head=dict(
                type='FCNHead',
                in_channels=3,
                channels=3,
                num_convs=0,
                concat_input=False,
                num_classes=3,
                dropout_ratio=0.,
                norm_cfg=None,
                align_corners=False),
            test_cfg=dict(mode='whole')))
    # Larger weights than the default init so that classes differ clearly.
    nn.init.normal_(model.decode_head.conv_seg.weight, std=1.)
    return model.eval()


@pytest.fixture
def data_info(tmp_path):
    """A 16x8 image (W x H) whose label has 3 classes in vertical bands."""
    img = np.random.default_rng(0).integers(0, 256, (8, 16, 3), np.uint8)
    label = np.zeros((8, 16), np.uint8)
    label[:, 5:11] = 1
    label[:, 11:] = 2
    cv2.imwrite(str(tmp_path / 'img.png'), img)
    cv2.imwrite(str(tmp_path / 'label.png'), label)
    return dict(
        img_path=str(tmp_path / 'img.png'),
        seg_map_path=str(tmp_path / 'label.png'),
        reduce_zero_label=False,
        seg_fields=[]), label


def _test_pipeline(label_resolution: str, test_scale=(8, 4)) -> list:
    """A test pipeline of the dataset bases' form at the tiny image's scale,
    labels at full resolution or at the inference size."""
    inference = ([dict(type='LabelsAtInferenceSize')]
                 if label_resolution == 'inference' else [])
    return [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=test_scale, keep_ratio=False),
        dict(type='LoadAnnotations'),
    ] + inference + [dict(type='PackSegInputs')]


def _config_pipeline(label_resolution: str) -> Compose:
    """The TTA pipeline tools/test.py derives from that test pipeline."""
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmseg')
    return Compose(
        tta_pipeline_from_test_pipeline(
            _test_pipeline(label_resolution), cfg.tta_img_ratios))


def test_config_defaults():
    cfg = Config.fromfile(CONFIG)
    assert cfg.tta_model.type == 'MeasuredSegTTAModel'
    assert cfg.tta_img_ratios == [1.0]  # no multi-scale by default
    # No fixed pipeline: it would override the config's test scale.
    assert 'tta_pipeline' not in cfg


@pytest.mark.parametrize(
    'dataset_base',
    sorted(glob.glob(osp.join(osp.dirname(CONFIG), 'datasets', '*.py'))))
def test_inherits_with_dataset_base(tmp_path, dataset_base):
    # mmengine refuses a key that two bases both define.
    child = tmp_path / 'child.py'
    child.write_text(
        f'_base_ = [{dataset_base!r}, {osp.abspath(CONFIG)!r}]\n')
    cfg = Config.fromfile(str(child))
    derived = tta_pipeline_from_test_pipeline(cfg.test_pipeline,
                                              cfg.tta_img_ratios)
    resizes = derived[-1]['transforms'][0]
    assert [tuple(r['scale']) for r in resizes] == [tuple(cfg.test_scale)]


def test_pipeline_gives_plain_and_flipped_views_with_full_labels(data_info):
    info, label = data_info
    data = _config_pipeline('full')(info)

    plain, flipped = data['inputs']
    torch.testing.assert_close(flipped, plain.flip(-1))
    assert [s.flip for s in data['data_samples']] == [False, True]
    for sample in data['data_samples']:
        # Labels are loaded after the flip: never flipped, full resolution.
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      label)
        assert sample.ori_shape == (8, 16)
        assert sample.img_shape == (4, 8)


@pytest.mark.parametrize('label_resolution, size', [
    ('full', (8, 16)),
    ('inference', (4, 8)),
])
def test_tta_prediction_is_mean_softmax_of_unflipped_views(
        data_info, label_resolution, size):
    info, _ = data_info
    model = _segmentor()
    data = pseudo_collate([_config_pipeline(label_resolution)(info)])

    with torch.no_grad():
        # test_step writes its results into the data samples it is given.
        merged = MeasuredSegTTAModel(module=model).test_step(
            copy.deepcopy(data))[0]
        plain, flipped = (model.test_step(
            dict(inputs=data['inputs'][i],
                 data_samples=copy.deepcopy(data['data_samples'][i])))[0]
                          for i in range(2))
        # The flipped view's logits come back un-flipped: compare with an
        # independent un-flip of the logits of the flipped image.
        raw = model.test_step(
            dict(
                inputs=data['inputs'][1],
                data_samples=[
                    SegDataSample(metainfo=dict(
                        ori_shape=size, img_shape=(4, 8), flip=False))
                ]))[0]
    torch.testing.assert_close(flipped.seg_logits.data,
                               raw.seg_logits.data.flip(-1))

    mean_prob = (plain.seg_logits.data.softmax(0) +
                 flipped.seg_logits.data.softmax(0)) / 2
    expected = mean_prob.argmax(0)
    # The case discriminates: the views disagree on some pixels, and so do
    # the mean probability and the mean logit.
    assert (plain.pred_sem_seg.data != flipped.pred_sem_seg.data).any()
    mean_logit = (plain.seg_logits.data + flipped.seg_logits.data) / 2
    assert (expected != mean_logit.argmax(0)).any()
    assert tuple(merged.pred_sem_seg.data.shape[-2:]) == size
    torch.testing.assert_close(merged.pred_sem_seg.data.squeeze(), expected)
    assert tuple(merged.gt_sem_seg.data.shape[-2:]) == size
    # The merged sample says what was averaged: two 8x4 views, one flipped.
    assert merged.tta_views == [
        dict(img_shape=(4, 8), flip=False),
        dict(img_shape=(4, 8), flip=True)
    ]

    # The metric accepts the merged sample under the matching convention
    # and scores the merged prediction against the un-flipped label.
    metric = UDAIoUMetric(label_resolution=label_resolution, flip=True)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process({}, [merged.to_dict()])
    assert metric.evaluate(1)['mIoU'] == pytest.approx(
        _miou_percent(expected, merged.gt_sem_seg.data.squeeze(0)), abs=0.01)
    compared = f'{size[1]}x{size[0]}'
    assert metric.convention().startswith(
        f'Evaluation convention: {LABELS[label_resolution]} (compared at '
        f'{compared}), input 8x4, flip averaging: on (2 views), '
        'multi-scale: off, ')


LABELS = dict(
    full='labels at full resolution', inference='labels at inference size')


def _miou_percent(pred: torch.Tensor, label: torch.Tensor) -> float:
    """Plain mIoU over the classes present in prediction or label."""
    ious = []
    for c in range(3):
        union = ((pred == c) | (label == c)).sum().item()
        if union:
            ious.append(((pred == c) & (label == c)).sum().item() / union)
    return 100 * sum(ious) / len(ious)
