"""Image resizing as the released MaxSquare/FADA loaders do it (issue 10,
item 4): Pillow bicubic for images (antialiased when shrinking), Pillow
nearest for labels, in every method pipeline; cv2 bilinear is the named
option ``cv2_resize``. The references are computed here with PIL and cv2
directly."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import TRANSFORMS
from PIL import Image

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
DATASET_BASES = [
    'configs/_base_/datasets/gta5_to_cityscapes.py',
    'configs/_base_/datasets/synthia_to_cityscapes.py',
    'configs/_base_/datasets/cityscapes_to_nthu.py',
]
METHOD_CONFIGS = sorted(
    osp.relpath(p, REPO) for d in ('maxsquare', 'source_only', 'fada')
    for p in glob.glob(osp.join(REPO, 'configs', d, '*.py')))


def _sample(h=53, w=96):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    image[10:30, 20:70] = (250, 10, 40)  # an edge to alias
    label = rng.integers(0, 19, (h, w), dtype=np.uint8)
    return image, label


def _resize_steps(node):
    if isinstance(node, dict):
        if node.get('type') in ('Resize', 'RandomResize'):
            yield node
        for value in node.values():
            yield from _resize_steps(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _resize_steps(value)


def _apply(step_cfg, image, label, scale):
    step = TRANSFORMS.build(dict(step_cfg, scale=scale))
    return step(
        dict(img=image.copy(), gt_seg_map=label.copy(),
             seg_fields=['gt_seg_map'], img_shape=image.shape[:2],
             ori_shape=image.shape[:2]))


@pytest.mark.parametrize('base', DATASET_BASES)
@pytest.mark.parametrize('pipeline',
                         ['source_pipeline', 'target_pipeline',
                          'test_pipeline'])
def test_default_is_pillow_bicubic_and_nearest(base, pipeline):
    cfg = Config.fromfile(osp.join(REPO, base))
    (step, ) = [t for t in cfg[pipeline] if t.type == 'Resize']
    image, label = _sample()
    out = _apply(step, image, label, (40, 22))  # shrink, as 1914 -> 1280
    expected = np.asarray(
        Image.fromarray(image).resize((40, 22), Image.BICUBIC))
    np.testing.assert_array_equal(out['img'], expected)
    expected_label = np.asarray(
        Image.fromarray(label).resize((40, 22), Image.NEAREST))
    np.testing.assert_array_equal(out['gt_seg_map'], expected_label)


@pytest.mark.parametrize('base', DATASET_BASES)
def test_cv2_option_is_the_old_path(base):
    cfg = Config.fromfile(osp.join(REPO, base))
    (step, ) = [t for t in cfg.source_pipeline if t.type == 'Resize']
    image, label = _sample()
    out = _apply(dict(step, **cfg.cv2_resize), image, label, (40, 22))
    np.testing.assert_array_equal(
        out['img'],
        cv2.resize(image, (40, 22), interpolation=cv2.INTER_LINEAR))
    np.testing.assert_array_equal(
        out['gt_seg_map'],
        cv2.resize(label, (40, 22), interpolation=cv2.INTER_NEAREST))
    # and the two paths really differ when shrinking
    default = _apply(step, image, label, (40, 22))
    assert np.abs(default['img'].astype(int) - out['img'].astype(int)).max(
    ) > 10


@pytest.mark.parametrize('config', METHOD_CONFIGS)
def test_every_method_pipeline_resizes_images_with_pillow_bicubic(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    steps = [
        s for loader in ('train_dataloader', 'val_dataloader',
                         'test_dataloader')
        for s in _resize_steps(cfg[loader].dataset)
    ]
    assert steps, config
    for step in steps:
        assert step.get('backend') == 'pillow', (config, step)
        assert step.get('interpolation') == 'bicubic', (config, step)
