"""DACS's strong augmentation against hand computations, ``colorsys`` and a
NumPy blur written from METHODS.md sec. 7.1 steps 2, 7, 8 (ClassMix scopes,
colour jitter, blur, de-/re-normalisation, gates), and the no-host-sync
property (every function runs on the meta device, which refuses any read of
tensor data; on CUDA also under ``torch.cuda.set_sync_debug_mode``)."""
import colorsys
import itertools
import math

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from mmseg_uda.models.utils import strong_augmentation as sa
from mmseg_uda.models.utils.strong_augmentation import (BRIGHTNESS, CONTRAST,
                                                        HUE, SATURATION,
                                                        apply_color_jitter,
                                                        blur_kernel_size,
                                                        class_mix_masks,
                                                        color_jitter,
                                                        denormalize,
                                                        draw_strong_gates,
                                                        gaussian_blur,
                                                        hsv_to_rgb, mix,
                                                        renormalize,
                                                        rgb_to_hsv,
                                                        strong_transform)

X = 255
MEAN = torch.tensor([123.675, 116.28, 103.53])
STD = torch.tensor([58.395, 57.12, 57.375])


def _labels():
    """Image 0 holds {0, 1, 2, 3, 4, 7, 255}, image 1 holds {2, 3, 7}."""
    image0 = [[0, 0, 1, 1, 2, 2, 3],
              [3, 4, 4, 7, 7, X, X]]
    image1 = [[2, 2, 2, 3, 3, 3, 7],
              [7, 7, 2, 2, 3, 3, 7]]
    return torch.tensor([image0, image1])


def _chosen_values(mask, label):
    """The values of ``label`` under the mask; asserts that the mask takes
    whole value regions (all pixels of a value or none)."""
    chosen = set()
    for value in np.unique(label):
        under = mask[label == value]
        assert under.min() == under.max(), value
        if under[0] == 1:
            chosen.add(int(value))
    return chosen


def _draw(scope, draws, **kwargs):
    labels = _labels()
    chosen = [[], []]
    torch.manual_seed(0)
    for _ in range(draws):
        masks = class_mix_masks(labels, scope, **kwargs)
        assert masks.shape == (2, 1, 2, 7) and masks.dtype == torch.float32
        for i in range(2):
            chosen[i].append(_chosen_values(masks[i, 0].numpy(),
                                            labels[i].numpy()))
    return chosen


def _frequencies(chosen, values):
    return {v: np.mean([v in c for c in chosen]) for v in values}


def test_class_mix_batch_scope_pastes_half_of_the_batch_values():
    chosen = _draw('batch', 1500)
    # K = {0, 1, 2, 3, 4, 7, 255} (n = 7, 255 included) -> 4 per image;
    # image 0 holds all of K, so exactly 4 of its values are pasted
    assert all(len(c) == 4 for c in chosen[0])
    for v, f in _frequencies(chosen[0], [0, 1, 2, 3, 4, 7, X]).items():
        assert abs(f - 4 / 7) < 0.05, (v, f)
    # image 1's values are drawn from the batch's K: each with p = 4/7 and
    # anywhere from 0 to 3 of them (hypergeometric, mean 3 * 4/7)
    for v, f in _frequencies(chosen[1], [2, 3, 7]).items():
        assert abs(f - 4 / 7) < 0.05, (v, f)
    counts = [len(c) for c in chosen[1]]
    assert set(counts) == {0, 1, 2, 3}
    assert abs(np.mean(counts) - 12 / 7) < 0.1
    # the images are drawn independently
    assert np.mean([2 in a and 2 in b
                    for a, b in zip(*chosen)]) == pytest.approx(
                        (4 / 7)**2, abs=0.05)


def test_class_mix_image_scope_removes_ignore_and_uses_own_classes():
    chosen = _draw('image', 1500)
    # image 0: K = {0, 1, 2, 3, 4, 7}: 3 chosen, 255 never
    assert all(len(c) == 3 and X not in c for c in chosen[0])
    for v, f in _frequencies(chosen[0], [0, 1, 2, 3, 4, 7]).items():
        assert abs(f - 3 / 6) < 0.05, (v, f)
    # image 1: K = {2, 3, 7}: ceil(3 / 2) = 2 chosen, each with p = 2/3
    assert all(len(c) == 2 for c in chosen[1])
    for v, f in _frequencies(chosen[1], [2, 3, 7]).items():
        assert abs(f - 2 / 3) < 0.05, (v, f)


def test_class_mix_image_with_ignore_scope_keeps_ignore():
    chosen = _draw('image_with_ignore', 1500)
    # image 0: K = {0, 1, 2, 3, 4, 7, 255}: 4 chosen, 255 among them
    assert all(len(c) == 4 for c in chosen[0])
    for v, f in _frequencies(chosen[0], [0, 1, 2, 3, 4, 7, X]).items():
        assert abs(f - 4 / 7) < 0.05, (v, f)
    assert all(len(c) == 2 for c in chosen[1])


def test_class_mix_other_ignore_value_and_label_shapes():
    labels = torch.tensor([[[250, 250, 255, 255, 1, 1]]])
    chosen = set()
    for seed in range(200):
        torch.manual_seed(seed)
        masks = class_mix_masks(labels[:, None], 'image', ignore_index=250)
        assert masks.shape == (1, 1, 1, 6)
        values = _chosen_values(masks[0, 0].numpy(), labels[0].numpy())
        # K = {1, 255}: 255 is an ordinary value here, 250 the ignore one
        assert len(values) == 1 and 250 not in values
        chosen |= values
    assert chosen == {1, 255}
    # an image of ignore only has nothing to paste
    empty = class_mix_masks(torch.full((1, 3, 3), X), 'image')
    assert empty.sum() == 0
    full = class_mix_masks(torch.full((1, 3, 3), X), 'batch')
    assert full.sum() == 9  # K = {255}, ceil(1 / 2) = 1


def test_class_mix_rejects_bad_input():
    with pytest.raises(ValueError, match='scope'):
        class_mix_masks(_labels(), 'images')
    with pytest.raises(TypeError, match='integer'):
        class_mix_masks(_labels().float())
    for value in (256, 300, -1):
        with pytest.raises(ValueError, match='256'):
            class_mix_masks(torch.tensor([[[1, value]]]))
    # a negative ignore value is fine
    masks = class_mix_masks(torch.tensor([[[1, -1]]]), 'image', -1)
    np.testing.assert_array_equal(masks, [[[[1, 0]]]])
    with pytest.raises(ValueError, match='shape'):
        class_mix_masks(torch.zeros(2, 2, 3, 3, dtype=torch.long))


def test_mix_images_labels_and_weights():
    masks = torch.tensor([[[[1., 0.], [0., 1.]]], [[[0., 0.], [1., 1.]]]])
    source = torch.arange(24.).view(2, 3, 2, 2)
    target = -torch.arange(24.).view(2, 3, 2, 2)
    expected = np.where(masks.numpy() == 1, source.numpy(), target.numpy())
    np.testing.assert_array_equal(mix(masks, source, target), expected)
    labels_s = torch.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    labels_t = torch.full((2, 2, 2), 9)
    mixed = mix(masks, labels_s, labels_t)
    assert mixed.dtype == torch.long
    np.testing.assert_array_equal(mixed,
                                  [[[1, 9], [9, 4]], [[9, 9], [7, 8]]])
    np.testing.assert_array_equal(
        mix(masks, labels_s[:, None], labels_t[:, None])[:, 0], mixed)
    weights = mix(masks, torch.ones(2, 2, 2), torch.full((2, 2, 2), 0.25))
    np.testing.assert_array_equal(
        weights, [[[1, .25], [.25, 1]], [[.25, .25], [1, 1]]])
    with pytest.raises(ValueError, match='target shape'):
        mix(masks, source, target[:1])


def _pixels(*rgb):
    """A (1, 3, 1, N) image of the given RGB pixels."""
    return torch.tensor(rgb, dtype=torch.float32).T[None, :, None, :]


def _as_list(image):
    return image[0, :, 0, :].T.tolist()


IDENTITY = dict(brightness=1.0, contrast=1.0, saturation=1.0, hue=0.0)
ORDER = [BRIGHTNESS, CONTRAST, SATURATION, HUE]


def _jitter(image, order=ORDER, **factors):
    return apply_color_jitter(image, **{**IDENTITY, **factors}, order=order)


def test_brightness_is_additive_and_clamped():
    image = _pixels([0.1, 0.5, 0.95], [0.0, 0.3, 0.7])
    np.testing.assert_allclose(
        _as_list(_jitter(image, brightness=1.1)),
        [[0.2, 0.6, 1.0], [0.1, 0.4, 0.8]], atol=1e-5)
    np.testing.assert_allclose(
        _as_list(_jitter(image, brightness=0.8)),
        [[0.0, 0.3, 0.75], [0.0, 0.1, 0.5]], atol=1e-5)


def test_contrast_is_a_plain_multiplication_and_clamped():
    image = _pixels([0.5, 0.5, 0.5], [0.1, 0.6, 0.9])
    # a grey image changes too: there is no mean subtraction
    np.testing.assert_allclose(
        _as_list(_jitter(image, contrast=1.2)),
        [[0.6, 0.6, 0.6], [0.12, 0.72, 1.0]], atol=1e-5)
    np.testing.assert_allclose(
        _as_list(_jitter(image, contrast=0.8)),
        [[0.4, 0.4, 0.4], [0.08, 0.48, 0.72]], atol=1e-5)


RGB_PIXELS = [[0.9, 0.2, 0.1], [0.2, 0.7, 0.4], [0.3, 0.35, 0.8],
              [0.8, 0.1, 0.5], [0.6, 0.6, 0.2], [0.4, 0.4, 0.4],
              [1.0, 0.0, 0.0], [0.5, 0.45, 0.5]]


def test_saturation_scales_hsv_s_with_clamp():
    image = _pixels(*RGB_PIXELS)
    for factor in (0.8, 1.2, 3.0):
        expected = []
        for r, g, b in RGB_PIXELS:
            h, s, v = colorsys.rgb_to_hsv(r, g, b)
            expected.append(colorsys.hsv_to_rgb(h, min(s * factor, 1.0), v))
        np.testing.assert_allclose(
            _as_list(_jitter(image, saturation=factor)), expected,
            atol=1e-5)


def test_hue_shifts_by_h_turns_modulo_one_turn():
    image = _pixels(*RGB_PIXELS)
    for shift in (0.2, -0.2, 0.5, -0.45):
        expected = []
        for r, g, b in RGB_PIXELS:
            h, s, v = colorsys.rgb_to_hsv(r, g, b)
            expected.append(colorsys.hsv_to_rgb((h + shift) % 1.0, s, v))
        out = _jitter(image, hue=shift)
        np.testing.assert_allclose(_as_list(out), expected, atol=1e-5)
        # in radians: H + 2 pi h modulo 2 pi (checked where S > 0)
        hsv_in, hsv_out = rgb_to_hsv(image), rgb_to_hsv(out)
        coloured = hsv_in[0, 1, 0] > 0.05
        want = (hsv_in[0, 0, 0] + 2 * math.pi * shift) % (2 * math.pi)
        got = hsv_out[0, 0, 0]
        diff = (got - want + math.pi) % (2 * math.pi) - math.pi
        assert diff[coloured].abs().max() < 1e-4


def test_jitter_order_is_applied_as_given():
    image = _pixels([0.5, 0.5, 0.5])
    # brightness then contrast: (0.5 + 0.2) * 0.8; the reverse: 0.4 + 0.2
    bc = _jitter(image, [BRIGHTNESS, CONTRAST, SATURATION, HUE],
                 brightness=1.2, contrast=0.8)
    cb = _jitter(image, [CONTRAST, BRIGHTNESS, HUE, SATURATION],
                 brightness=1.2, contrast=0.8)
    np.testing.assert_allclose(_as_list(bc), [[0.56] * 3], atol=1e-5)
    np.testing.assert_allclose(_as_list(cb), [[0.6] * 3], atol=1e-5)
    # the clamp sits between the operations: 0.9 + 0.2 -> 1.0 -> 0.8
    bright = _pixels([0.9, 0.9, 0.9])
    np.testing.assert_allclose(
        _as_list(_jitter(bright, ORDER, brightness=1.2, contrast=0.8)),
        [[0.8] * 3], atol=1e-5)
    with pytest.raises(ValueError, match='permutation'):
        _jitter(image, [0, 1, 2, 2])


def test_jitter_factors_are_per_image():
    image = torch.cat([_pixels([0.5, 0.25, 0.1])] * 2)
    out = apply_color_jitter(image, torch.tensor([1.1, 0.9]),
                             torch.tensor([1.0, 2.0]), 1.0, 0.0, ORDER)
    np.testing.assert_allclose(_as_list(out[:1]), [[0.6, 0.35, 0.2]],
                               atol=1e-5)
    np.testing.assert_allclose(_as_list(out[1:]), [[0.8, 0.3, 0.0]],
                               atol=1e-5)


class _Spy:
    """Records the calls of a replaced module function."""

    def __init__(self, result=None):
        self.calls = []
        self.result = result

    def __call__(self, images, *args, **kwargs):
        self.calls.append((images.clone(), args, kwargs))
        return images if self.result is None else self.result(images)


def test_color_jitter_draws_kornia_ranges_and_one_order_per_call(
        monkeypatch):
    spy = _Spy()
    monkeypatch.setattr(sa, 'apply_color_jitter', spy)
    images = torch.rand(3, 3, 2, 2)
    torch.manual_seed(0)
    for _ in range(480):
        color_jitter(images, 0.2)
    assert len(spy.calls) == 480  # one call: one order for the batch
    orders = [tuple(args[4]) for _, args, _ in spy.calls]
    assert set(orders) == set(itertools.permutations(range(4)))
    counts = [orders.count(o) for o in set(orders)]
    assert max(counts) < 45  # 20 expected per order
    factors = torch.stack(
        [torch.stack(args[:4]) for _, args, _ in spy.calls])  # (N, 4, B)
    assert factors.shape == (480, 4, 3)
    brightness, contrast, saturation, hue = factors.unbind(1)
    for factor in (brightness, contrast, saturation):
        assert factor.min() >= 0.8 and factor.max() <= 1.2
        assert abs(factor.mean() - 1.0) < 0.01
        assert factor.max() - factor.min() > 0.38
    assert hue.min() >= -0.2 and hue.max() <= 0.2 and hue.std() > 0.1
    # the three images of a call get their own factors
    assert (brightness[:, 0] != brightness[:, 1]).all()
    # kornia's bounds for a large strength: brightness in [0, 2], hue in
    # [-0.5, 0.5], contrast and saturation unbounded above
    spy.calls.clear()
    for _ in range(200):
        color_jitter(images, 1.5)
    factors = torch.stack([torch.stack(args[:4]) for _, args, _ in spy.calls])
    assert factors[:, 0].min() >= 0 and factors[:, 0].max() <= 2
    assert factors[:, 0].max() > 1.9
    assert factors[:, 1].max() > 2.0 and factors[:, 2].max() > 2.0
    assert factors[:, 3].min() >= -0.5 and factors[:, 3].max() <= 0.5
    with pytest.raises(ValueError, match='strength'):
        color_jitter(images, -0.1)


def test_hsv_round_trip_against_colorsys():
    image = _pixels(*RGB_PIXELS, [0.2, 0.1, 0.15], [0.0, 0.0, 0.0])
    hsv = rgb_to_hsv(image)
    for (h, s, v), rgb in zip(_as_list(hsv), RGB_PIXELS):
        want = colorsys.rgb_to_hsv(*rgb)
        assert h == pytest.approx(2 * math.pi * want[0], abs=1e-5)
        assert s == pytest.approx(want[1], abs=1e-5)  # eps 1e-6 in S
        assert v == pytest.approx(want[2], abs=1e-7)
        assert 0 <= h < 2 * math.pi
    np.testing.assert_allclose(hsv_to_rgb(hsv), image, atol=5e-6)
    # hue outside [0, 2 pi) wraps
    shifted = hsv.clone()
    shifted[:, 0] -= 2 * math.pi
    np.testing.assert_allclose(hsv_to_rgb(shifted), image, atol=1e-5)


def _numpy_blur(image, sigma):
    """Reflect-padded 2D correlation with outer(g_y, g_x), g = normalised
    exp(-x^2 / (2 sigma^2)) of size 'largest odd <= ceil(size / 10)'."""
    channels, height, width = image.shape
    kernels = []
    for size in (height, width):
        ceiled = -(-size // 10)
        k = ceiled if ceiled % 2 else ceiled - 1
        x = np.arange(k) - k // 2
        g = np.exp(-x**2 / (2 * sigma**2))
        kernels.append(g / g.sum())
    ky, kx = kernels
    py, px = len(ky) // 2, len(kx) // 2
    padded = np.pad(image, ((0, 0), (py, py), (px, px)), mode='reflect')
    kernel = np.outer(ky, kx)
    out = np.zeros_like(image)
    for y in range(height):
        for x in range(width):
            window = padded[:, y:y + len(ky), x:x + len(kx)]
            out[:, y, x] = (window * kernel).sum((1, 2))
    return out


def test_blur_kernel_size_rule():
    assert blur_kernel_size(512) == 51 and blur_kernel_size(1024) == 103
    for size in range(1, 5000):
        ceiled = -(-size // 10)
        assert blur_kernel_size(size) == max(
            k for k in range(1, ceiled + 1, 2)), size
    with pytest.raises(ValueError):
        blur_kernel_size(0)


def test_gaussian_blur_against_numpy():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 41, 62)  # kernels 5 x 7
    sigma = torch.tensor([0.3, 1.1])
    out = gaussian_blur(images, sigma)
    for i in range(2):
        np.testing.assert_allclose(
            out[i], _numpy_blur(images[i].double().numpy(), sigma[i].item()),
            atol=1e-5)
    # one sigma for the batch (float or 0-dim tensor)
    for batch_sigma in (0.8, torch.tensor(0.8)):
        out = gaussian_blur(images, batch_sigma)
        for i in range(2):
            np.testing.assert_allclose(
                out[i], _numpy_blur(images[i].double().numpy(), 0.8),
                atol=1e-5)
    # images of at most 10 px have a 1-px kernel: unchanged
    small = torch.rand(1, 3, 10, 10)
    np.testing.assert_allclose(gaussian_blur(small, 1.0), small, atol=1e-7)
    with pytest.raises(ValueError, match='sigma'):
        gaussian_blur(images, torch.ones(3))


def test_denormalization_divides_by_255_and_round_trips():
    pixels = torch.tensor([0., 64., 128., 255.])
    images = ((pixels.view(1, 1, 1, 4) - MEAN.view(1, 3, 1, 1)) /
              STD.view(1, 3, 1, 1))
    rgb = denormalize(images, MEAN, STD)
    np.testing.assert_allclose(rgb, (pixels / 255).expand(1, 3, 1, 4),
                               atol=1e-5)
    np.testing.assert_allclose(renormalize(rgb, MEAN, STD), images,
                               atol=1e-5)
    np.testing.assert_allclose(
        denormalize(images, MEAN.view(1, 3, 1, 1), STD.view(1, 3, 1, 1)),
        rgb)
    with pytest.raises(ValueError, match='mean'):
        denormalize(images, MEAN[:2], STD)


def test_strong_transform_jitters_in_0_1_and_renormalises(monkeypatch):
    spy = _Spy(result=lambda images: torch.full_like(images, 0.5))
    monkeypatch.setattr(sa, 'color_jitter', spy)
    pixels = torch.tensor([[10., 200.], [30., 90.]])
    images = ((pixels.expand(2, 3, 2, 2) - MEAN.view(1, 3, 1, 1)) /
              STD.view(1, 3, 1, 1))
    out = strong_transform(images, MEAN, STD, jitter=True, blur=False)
    # DACS mix path: one call (one order) per image, on (x*std+mean)/255
    assert len(spy.calls) == 2
    for i, (rgb, args, _) in enumerate(spy.calls):
        assert rgb.shape == (1, 3, 2, 2) and args == (0.2, )
        np.testing.assert_allclose(rgb[0], (pixels / 255).expand(3, 2, 2),
                                   atol=1e-5)
    np.testing.assert_allclose(
        out, ((127.5 - MEAN) / STD).view(1, 3, 1, 1).expand(2, 3, 2, 2),
        atol=1e-5)
    spy.calls.clear()
    strong_transform(images, MEAN, STD, True, False, strength=0.25,
                     per_image_sigma=False)
    assert len(spy.calls) == 1 and spy.calls[0][1] == (0.25, )
    assert spy.calls[0][0].shape == (2, 3, 2, 2)
    spy.calls.clear()
    assert torch.equal(strong_transform(images, MEAN, STD, False, False),
                       images)
    assert not spy.calls


def test_strong_transform_blur_sigma_per_image_or_per_batch(monkeypatch):
    spy = _Spy()
    monkeypatch.setattr(sa, 'gaussian_blur', spy)
    images = torch.zeros(2, 3, 4, 4)
    torch.manual_seed(0)
    for _ in range(300):
        strong_transform(images, MEAN, STD, jitter=False, blur=True)
    sigmas = torch.stack([args[0] for _, args, _ in spy.calls])
    assert sigmas.shape == (300, 2)
    assert sigmas.min() >= 0.15 and sigmas.max() <= 1.15
    assert abs(sigmas.mean() - 0.65) < 0.04
    assert (sigmas[:, 0] != sigmas[:, 1]).all()
    spy.calls.clear()
    strong_transform(images, MEAN, STD, False, True, per_image_sigma=False,
                     sigma_range=(2.0, 3.0))
    (sigma, ), = [args for _, args, _ in spy.calls]
    assert sigma.shape == () and 2.0 <= sigma <= 3.0


def test_gates_use_torchs_cpu_generator_with_release_thresholds():
    for seed in range(100):
        torch.manual_seed(seed)
        gates = draw_strong_gates()
        torch.manual_seed(seed)
        u_cj, u_bl = torch.rand(()), torch.rand(())
        assert gates == (bool(u_cj > 0.2), bool(u_bl > 0.5))
    torch.manual_seed(0)
    jitter, blur = zip(*[draw_strong_gates() for _ in range(3000)])
    assert abs(np.mean(jitter) - 0.8) < 0.03
    assert abs(np.mean(blur) - 0.5) < 0.03
    torch.manual_seed(0)
    assert not any(draw_strong_gates(0.2, blur=False)[1] for _ in range(50))
    torch.manual_seed(0)
    assert not any(draw_strong_gates(1.0)[0] for _ in range(50))


def test_same_seed_same_augmentation():
    images = torch.randn(2, 3, 12, 12)
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        masks = class_mix_masks(_labels())
        outs.append((masks,
                     strong_transform(images, MEAN, STD, True, True)))
    assert torch.equal(outs[0][0], outs[1][0])
    assert torch.equal(outs[0][1], outs[1][1])


class _HostToDevice(TorchDispatchMode):
    """Records ops that take a host tensor (other than a 0-dim scalar,
    which a device kernel receives by value) into a meta result: the
    device copies that a CUDA run would wait for."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = [
            t for t in tree_leaves((args, kwargs))
            if isinstance(t, torch.Tensor) and t.device.type == 'cpu'
            and t.dim() > 0
        ]
        outputs = [
            t for t in tree_leaves(out)
            if isinstance(t, torch.Tensor) and t.device.type == 'meta'
        ]
        if inputs and outputs:
            self.ops.append(str(func))
        return out


def _inputs(device):
    labels = torch.zeros(2, 1, 16, 16, dtype=torch.long, device=device)
    images = torch.zeros(2, 3, 16, 16, device=device)
    return (labels, images, MEAN.to(device), STD.to(device),
            torch.ones(2, device=device))


def _run_everything(labels, images, mean, std, sigma):
    outs = [class_mix_masks(labels, scope) for scope in sa.CLASS_MIX_SCOPES]
    masks = outs[0]
    outs += [
        mix(masks, images, images),
        mix(masks, labels, labels),
        mix(masks, labels[:, 0].float(), labels[:, 0].float()),
        color_jitter(images),
        gaussian_blur(images, sigma),
        gaussian_blur(images, 0.5),
        strong_transform(images, mean, std, True, True),
        strong_transform(images, mean, std, True, True,
                         per_image_sigma=False),
    ]
    return outs


def test_no_host_sync_on_the_meta_device():
    # a meta tensor has no data: .item(), unique, nonzero, boolean-mask
    # indexing and bool() of a tensor all raise on it
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch.zeros(3, device='meta').nonzero()
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch.zeros(3, device='meta').sum().item()
    inputs = _inputs('meta')
    with _HostToDevice() as copies:
        outs = _run_everything(*inputs)
    assert all(out.device.type == 'meta' for out in outs)
    assert copies.ops == []
    # the recorder does see a host tensor sent to the device
    with _HostToDevice() as copies:
        torch.ones(2).to('meta')
    assert copies.ops


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_no_host_sync_on_cuda():
    inputs = _inputs('cuda')
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        _run_everything(*inputs)
    finally:
        torch.cuda.set_sync_debug_mode('default')
