"""`tools/test.py --tta` derives its views from the config's own test
pipeline: same scale, same label handling (issue 13, item 1)."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import mmseg_uda  # noqa: F401  (registers the transforms)
from mmseg_uda.evaluation import tta_pipeline_from_test_pipeline

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs')


def _test_pipeline(config: str) -> list:
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    return cfg.test_dataloader.dataset.pipeline


@pytest.fixture
def image_and_label(tmp_path):
    """A 64x32 (W x H) image and label in Cityscapes-like file names."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (32, 64, 3), np.uint8)
    label = rng.integers(0, 3, (32, 64)).astype(np.uint8)
    img_path = tmp_path / 'x_000000_000001_leftImg8bit.png'
    seg_path = tmp_path / 'x_000000_000001_gtFine_labelTrainIds.png'
    cv2.imwrite(str(img_path), img)
    cv2.imwrite(str(seg_path), label)
    info = dict(
        img_path=str(img_path),
        seg_map_path=str(seg_path),
        reduce_zero_label=False,
        seg_fields=[])
    return info, label


def _views(pipeline: list, info: dict) -> list:
    init_default_scope('mmseg')
    return Compose(pipeline)(dict(info))['data_samples']


@pytest.mark.parametrize('config, scale', [
    ('demo/source_only.py', (256, 128)),
    ('demo/maxsquare.py', (256, 128)),
    ('fada/gta2cs_self_distill.py', (2048, 1024)),
    ('maxsquare/gta2cs.py', (1024, 512)),
])
def test_views_have_the_config_test_scale(config, scale):
    derived = tta_pipeline_from_test_pipeline(_test_pipeline(config))
    tta = derived[-1]
    assert tta['type'] == 'TestTimeAug'
    resizes, flips = tta['transforms'][:2]
    assert [tuple(r['scale']) for r in resizes] == [scale]
    assert [(f['type'], f['prob']) for f in flips] == [('RandomFlip', 0.),
                                                       ('RandomFlip', 1.)]


def test_demo_views_are_256x128_with_full_resolution_labels(
        image_and_label):
    info, label = image_and_label
    pipeline = tta_pipeline_from_test_pipeline(
        _test_pipeline('demo/source_only.py'))
    views = _views(pipeline, info)
    assert [v.flip for v in views] == [False, True]
    for view in views:
        assert view.img_shape == (128, 256)
        # Labels are loaded after Resize and the flip, as in the test
        # pipeline: the file's own size, never flipped.
        np.testing.assert_array_equal(view.gt_sem_seg.data[0].numpy(), label)


def test_inference_size_labels_are_kept(image_and_label):
    info, _ = image_and_label
    cfg = Config.fromfile(
        osp.join(CONFIGS, '_base_', 'datasets', 'synthia_to_cityscapes_7.py'))
    pipeline = tta_pipeline_from_test_pipeline(cfg.low_res_test_pipeline)
    views = _views(pipeline, info)
    for view in views:
        assert view.img_shape == (320, 640)
        assert tuple(view.gt_sem_seg.data.shape[-2:]) == (320, 640)
        assert view.ori_shape == (320, 640)


def test_multi_scale_keeps_one_label_size(image_and_label):
    info, _ = image_and_label
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(32, 16), keep_ratio=False),
        dict(type='LoadAnnotations'),
        dict(type='LabelsAtInferenceSize'),
        dict(type='PackSegInputs'),
    ]
    pipeline = tta_pipeline_from_test_pipeline(test_pipeline, [0.5, 1.0])
    views = _views(pipeline, info)
    assert sorted({v.img_shape for v in views}) == [(8, 16), (16, 32)]
    assert {tuple(v.gt_sem_seg.data.shape[-2:]) for v in views} == {(16, 32)}
    # The caller's pipeline is not modified.
    assert 'scale' not in test_pipeline[3]


@pytest.mark.parametrize('pipeline, pattern', [
    ([dict(type='LoadImageFromFile'),
      dict(type='PackSegInputs')], 'exactly one'),
    ([dict(type='LoadImageFromFile'),
      dict(type='Resize', scale=(8, 4))], 'PackSegInputs'),
])
def test_unusable_test_pipeline_raises(pipeline, pattern):
    with pytest.raises(ValueError, match=pattern):
        tta_pipeline_from_test_pipeline(pipeline)
