"""ColorJitter: torchvision semantics (factor ranges, PIL adjustments, random
order), BGR handling and numpy-2-safe negative hue shifts."""
import random

import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_uda  # noqa: F401
from mmseg_uda.datasets.transforms.color_jitter import ColorJitter, adjust_hue


def bgr_image(b, g, r, size=(4, 6)):
    img = np.zeros(size + (3, ), np.uint8)
    img[...] = (b, g, r)
    return img


def test_fada_settings_draw_torchvision_ranges(monkeypatch):
    calls = []

    def uniform(a, b):
        calls.append((a, b))
        return (a + b) / 2

    monkeypatch.setattr(random, 'uniform', uniform)
    jitter = TRANSFORMS.build(
        dict(
            type='ColorJitter',
            brightness=0.5,
            contrast=0.5,
            saturation=0.5,
            hue=0.2))
    img = bgr_image(30, 60, 90)
    out = jitter(dict(img=img.copy()))['img']
    assert sorted(calls) == [(-0.2, 0.2), (0.5, 1.5), (0.5, 1.5), (0.5, 1.5)]
    # midpoints: factors 1 and hue 0 leave the image unchanged
    np.testing.assert_array_equal(out, img)
    assert out.dtype == np.uint8 and out.shape == img.shape


def test_order_is_random():
    random.seed(0)
    jitter = ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.2)
    orders = {tuple(name for name, _ in jitter.draw()) for _ in range(30)}
    assert len(orders) > 5
    assert all(
        sorted(order) == ['brightness', 'contrast', 'hue', 'saturation']
        for order in orders)
    # a disabled adjustment is never drawn
    assert [n for n, _ in ColorJitter(hue=0.1).draw()] == ['hue']


def test_brightness_scales_every_channel(monkeypatch):
    monkeypatch.setattr(random, 'uniform', lambda a, b: 0.5)
    out = ColorJitter(brightness=0.5)(dict(img=bgr_image(40, 100, 200)))
    np.testing.assert_array_equal(out['img'][0, 0], [20, 50, 100])


def test_saturation_blends_with_the_rgb_grey_level(monkeypatch):
    # BGR pure blue 200. PIL grey (ITU-R 601-2 on RGB) = 0.114 * 200 = 22.8;
    # a blend with factor 0.5 gives B ~ 111.4, G = R ~ 11.4. Treating the
    # BGR array as RGB would use 0.299 * 200 = 59.8 instead (B ~ 130).
    monkeypatch.setattr(random, 'uniform', lambda a, b: 0.5)
    out = ColorJitter(saturation=0.5)(dict(img=bgr_image(200, 0, 0)))['img']
    b, g, r = (int(v) for v in out[0, 0])
    assert 110 <= b <= 112 and 10 <= g <= 12 and g == r


def test_adjust_hue_rotates_both_ways():
    red = Image.fromarray(np.array([[[255, 0, 0]]], np.uint8), 'RGB')
    # +1/3 of a turn: red -> green; -1/3: red -> blue (torchvision's
    # int(hue * 255) modulo 256, which mmcv's adjust_hue fails on numpy 2
    # for negative factors)
    green = np.asarray(adjust_hue(red, 85 / 255 + 1e-6))[0, 0]
    blue = np.asarray(adjust_hue(red, -85 / 255 - 1e-6))[0, 0]
    assert green.argmax() == 1 and green[1] == 255 and green[[0, 2]].max() < 8
    assert blue.argmax() == 2 and blue[2] == 255 and blue[[0, 1]].max() < 8


def test_zero_disables_and_bad_values_are_named():
    img = bgr_image(1, 2, 3)
    np.testing.assert_array_equal(ColorJitter()(dict(img=img))['img'], img)
    with pytest.raises(ValueError, match='contrast=-0.1'):
        ColorJitter(contrast=-0.1)
    with pytest.raises(ValueError, match='hue=0.6'):
        ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match='a.png'):
        ColorJitter(brightness=0.5)(
            dict(img=img.astype(np.float32), img_path='a.png'))
