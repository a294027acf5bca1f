"""Every CAG-UDA pipeline resizes as the release (issue 18, item 9;
METHODS.md 6.1, 6.4): the base-size resize (GTA5 1914x1052, Cityscapes
2048x1024), the random scale (width int(U(0.5, 1.5) x 2200), height
int(w / aspect) truncated), the anchor loader's and the test resize, all
Pillow, bilinear for images and nearest for labels. The previous mmcv path
(cv2, the random height rounded) is the option `mmcv_random_resize` +
`cv2_resize`. The references are PIL and cv2, called here directly."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import TRANSFORMS
from PIL import Image

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
# The AdaptSegNet-style baseline is not the CAG release (checked below).
BASELINE = 'configs/cag/gta2cs_output_adversarial_deeplabv2.py'
CAG_CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs/cag/*.py')) +
    glob.glob(osp.join(REPO, 'configs/demo/cag_*.py'))
    if osp.relpath(p, REPO) != BASELINE)
RESIZES = ('Resize', 'RandomResize', 'RandomWidthResize', 'FitAndPad',
           'RandomChoiceResize', 'RandomRescale')
CITYSCAPES = (2048, 1024)
SOURCE_BASE = dict(gta2cs=(1914, 1052), synthia2cs=(1280, 760))


def pipelines(cfg):
    """Every loader's pipeline of a CAG config, by role."""
    train = cfg.train_dataloader.dataset
    found = dict(source=train.source.pipeline, target=train.target.pipeline,
                 val=cfg.val_dataloader.dataset.pipeline,
                 test=cfg.test_dataloader.dataset.pipeline)
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'CategoryAnchorHook':
            found['anchor'] = hook.anchor_dataloader.dataset.pipeline
    return found


def resize_steps(pipeline):
    return [t for t in pipeline if t['type'] in RESIZES]


def sample(h=53, w=96):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    image[10:30, 20:70] = (250, 10, 40)  # an edge to interpolate across
    label = rng.integers(0, 19, (h, w), dtype=np.uint8)
    return image, label


def apply(step_cfg, image, label):
    step = TRANSFORMS.build(step_cfg)
    return step(
        dict(img=image.copy(), gt_seg_map=label.copy(),
             seg_fields=['gt_seg_map'], img_shape=image.shape[:2],
             ori_shape=image.shape[:2]))


def pil(image, label, size):
    return (np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR)),
            np.asarray(Image.fromarray(label).resize(size, Image.NEAREST)))


@pytest.mark.parametrize('config', CAG_CONFIGS)
def test_every_cag_pipeline_resizes_as_released(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    found = pipelines(cfg)
    assert ('anchor' in found) == ('stage' in osp.basename(config)), config
    if config.startswith('configs/demo/'):  # the demo's own base sizes
        source_base, target_base = (cfg.demo_source_scale,
                                    cfg.demo_target_scale)
        width, ratio_range = None, None
    else:
        task = 'synthia2cs' if 'synthia' in config else 'gta2cs'
        source_base, target_base = SOURCE_BASE[task], CITYSCAPES
        width, ratio_range = 2200, (0.5, 1.5)
    for role, pipeline in found.items():
        steps = resize_steps(pipeline)
        where = (config, role)
        if role in ('source', 'target'):
            assert [t.type for t in steps] == ['Resize',
                                               'RandomWidthResize'], where
            assert pipeline.index(steps[0]) < pipeline.index(steps[1])
            if width is not None:
                assert steps[1].width == width, where
                assert tuple(steps[1].ratio_range) == ratio_range, where
        else:
            assert [t.type for t in steps] == ['Resize'], where
        for step in steps:
            assert step.backend == 'pillow', where
            assert step.interpolation == 'bilinear', where
        expected = source_base if role in ('source', 'anchor') else (
            target_base)
        assert tuple(steps[0].scale) == tuple(expected), where
        assert steps[0].keep_ratio is False, where


def distinct_resize_steps():
    steps = {}
    for config in CAG_CONFIGS:
        cfg = Config.fromfile(osp.join(REPO, config))
        for pipeline in pipelines(cfg).values():
            for step in resize_steps(pipeline):
                steps.setdefault(repr(sorted(step.items())), step)
    return list(steps.values())


def test_cag_resize_steps_are_pillow_bilinear_and_nearest():
    """Each distinct resize step of the CAG configs, built and applied:
    sizes and pixels against PIL."""
    image, label = sample()
    steps = distinct_resize_steps()
    assert {s.type for s in steps} == {'Resize', 'RandomWidthResize'}
    np.random.seed(0)
    for step in steps:
        out = apply(step, image, label)
        h, w = out['img'].shape[:2]
        if step.type == 'Resize':
            assert (w, h) == tuple(step.scale), step
        else:
            low, high = step.ratio_range
            assert int(low * step.width) <= w <= int(high * step.width)
            assert h == int(w / (96 / 53)), step  # truncated
        expected_img, expected_label = pil(image, label, (w, h))
        np.testing.assert_array_equal(out['img'], expected_img)
        np.testing.assert_array_equal(out['gt_seg_map'], expected_label)


def test_previous_mmcv_path_is_an_option():
    """The documented override gives mmcv's RandomResize (height rounded)
    and cv2 resizing again."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/cag/gta2cs_stage1.py'))
    old = [
        cfg.mmcv_random_resize if t.type == 'RandomWidthResize' else
        dict(t, **cfg.cv2_resize) if t.type == 'Resize' else t
        for t in cfg.train_dataloader.dataset.source.pipeline
    ]
    base, random = resize_steps(old)
    assert random['type'] == 'RandomResize'
    image, label = sample()
    out = apply(dict(base, scale=(40, 22)), image, label)
    np.testing.assert_array_equal(
        out['img'], cv2.resize(image, (40, 22),
                               interpolation=cv2.INTER_LINEAR))
    np.testing.assert_array_equal(
        out['gt_seg_map'],
        cv2.resize(label, (40, 22), interpolation=cv2.INTER_NEAREST))
    image, label = sample(4, 7)
    np.random.seed(0)
    rounded = 0
    for _ in range(20):
        out = apply(random, image, label)
        h, w = out['img'].shape[:2]
        assert h == int(w * 4 / 7 + 0.5)  # rounded, not truncated
        rounded += h != int(w / (7 / 4))
    assert rounded > 0


def test_adaptsegnet_baseline_keeps_its_pillow_bicubic():
    """The output-level baseline follows AdaptSegNet's loaders (Pillow
    bicubic images, nearest labels), not the CAG release."""
    cfg = Config.fromfile(osp.join(REPO, BASELINE))
    train = cfg.train_dataloader.dataset
    for pipeline in (train.source.pipeline, train.target.pipeline,
                     cfg.test_dataloader.dataset.pipeline):
        (step, ) = resize_steps(pipeline)
        assert (step.type, step.backend, step.interpolation) == (
            'Resize', 'pillow', 'bicubic')
