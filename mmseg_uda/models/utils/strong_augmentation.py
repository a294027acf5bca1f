"""DACS's strong augmentation: ClassMix masks, mixing, colour jitter and
Gaussian blur (METHODS.md sec. 7.1 steps 2, 7, 8; 7.9 #1; 7.10).

Everything runs batched on the tensors' device without a host
synchronisation (no ``.item()``, ``unique``, ``nonzero`` or boolean-mask
indexing on device data), and every random number comes from torch's
default generators, which the project seeds per iteration
(``IterationSeedHook``): device draws (ClassMix scores, jitter factors,
blur sigmas) from the device's generator, host-side decisions (the two
gates, the jitter order) from the CPU generator. The release draws the
gates with Python ``random`` and the ClassMix choice and sigma with numpy;
the distributions are the same, the streams are not (sec. 7.9: an RNG-exact
replay is not a goal).

Release semantics reproduced here (DAFormer's
``mmseg/models/utils/dacs_transforms.py``, kornia 0.5.8):

* ClassMix (``get_class_masks``): candidates = ``torch.unique`` of the whole
  batch's labels, the ignore value included; per image ``ceil(n / 2)`` of
  them uniformly without replacement; mask = image's label is one of them.
* Colour jitter (``kornia.augmentation.ColorJitter(s, s, s, s)``, p = 1) on
  ``(x * std + mean) / 255``, re-normalised with ``(x * 255 - mean) / std``.
  Checked against kornia 0.5.8 itself (its wheel run once beside this code
  on CPU, not a dependency): identical HSV conversions, identical jitter
  for all 24 orders, and with the same torch seed the same factors and
  order as kornia's own sampler (which draws on the CPU).
* Blur (``kornia.filters.GaussianBlur2d``): kernel size per axis = largest
  odd integer <= ``ceil(0.1 * size)``, sigma ~ U(0.15, 1.15), reflect
  padding, applied to the normalised image (separable here; within 1e-6 of
  kornia's 2D kernel on unit-variance input, 512 x 512 included).
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

CLASS_MIX_SCOPES = ('batch', 'image', 'image_with_ignore')
# Label values 0..255 have one slot each and the ignore value one more, so
# the presence table has a fixed size (no host read of ``labels.max()``).
_NUM_VALUE_SLOTS = 256
_IGNORE_SLOT = _NUM_VALUE_SLOTS
# Indices of the four operations in a jitter order (kornia 0.5.8's).
BRIGHTNESS, CONTRAST, SATURATION, HUE = 0, 1, 2, 3
_HSV_EPS = 1e-6  # kornia 0.5.8 rgb_to_hsv's default


def class_mix_masks(labels: Tensor,
                    scope: str = 'batch',
                    ignore_index: int = 255) -> Tensor:
    """ClassMix masks, one per image (METHODS.md sec. 7.1 step 7, 7.9 #1).

    For image ``i`` a candidate set ``K_i`` of label values is formed,
    ``ceil(|K_i| / 2)`` of them are chosen uniformly without replacement and
    ``M_i = 1`` where the label of image ``i`` is one of them:

    * ``'batch'`` (DAFormer/MIC release, default): ``K_i`` = the distinct
      values of the whole batch's labels, ``ignore_index`` included when
      present (so fewer than half of image i's classes may be pasted, and
      its ignore regions may be).
    * ``'image'`` (original DACS as METHODS.md sec. 7.10 states it):
      ``K_i`` = image i's own values, ``ignore_index`` removed.
    * ``'image_with_ignore'`` (original DACS as its released
      ``trainUDA.py`` runs: ``torch.unique(labels[i])`` with the line that
      removes the ignore label commented out): image i's own values,
      ``ignore_index`` kept.

    The count is ``int((n + n % 2) / 2) = ceil(n / 2)`` in both releases.
    The choice is made without a host sync: presence of every value via a
    scatter into a fixed table of 256 values + the ignore slot, i.i.d.
    uniform scores, and the rank of each present value's score among the
    present ones (the ``k`` lowest ranks form a uniform ``k``-subset).

    Args:
        labels (Tensor): Integer labels, shape (B, H, W) or (B, 1, H, W),
            values in [0, 256) or ``ignore_index`` (checked with a clear
            error on CPU; on a GPU, where the check would cost a sync, a
            value > 256 trips the scatter's device assert and 256 counts
            as the ignore value).
        scope (str): ``'batch'``, ``'image'`` or ``'image_with_ignore'``.
        ignore_index (int): The ignore value.

    Returns:
        Tensor: Masks of 0.0/1.0, shape (B, 1, H, W), float32, on the
        labels' device.
    """
    if scope not in CLASS_MIX_SCOPES:
        raise ValueError(f'class_mix_masks: scope={scope!r} is not one of '
                         f'{CLASS_MIX_SCOPES}')
    if labels.dim() == 4 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.dim() != 3:
        raise ValueError('class_mix_masks: labels must have shape (B, H, W) '
                         f'or (B, 1, H, W), got {tuple(labels.shape)}')
    if labels.is_floating_point() or labels.is_complex() or \
            labels.dtype == torch.bool:
        raise TypeError('class_mix_masks: labels must be an integer tensor, '
                        f'got {labels.dtype}')
    batch, height, width = labels.shape
    slots = torch.where(labels == ignore_index,
                        torch.full_like(labels, _IGNORE_SLOT),
                        labels).reshape(batch, -1).long()
    if labels.device.type == 'cpu':  # a check on host data costs no sync
        bad = (labels != ignore_index) & ((labels < 0) |
                                          (labels >= _NUM_VALUE_SLOTS))
        if bool(bad.any()):
            raise ValueError(
                'class_mix_masks: label values must lie in [0, 256) or equal '
                f'ignore_index={ignore_index}; got {int(labels.min())}..'
                f'{int(labels.max())}')
    num_slots = _NUM_VALUE_SLOTS + 1
    present = torch.zeros(
        batch, num_slots, dtype=torch.bool, device=labels.device)
    present.scatter_(1, slots, True)
    if scope == 'batch':
        present = present.any(0, keepdim=True).expand(batch, num_slots)
    elif scope == 'image':
        present[:, _IGNORE_SLOT] = False
    num_chosen = (present.sum(1) + 1) // 2  # ceil(n / 2), (B,)
    # float64 scores: ties (which would bias the choice towards lower
    # values) have probability ~ n^2 / 2^54; absent values rank last
    scores = torch.rand(
        batch, num_slots, dtype=torch.float64, device=labels.device)
    scores = scores.masked_fill(~present, 2.0)
    order = scores.argsort(dim=1)
    ranks = torch.empty_like(order).scatter_(
        1, order,
        torch.arange(num_slots, device=labels.device).expand(batch, -1))
    chosen = present & (ranks < num_chosen[:, None])
    masks = chosen.gather(1, slots)
    return masks.view(batch, 1, height, width).float()


def mix(masks: Tensor, source: Tensor, target: Tensor) -> Tensor:
    """``M * source + (1 - M) * target`` per image (sec. 7.1 step 8).

    The same masks mix images, labels and pixel weights.

    Args:
        masks (Tensor): Binary masks, shape (B, 1, H, W) or (B, H, W).
        source (Tensor): Shape (B, C, H, W) (images, or labels/weights with
            C = 1) or (B, H, W) (labels, weights).
        target (Tensor): Same shape as ``source``.

    Returns:
        Tensor: The mix, shape and dtype of ``source``. Integer tensors
        (labels) are selected with ``torch.where`` (identical for binary
        masks) so they stay integer.
    """
    if source.shape != target.shape:
        raise ValueError(f'mix: source shape {tuple(source.shape)} differs '
                         f'from target shape {tuple(target.shape)}')
    if masks.dim() == 3:
        masks = masks[:, None]
    if masks.dim() != 4 or masks.shape[1] != 1:
        raise ValueError('mix: masks must have shape (B, 1, H, W) or '
                         f'(B, H, W), got {tuple(masks.shape)}')
    if source.dim() == 3:
        masks = masks[:, 0]
    elif source.dim() != 4:
        raise ValueError('mix: source must have shape (B, C, H, W) or '
                         f'(B, H, W), got {tuple(source.shape)}')
    if masks.shape[0] != source.shape[0] or \
            masks.shape[-2:] != source.shape[-2:]:
        raise ValueError(f'mix: masks {tuple(masks.shape)} do not match '
                         f'source {tuple(source.shape)} in batch or size')
    if source.is_floating_point():
        masks = masks.to(source.dtype)
        return masks * source + (1 - masks) * target
    return torch.where(masks.bool(), source, target)


def rgb_to_hsv(images: Tensor, eps: float = _HSV_EPS) -> Tensor:
    """RGB in [0, 1] to HSV with kornia 0.5.8's formulas.

    H in radians [0, 2*pi), ``S = (max - min) / (max + eps)``, ``V = max``;
    the hue sector is that of the first channel holding the maximum; grey
    pixels (max = min) get H = 0.

    Args:
        images (Tensor): Shape (B, 3, H, W).
        eps (float): Added to V in the saturation's denominator.

    Returns:
        Tensor: HSV, shape (B, 3, H, W).
    """
    red, green, blue = images.unbind(-3)
    max_c = images.max(-3).values
    min_c = images.min(-3).values
    delta = max_c - min_c
    saturation = delta / (max_c + eps)
    delta = torch.where(delta == 0, torch.ones_like(delta), delta)
    red_c, green_c, blue_c = max_c - red, max_c - green, max_c - blue
    hue = torch.where(
        red == max_c, blue_c - green_c,
        torch.where(green == max_c, 2.0 * delta + red_c - blue_c,
                    4.0 * delta + green_c - red_c))
    hue = (hue / delta / 6.0) % 1.0
    hue = 2 * math.pi * hue
    return torch.stack([hue, saturation, max_c], dim=-3)


def hsv_to_rgb(images: Tensor) -> Tensor:
    """HSV (H in radians, any real value; S, V in [0, 1]) to RGB, kornia
    0.5.8's formulas (H is taken modulo 2*pi through the sector index).

    Args:
        images (Tensor): Shape (B, 3, H, W).

    Returns:
        Tensor: RGB, shape (B, 3, H, W).
    """
    hue, saturation, value = images.unbind(-3)
    hue = hue / (2 * math.pi)
    sector = torch.floor(hue * 6) % 6
    frac = ((hue * 6) % 6) - sector
    p = value * (1 - saturation)
    q = value * (1 - frac * saturation)
    t = value * (1 - (1 - frac) * saturation)
    sector = sector.long().unsqueeze(-3)
    # channel values in sectors 0..5 (R, G, B rows)
    rows = ((value, q, p, p, t, value), (t, value, value, q, p, p),
            (p, p, t, value, value, q))
    return torch.cat(
        [torch.stack(row, dim=-3).gather(-3, sector) for row in rows],
        dim=-3)


def _per_image(factor: Union[float, Tensor], images: Tensor,
               dims: int) -> Union[float, Tensor]:
    """A scalar or (B,) factor shaped to broadcast over ``dims`` trailing
    dimensions of a (B, ...) tensor (floats and 0-dim tensors as they are:
    both broadcast without a copy to the device)."""
    if not isinstance(factor, Tensor):
        return float(factor)
    if factor.dim() == 0:
        return factor
    factor = factor.to(device=images.device, dtype=images.dtype)
    return factor.reshape(-1, *([1] * dims))


def apply_color_jitter(images: Tensor, brightness: Union[float, Tensor],
                       contrast: Union[float, Tensor],
                       saturation: Union[float, Tensor],
                       hue: Union[float, Tensor],
                       order: Sequence[int]) -> Tensor:
    """Kornia 0.5.8 ``ColorJitter.apply_transform`` with given factors.

    The deterministic part of :func:`color_jitter` (its test seam).
    Operations, applied in ``order``:

    * ``BRIGHTNESS`` (0): ``clamp(x + (b - 1), 0, 1)`` (additive);
    * ``CONTRAST`` (1): ``clamp(x * c, 0, 1)`` (no mean subtraction);
    * ``SATURATION`` (2): HSV-S ``clamp(S * s, 0, 1)``;
    * ``HUE`` (3): HSV-H ``fmod(H + h * 2 * pi, 2 * pi)`` (H in radians;
      a negative result is wrapped by :func:`hsv_to_rgb`).

    Args:
        images (Tensor): RGB in [0, 1], shape (B, 3, H, W).
        brightness, contrast, saturation (float | Tensor): Factors centred
            at 1, scalars or shape (B,).
        hue (float | Tensor): Hue shift in turns, scalar or shape (B,).
        order (Sequence[int]): A permutation of (0, 1, 2, 3).

    Returns:
        Tensor: Jittered RGB, shape (B, 3, H, W).
    """
    _check_rgb(images, 'apply_color_jitter')
    order = [int(index) for index in order]
    if sorted(order) != [0, 1, 2, 3]:
        raise ValueError('apply_color_jitter: order must be a permutation '
                         f'of (0, 1, 2, 3), got {order}')
    factors = {
        BRIGHTNESS: _per_image(brightness, images, 3),
        CONTRAST: _per_image(contrast, images, 3),
        SATURATION: _per_image(saturation, images, 2),
        HUE: _per_image(hue, images, 2) * 2 * math.pi,
    }
    out = images
    for index in order:
        factor = factors[index]
        if index == BRIGHTNESS:
            out = (out + (factor - 1)).clamp(0.0, 1.0)
        elif index == CONTRAST:
            out = (out * factor).clamp(0.0, 1.0)
        else:
            h, s, v = rgb_to_hsv(out).unbind(-3)
            if index == SATURATION:
                s = (s * factor).clamp(0.0, 1.0)
            else:
                h = torch.fmod(h + factor, 2 * math.pi)
            out = hsv_to_rgb(torch.stack([h, s, v], dim=-3))
    return out


def _uniform(batch: int, low: float, high: float, images: Tensor) -> Tensor:
    """(B,) draws from U(low, high) on the images' device generator, with
    ``torch.distributions.Uniform``'s arithmetic in the images' dtype (as
    kornia's sampler: ``low + u * (high - low)``)."""
    low_t = torch.tensor(low, dtype=images.dtype)  # 0-dim host scalars
    high_t = torch.tensor(high, dtype=images.dtype)
    draws = torch.rand(batch, dtype=images.dtype, device=images.device)
    return low_t + draws * (high_t - low_t)


def color_jitter(images: Tensor, strength: float = 0.2) -> Tensor:
    """Kornia 0.5.8 ``ColorJitter(b=c=s=h=strength, p=1)``
    (METHODS.md sec. 7.1 step 8).

    Per image: ``b ~ U(max(0, 1 - s), min(2, 1 + s))``, ``c, sat ~
    U(max(0, 1 - s), 1 + s)``, ``h ~ U(max(-0.5, -s), min(0.5, s))``
    (kornia's ranges for a scalar strength ``s``), drawn on the images'
    device; one random order of the four operations per call, shared by
    the batch (``torch.randperm(4)`` on the CPU generator: a host-side
    decision, no sync). See :func:`apply_color_jitter` for the operations.

    Args:
        images (Tensor): RGB in [0, 1], shape (B, 3, H, W).
        strength (float): ``s`` above; >= 0.

    Returns:
        Tensor: Jittered RGB, shape (B, 3, H, W).
    """
    _check_rgb(images, 'color_jitter')
    if not strength >= 0:
        raise ValueError(
            f'color_jitter: strength must be >= 0, got {strength}')
    batch = images.shape[0]
    # kornia draws brightness, contrast, hue, saturation, then the order
    brightness = _uniform(batch, max(0.0, 1 - strength),
                          min(2.0, 1 + strength), images)
    contrast = _uniform(batch, max(0.0, 1 - strength), 1 + strength, images)
    hue = _uniform(batch, max(-0.5, -strength), min(0.5, strength), images)
    saturation = _uniform(batch, max(0.0, 1 - strength), 1 + strength,
                          images)
    order = torch.randperm(4, device='cpu').tolist()
    return apply_color_jitter(images, brightness, contrast, saturation, hue,
                              order)


def blur_kernel_size(size: int) -> int:
    """Kernel size of the release's blur along an axis of ``size`` pixels:
    the largest odd integer <= ``ceil(0.1 * size)`` (51 for 512, 103 for
    1024).

    The release computes ``np.floor(np.ceil(0.1 * s) - 0.5 +
    np.ceil(0.1 * s) % 2)``: ``c`` if ``c = ceil(0.1 * s)`` is odd, else
    ``c - 1``. The float64 product ``0.1 * size`` is the same here; its
    ceiling equals the exact ``ceil(size / 10)`` for integer sizes.

    Args:
        size (int): Height or width, >= 1.

    Returns:
        int: An odd kernel size >= 1.
    """
    if size < 1:
        raise ValueError(f'blur_kernel_size: size must be >= 1, got {size}')
    ceiled = math.ceil(0.1 * size)
    return ceiled if ceiled % 2 == 1 else ceiled - 1


def gaussian_kernel1d(kernel_size: int, sigma: Tensor) -> Tensor:
    """Normalised 1D Gaussians, kornia 0.5.8's ``get_gaussian_kernel1d``:
    ``exp(-x^2 / (2 sigma^2)) / sum`` at ``x = -(k // 2) .. k // 2``.

    Args:
        kernel_size (int): Odd, >= 1.
        sigma (Tensor): Shape (B,).

    Returns:
        Tensor: Shape (B, kernel_size), each row summing to 1.
    """
    x = torch.arange(kernel_size, dtype=sigma.dtype, device=sigma.device)
    x = x - kernel_size // 2
    gauss = torch.exp(-x.pow(2.0) / (2 * sigma[:, None]**2))
    return gauss / gauss.sum(-1, keepdim=True)


def gaussian_blur(images: Tensor, sigma: Union[float, Tensor]) -> Tensor:
    """Separable Gaussian blur with the release's kernel sizes and reflect
    padding (kornia 0.5.8 ``GaussianBlur2d``; its 2D kernel is the outer
    product of the two 1D kernels, so this equals it up to rounding).

    Args:
        images (Tensor): Shape (B, C, H, W).
        sigma (float | Tensor): One sigma per image, shape (B,), or one
            for the batch (a float or a 0-dim tensor), on the images'
            device.

    Returns:
        Tensor: Blurred images, shape (B, C, H, W).
    """
    if images.dim() != 4:
        raise ValueError('gaussian_blur: images must have shape '
                         f'(B, C, H, W), got {tuple(images.shape)}')
    batch, channels, height, width = images.shape
    if not isinstance(sigma, Tensor):
        sigma = torch.full((batch, ), float(sigma), device=images.device)
    elif sigma.dim() == 0:
        sigma = sigma.expand(batch)
    if sigma.shape != (batch, ):
        raise ValueError(f'gaussian_blur: sigma must be a scalar or have '
                         f'shape ({batch},), got {tuple(sigma.shape)}')
    sigma = sigma.to(device=images.device, dtype=images.dtype)
    size_y, size_x = blur_kernel_size(height), blur_kernel_size(width)
    pad_y, pad_x = size_y // 2, size_x // 2
    kernel_y = gaussian_kernel1d(size_y, sigma).repeat_interleave(channels, 0)
    kernel_x = gaussian_kernel1d(size_x, sigma).repeat_interleave(channels, 0)
    out = F.pad(images, (pad_x, pad_x, pad_y, pad_y), mode='reflect')
    # one group per (image, channel): every image has its own sigma
    out = out.reshape(1, batch * channels, *out.shape[-2:])
    out = F.conv2d(out, kernel_y.view(-1, 1, size_y, 1), groups=out.shape[1])
    out = F.conv2d(out, kernel_x.view(-1, 1, 1, size_x), groups=out.shape[1])
    return out.view(batch, channels, height, width)


def denormalize(images: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Normalised images to [0, 1] as the release does before kornia:
    ``(x * std + mean) / 255`` (mean, std in 0..255 pixel units).

    Args:
        images (Tensor): Shape (B, 3, H, W).
        mean, std (Tensor): Shape (3,), (1, 3, 1, 1) or (B, 3, 1, 1).

    Returns:
        Tensor: Shape (B, 3, H, W).
    """
    mean, std = _stats(mean, std, images)
    return (images * std + mean) / 255.0


def renormalize(images: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Inverse of :func:`denormalize`: ``(x * 255 - mean) / std``.

    Args:
        images (Tensor): Images in [0, 1], shape (B, 3, H, W).
        mean, std (Tensor): Shape (3,), (1, 3, 1, 1) or (B, 3, 1, 1).

    Returns:
        Tensor: Shape (B, 3, H, W).
    """
    mean, std = _stats(mean, std, images)
    return (images * 255.0 - mean) / std


def strong_transform(images: Tensor,
                     mean: Tensor,
                     std: Tensor,
                     jitter: bool,
                     blur: bool,
                     strength: float = 0.2,
                     sigma_range: Tuple[float, float] = (0.15, 1.15),
                     per_image_sigma: bool = True,
                     per_image_jitter: Optional[bool] = None) -> Tensor:
    """The release's ``strong_transform`` after the mix: colour jitter,
    then blur (METHODS.md sec. 7.1 step 8).

    If ``jitter``: de-normalise to [0, 1] (:func:`denormalize`), apply
    :func:`color_jitter`, re-normalise. Then if ``blur``: ``sigma ~
    U(sigma_range)`` and :func:`gaussian_blur` on the normalised images.
    The DACS mix path of the release calls its transform once per mixed
    image, so each image gets its own sigma and its own jitter order
    (``per_image_sigma=True``, default); MIC's masked images go through
    one call for the batch: one sigma, one order (``per_image_sigma=False``).
    The channels are jittered in the order the images carry them (the
    original DACS jitters its BGR tensors; hue is then mirrored, its
    symmetric distribution is not changed).

    Args:
        images (Tensor): Normalised images, shape (B, 3, H, W).
        mean, std (Tensor): Normalisation in 0..255 pixel units (e.g.
            123.675.. / 58.395..), shape (3,), (1, 3, 1, 1) or
            (B, 3, 1, 1), on the images' device.
        jitter (bool): The colour-jitter gate (:func:`draw_strong_gates`).
        blur (bool): The blur gate.
        strength (float): Jitter strength (0.2 in DAFormer/MIC).
        sigma_range (tuple[float, float]): Range of the blur sigma.
        per_image_sigma (bool): One sigma per image (DACS mix path) or one
            for the batch (MIC).
        per_image_jitter (bool, optional): One jitter order per image (the
            factors are per image either way); defaults to
            ``per_image_sigma``.

    Returns:
        Tensor: Normalised images, shape (B, 3, H, W).
    """
    _check_rgb(images, 'strong_transform')
    if per_image_jitter is None:
        per_image_jitter = per_image_sigma
    out = images
    if jitter:
        rgb = denormalize(out, mean, std)
        if per_image_jitter:
            rgb = torch.cat([
                color_jitter(rgb[i:i + 1], strength)
                for i in range(rgb.shape[0])
            ])
        else:
            rgb = color_jitter(rgb, strength)
        out = renormalize(rgb, mean, std)
    if blur:
        low, high = sigma_range
        shape = (out.shape[0], ) if per_image_sigma else ()
        draws = torch.rand(shape, dtype=out.dtype, device=out.device)
        out = gaussian_blur(out, low + (high - low) * draws)
    return out


def draw_strong_gates(jitter_p: float = 0.2,
                      blur: bool = True) -> Tuple[bool, bool]:
    """The two per-iteration gates of the strong augmentation (sec. 7.1
    step 2), drawn on torch's CPU generator.

    ``u_cj ~ U(0, 1)``: jitter iff ``u_cj > jitter_p`` (the release's
    ``color_jitter_p`` is this threshold: p = 0.2 means jitter with
    probability 0.8). If ``blur``: ``u_bl ~ U(0, 1)``, blur iff
    ``u_bl > 0.5``; otherwise nothing is drawn and there is no blur.

    Args:
        jitter_p (float): The jitter threshold.
        blur (bool): Whether blur is enabled at all.

    Returns:
        tuple[bool, bool]: (jitter, blur).
    """
    jitter_gate = bool(torch.rand((), device='cpu') > jitter_p)
    blur_gate = bool(torch.rand((), device='cpu') > 0.5) if blur else False
    return jitter_gate, blur_gate


def _stats(mean: Tensor, std: Tensor,
           images: Tensor) -> Tuple[Tensor, Tensor]:
    """mean/std as (1 or B, 3, 1, 1) in the images' dtype."""
    stats: List[Tensor] = []
    for name, stat in (('mean', mean), ('std', std)):
        stat = torch.as_tensor(stat)
        if stat.numel() != 3 and stat.numel() != 3 * images.shape[0]:
            raise ValueError(f'{name} must have 3 values (or 3 per image), '
                             f'got shape {tuple(stat.shape)}')
        # a no-op when the caller keeps mean/std on the images' device
        stat = stat.to(device=images.device, dtype=images.dtype)
        stats.append(stat.reshape(-1, 3, 1, 1))
    return stats[0], stats[1]


def _check_rgb(images: Tensor, where: str) -> None:
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f'{where}: images must have shape (B, 3, H, W), '
                         f'got {tuple(images.shape)}')
