"""RandomWidthResize, CAG-UDA's released random scaling (METHODS.md 6.1,
6.4): width w = int(U(lo, hi) x width), height int(w / aspect) truncated,
aspect = W / H of the input; Pillow bilinear images, Pillow nearest labels
(cv2 as the option). References: PIL and cv2 called here directly."""
import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_uda  # noqa: F401  (registers the transform)


def sample(h=52, w=95, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    image[10:30, 20:70] = (250, 10, 40)  # an edge to interpolate across
    label = rng.integers(0, 19, (h, w), dtype=np.uint8)
    return image, label


def apply(step, image, label):
    return step(
        dict(img=image.copy(), gt_seg_map=label.copy(),
             seg_fields=['gt_seg_map'], img_shape=image.shape[:2],
             ori_shape=image.shape[:2], img_path='a.png',
             seg_map_path='a_label.png'))


def test_sizes_truncate_the_height_and_span_the_range():
    image, label = sample(4, 7)  # aspect 1.75: w / aspect often ends >= .5
    step = TRANSFORMS.build(
        dict(type='RandomWidthResize', width=200, ratio_range=(0.5, 1.5)))
    np.random.seed(0)
    widths, rounding_differs = [], 0
    for _ in range(300):
        out = apply(step, image, label)
        h, w = out['img'].shape[:2]
        assert 100 <= w <= 300
        exact = w / (7 / 4)
        assert h == int(exact), (w, h)
        assert out['gt_seg_map'].shape == (h, w)
        assert out['img_shape'] == (h, w) and out['scale'] == (w, h)
        assert out['scale_factor'] == (w / 7, h / 4)
        rounding_differs += int(exact + 0.5) != int(exact)
        widths.append(w)
    # truncation was really exercised, and the draws cover U(0.5, 1.5)
    assert rounding_differs > 50
    assert min(widths) <= 105 and max(widths) >= 295
    assert len(set(widths)) > 150


@pytest.mark.parametrize('hw', [(52, 95), (1052 // 8, 1914 // 8)])
def test_pixels_are_pillow_bilinear_and_nearest(hw):
    image, label = sample(*hw)
    step = TRANSFORMS.build(
        dict(type='RandomWidthResize', width=150, ratio_range=(0.5, 1.5)))
    np.random.seed(1)
    for _ in range(3):  # shrinking and enlarging
        out = apply(step, image, label)
        h, w = out['img'].shape[:2]
        np.testing.assert_array_equal(
            out['img'],
            np.asarray(Image.fromarray(image).resize((w, h),
                                                     Image.BILINEAR)))
        np.testing.assert_array_equal(
            out['gt_seg_map'],
            np.asarray(Image.fromarray(label).resize((w, h), Image.NEAREST)))


def test_cv2_backend_option():
    image, label = sample()
    step = TRANSFORMS.build(
        dict(type='RandomWidthResize', width=60, ratio_range=(0.5, 0.7),
             backend='cv2', interpolation='bilinear'))
    out = apply(step, image, label)
    h, w = out['img'].shape[:2]
    assert h == int(w / (95 / 52))
    np.testing.assert_array_equal(
        out['img'], cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR))
    np.testing.assert_array_equal(
        out['gt_seg_map'],
        cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST))
    pil = np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))
    assert np.abs(pil.astype(int) - out['img'].astype(int)).max() > 10


@pytest.mark.parametrize('kwargs, match', [
    (dict(width=0), 'width must be a positive int'),
    (dict(width=2200.5), 'width must be a positive int'),
    (dict(width=2200, ratio_range=(1.5, 0.5)), 'ratio_range'),
    (dict(width=2200, ratio_range=(0, 1)), 'ratio_range'),
    (dict(width=2200, backend='skimage'), "backend must be one of"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TRANSFORMS.build(dict(type='RandomWidthResize', **kwargs))


def test_pillow_refuses_non_uint8_naming_key_and_file():
    image, label = sample()
    step = TRANSFORMS.build(dict(type='RandomWidthResize', width=60))
    with pytest.raises(TypeError, match=r'gt_seg_map of a_label.png is int64'):
        apply(step, image, label.astype(np.int64))


def test_too_small_a_size_is_named():
    image, label = sample(10, 60)  # aspect 6: a 1-pixel width has height 0
    step = TRANSFORMS.build(
        dict(type='RandomWidthResize', width=1, ratio_range=(1, 1)))
    with pytest.raises(ValueError, match=r'\(10, 60\).*under 1 pixel'):
        apply(step, image, label)
