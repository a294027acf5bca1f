"""Resizing in the depth method's pipelines as the release (issue 18, item
6; METHODS.md 6.4): Pillow bicubic for images in every depth pipeline
(adaptation, 640x320, Vistas' FitAndPad, self-training, demo), Pillow
nearest for labels, the float depth map nearest at the labels' pixels, and
FitAndPad's fitted side truncated (``int()``), not rounded. References are
computed here with PIL directly."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_uda  # noqa: F401
from mmseg_uda.datasets.transforms import FitAndPad
from mmseg_uda.datasets.transforms.fit_and_pad import fitted_size

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
DEPTH_CONFIGS = sorted(
    osp.relpath(p, REPO) for pattern in ('configs/depth/*.py',
                                         'configs/demo/depth*.py')
    for p in glob.glob(osp.join(REPO, pattern)))
# The depth method's dataset bases and their pipelines with a resize.
DEPTH_BASES = [
    ('configs/_base_/datasets/synthia_to_cityscapes.py',
     'source_depth_pipeline'),
] + [(f'configs/_base_/datasets/{base}.py', pipeline)
     for base in ('synthia_to_cityscapes_7', 'synthia_to_mapillary_7')
     for pipeline in ('source_pipeline', 'source_plain_pipeline',
                      'target_pipeline', 'test_pipeline',
                      'low_res_test_pipeline')]
SIZED = ('Resize', 'ResizeWithDepth', 'RandomResize', 'FitAndPad')


def sample(h=53, w=96, depth=True):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    image[10:30, 20:70] = (250, 10, 40)  # an edge to alias
    # depth = pixel index, label = index mod 251: equal after a resize iff
    # both sampled the same source pixels
    index = np.arange(h * w).reshape(h, w)
    results = dict(
        img=image, gt_seg_map=(index % 251).astype(np.uint8),
        seg_fields=['gt_seg_map'], img_shape=(h, w), ori_shape=(h, w))
    if depth:
        results['gt_depth_map'] = index.astype(np.float32)
        results['seg_fields'].append('gt_depth_map')
    return results


def pil_resize(array, size, resample):
    return np.asarray(Image.fromarray(array).resize(size, resample))


def walk(node):
    """Every pipeline (a list of transform dicts) below ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get('pipeline'), list):
            yield node['pipeline']
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from walk(value)


def check_sized_step(step_cfg, with_depth):
    """Run one resize step on a shrink (96x53 -> 40x22 box) and compare with
    PIL: image bicubic, label nearest, depth nearest at the label's
    pixels."""
    step = TRANSFORMS.build(dict(step_cfg, scale=(40, 22)))
    out = step(sample(depth=with_depth))
    if step_cfg['type'] == 'FitAndPad':
        # 96/53 = 1.81 < 40/22 = 1.82: bound by the height,
        # width int(96 * 22 / 53) = int(39.85) = 39 (round would give 40)
        size = (39, 22)
        assert out['fitted_shape'] == (22, 39)
        assert (out['img'][:, 39:] == 0).all()
        assert (out['gt_seg_map'][:, 39:] == 255).all()
        img, label = out['img'][:, :39], out['gt_seg_map'][:, :39]
        depth = out.get('gt_depth_map')
        depth = None if depth is None else depth[:, :39]
    else:
        size = (40, 22)
        img, label = out['img'], out['gt_seg_map']
        depth = out.get('gt_depth_map')
    src = sample(depth=with_depth)
    np.testing.assert_array_equal(
        img, pil_resize(src['img'], size, Image.BICUBIC))
    np.testing.assert_array_equal(
        label, pil_resize(src['gt_seg_map'], size, Image.NEAREST))
    if with_depth:
        assert depth.dtype == np.float32
        np.testing.assert_array_equal(
            depth, pil_resize(src['gt_depth_map'], size, Image.NEAREST))
        np.testing.assert_array_equal(depth.astype(np.int64) % 251, label)


@pytest.mark.parametrize('config', DEPTH_CONFIGS)
def test_every_depth_pipeline_resizes_with_pillow_as_the_release(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        pipelines = list(walk(cfg[loader]))
        assert pipelines, (config, loader)
        for pipeline in pipelines:
            types = [t['type'] for t in pipeline]
            sized = [t for t in pipeline if t['type'] in SIZED]
            assert sized, (config, loader, types)
            with_depth = 'LoadSynthiaDepth' in types
            for step in sized:
                check_sized_step(step, with_depth)


@pytest.mark.parametrize('base, pipeline', DEPTH_BASES)
def test_depth_dataset_bases_resize_with_pillow(base, pipeline):
    cfg = Config.fromfile(osp.join(REPO, base))
    steps = [t for t in cfg[pipeline] if t['type'] in SIZED]
    assert len(steps) == 1
    types = [t['type'] for t in cfg[pipeline]]
    step = dict(steps[0])
    if step.get('keep_ratio'):  # Vistas bases: a keep-ratio rescale
        step['keep_ratio'] = False
    check_sized_step(step, 'LoadSynthiaDepth' in types)


def test_cv2_option_of_the_depth_source_pipeline():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/synthia_to_cityscapes_7.py'))
    (step, ) = [t for t in cfg.source_pipeline if 'scale' in t]
    step = TRANSFORMS.build(dict(step, scale=(40, 22), **cfg.cv2_resize))
    src = sample()
    out = step(sample())
    np.testing.assert_array_equal(
        out['img'],
        cv2.resize(src['img'], (40, 22), interpolation=cv2.INTER_LINEAR))
    np.testing.assert_array_equal(
        out['gt_depth_map'],
        cv2.resize(src['gt_depth_map'], (40, 22),
                   interpolation=cv2.INTER_NEAREST))


def test_resize_with_depth_refuses_other_float_maps_by_dtype():
    step = TRANSFORMS.build(
        dict(type='ResizeWithDepth', scale=(8, 6), backend='pillow',
             interpolation='bicubic'))
    results = sample(12, 16)
    results['gt_depth_map'] = results['gt_depth_map'].astype(np.float64)
    with pytest.raises(TypeError, match='float64'):
        step(results)


# Hand-computed fitted sizes (H, W) of the release's rule: the side the box
# binds is exact, the other int()-truncated.
@pytest.mark.parametrize('hw, box, fitted', [
    ((1371, 2000), (1280, 760), (760, 1108)),  # 2000*760/1371 = 1108.68
    ((3024, 4032), (640, 320), (320, 426)),  # 4:3 at 640x320: 426.67
    ((3024, 4032), (1280, 760), (760, 1013)),  # 1013.33
    ((1001, 2000), (1280, 760), (640, 1280)),  # wide: 1001*0.64 = 640.64
    ((1080, 1920), (1280, 760), (720, 1280)),  # 16:9, exact
    ((50, 30), (1280, 760), (760, 456)),  # portrait: 30*15.2 = 456
])
def test_fitted_size_truncates(hw, box, fitted):
    assert fitted_size(hw, box) == fitted


def test_fit_and_pad_against_pil_where_rounding_differs():
    # (30, 41) into (40, 19): bound by the height, width
    # int(41 * 19 / 30) = int(25.97) = 25 where round() gives 26
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)
    label = rng.integers(0, 7, (30, 41), dtype=np.uint8)
    out = FitAndPad(scale=(40, 19))(
        dict(img=img.copy(), gt_seg_map=label.copy(),
             seg_fields=['gt_seg_map']))
    assert out['fitted_shape'] == (19, 25)
    np.testing.assert_array_equal(out['img'][:, :25],
                                  pil_resize(img, (25, 19), Image.BICUBIC))
    np.testing.assert_array_equal(out['gt_seg_map'][:, :25],
                                  pil_resize(label, (25, 19), Image.NEAREST))
    assert (out['img'][:, 25:] == 0).all()
    assert (out['gt_seg_map'][:, 25:] == 255).all()
    assert out['img'].shape == (19, 40, 3)
