from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_uda  # noqa: F401  (registers the transform)
from mmseg_uda.datasets.transforms import LabelsAtInferenceSize
from mmseg_uda.datasets.transforms.labels_at_inference_size import \
    resize_nearest
from mmseg_uda.evaluation.metrics import UDAIoUMetric


def test_registered():
    assert TRANSFORMS.get('LabelsAtInferenceSize') is LabelsAtInferenceSize


def test_resizes_label_to_image_shape_and_sets_ori_shape():
    label = np.arange(32, dtype=np.uint8).reshape(4, 8)
    results = dict(
        gt_seg_map=label,
        seg_fields=['gt_seg_map'],
        img_shape=(2, 4),
        ori_shape=(4, 8))
    results = LabelsAtInferenceSize()(results)

    # 2x reduction sampling pixel centres: rows 1, 3 and columns 1, 3, 5, 7.
    expected = np.array([[9, 11, 13, 15], [25, 27, 29, 31]], dtype=np.uint8)
    np.testing.assert_array_equal(results['gt_seg_map'], expected)
    assert results['gt_seg_map'].dtype == np.uint8
    assert results['ori_shape'] == (2, 4)
    assert results['img_shape'] == (2, 4)


def test_label_already_at_inference_size_is_untouched():
    label = np.zeros((2, 4), dtype=np.uint8)
    results = LabelsAtInferenceSize()(
        dict(gt_seg_map=label, img_shape=(2, 4), ori_shape=(4, 8)))
    assert results['gt_seg_map'] is label
    assert results['ori_shape'] == (2, 4)


def test_every_seg_field_is_resized():
    results = dict(
        gt_seg_map=np.zeros((6, 6), dtype=np.uint8),
        gt_depth_map=np.ones((6, 6), dtype=np.float32),
        seg_fields=['gt_seg_map', 'gt_depth_map'],
        img_shape=(3, 2))
    results = LabelsAtInferenceSize()(results)
    assert results['gt_seg_map'].shape == (3, 2)
    assert results['gt_depth_map'].shape == (3, 2)


def test_fixed_scale_is_w_h_and_overrides_img_shape():
    results = LabelsAtInferenceSize(scale=(4, 2))(
        dict(gt_seg_map=np.zeros((8, 16), np.uint8), img_shape=(6, 12)))
    assert results['gt_seg_map'].shape == (2, 4)
    assert results['ori_shape'] == (2, 4)


@pytest.mark.parametrize('size_in, size_out', [((7, 9), (3, 4)),
                                               ((37, 50), (13, 16)),
                                               ((5, 6), (8, 16)),
                                               ((1024, 2048), (512, 1024))])
def test_matches_pil_nearest(size_in, size_out):
    # MaxSquare resizes its labels with PIL's NEAREST. Sizes chosen without
    # exact ties (a sampling point on a pixel border), where PIL's
    # accumulated float coordinate may fall either side.
    rng = np.random.default_rng(0)
    label = rng.integers(0, 256, size_in, dtype=np.uint8)
    expected = np.asarray(
        Image.fromarray(label).resize(size_out[::-1], Image.NEAREST))
    np.testing.assert_array_equal(resize_nearest(label, size_out), expected)


def test_missing_keys_name_the_pipeline_step():
    with pytest.raises(KeyError, match='after LoadAnnotations'):
        LabelsAtInferenceSize()(dict(img_shape=(2, 2), img_path='f.png'))
    with pytest.raises(KeyError, match='f.png.*after Resize'):
        LabelsAtInferenceSize()(
            dict(gt_seg_map=np.zeros((2, 2)), img_path='f.png'))


@pytest.mark.parametrize('scale', [(4, ), (4, 0), (4.0, 2)])
def test_bad_scale_raises(scale):
    with pytest.raises(ValueError, match='scale'):
        LabelsAtInferenceSize(scale=scale)


@pytest.fixture
def image_and_label(tmp_path):
    """A 16x8 image (W x H) and its label with 3 classes in vertical bands."""
    img = np.random.default_rng(0).integers(0, 256, (8, 16, 3), np.uint8)
    label = np.zeros((8, 16), np.uint8)
    label[:, 5:11] = 1
    label[:, 11:] = 2
    label[0, 0] = 255
    cv2.imwrite(str(tmp_path / 'img.png'), img)
    cv2.imwrite(str(tmp_path / 'label.png'), label)
    return dict(
        img_path=str(tmp_path / 'img.png'),
        seg_map_path=str(tmp_path / 'label.png'),
        reduce_zero_label=False,
        seg_fields=[]), label


def _pipeline(with_transform: bool) -> Compose:
    init_default_scope('mmseg')
    steps = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(8, 4), keep_ratio=True),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs'),
    ]
    if with_transform:
        steps.insert(3, dict(type='LabelsAtInferenceSize'))
    return Compose(steps)


def _predict(data_sample, num_classes=3):
    """Run MMSeg's own post-processing on logits at the inference size."""
    logits = torch.randn(1, num_classes, *data_sample.img_shape)
    segmentor = SimpleNamespace(align_corners=False)
    return EncoderDecoder.postprocess_result(segmentor, logits,
                                             [data_sample])[0]


@pytest.mark.parametrize('with_transform, label_resolution, size', [
    (True, 'inference', (4, 8)),
    (False, 'full', (8, 16)),
])
def test_mmseg_postprocess_predicts_at_label_size(image_and_label,
                                                  with_transform,
                                                  label_resolution, size):
    info, label = image_and_label
    packed = _pipeline(with_transform)(info)
    data_sample = _predict(packed['data_samples'])

    assert tuple(data_sample.pred_sem_seg.shape) == size
    assert tuple(data_sample.gt_sem_seg.shape) == size
    expected_label = resize_nearest(label, size)
    np.testing.assert_array_equal(
        data_sample.gt_sem_seg.data[0].numpy(), expected_label)

    metric = UDAIoUMetric(label_resolution=label_resolution)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process({}, [data_sample.to_dict()])
    assert len(metric.results) == 1


def test_metric_rejects_inference_labels_declared_full(image_and_label):
    info, _ = image_and_label
    data_sample = _predict(_pipeline(True)(info)['data_samples'])
    metric = UDAIoUMetric(label_resolution='full')
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    with pytest.raises(ValueError, match='resized with the image'):
        metric.process({}, [data_sample.to_dict()])
