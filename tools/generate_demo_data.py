"""Generate a small synthetic GTA5 -> Cityscapes dataset for demos and tests.

Usage::

    python tools/generate_demo_data.py OUT_ROOT [--seed S] [--num-source N]
        [--num-target N] [--num-val N]

Writes the publishers' raw on-disk formats, so the converters and datasets
run on it unchanged::

    OUT_ROOT/gta5/images/00001.png                  RGB
    OUT_ROOT/gta5/labels/00001.png                  paletted, Cityscapes ids
    OUT_ROOT/cityscapes/leftImg8bit/{train,val}/<city>/
        <city>_000000_0000NN_leftImg8bit.png        RGB
    OUT_ROOT/cityscapes/gtFine/{train,val}/<city>/
        <city>_000000_0000NN_gtFine_labelIds.png    grayscale Cityscapes ids

With ``--num-synthia N`` (the depth method's demo) also a SYNTHIA-like
source in the RAND-CITYSCAPES layout, with depth maps::

    OUT_ROOT/synthia/RGB/00000NN.png                RGB
    OUT_ROOT/synthia/GT/LABELS/00000NN.png          16-bit BGR, class in red
    OUT_ROOT/synthia/Depth/Depth/00000NN.png        16-bit depth (cm; sky
                                                    65535), growing towards
                                                    the horizon

Both domains draw the same kind of random street scene (sky, buildings, trees,
terrain, fences, road with lane marks, sidewalks, poles with signs and
lights, cars, persons; 12 of the 19 classes, plus an unlabeled border and, in
the target, an ego-vehicle strip). They differ in appearance: the source has
saturated flat colours and little noise; the target has a different colour
mix, lower contrast, uneven illumination, texture noise and blur. The output
is a pure function of the seed and the counts.
"""
import argparse
import os
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar
from PIL import Image

from mmseg_uda.datasets.class_tables import label_id_palette

# Cityscapes label ids drawn by the generator.
UNLABELED, EGO_VEHICLE = 0, 1
ROAD, SIDEWALK, BUILDING, FENCE = 7, 8, 11, 13
POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY = 17, 19, 20, 21, 22, 23
PERSON, CAR = 24, 26

SOURCE_SIZE = (320, 176)  # (W, H)
SYNTHIA_SIZE = (320, 192)
# Cityscapes label id -> SYNTHIA raw class id (red channel) of the drawn
# classes; unlabeled -> SYNTHIA void 0.
CITYSCAPES_TO_SYNTHIA = {
    UNLABELED: 0, EGO_VEHICLE: 0, ROAD: 3, SIDEWALK: 4, BUILDING: 2,
    FENCE: 5, POLE: 7, LIGHT: 15, SIGN: 9, VEGETATION: 6, TERRAIN: 16,
    SKY: 1, PERSON: 10, CAR: 8
}
TARGET_SIZE = (256, 128)
TRAIN_CITIES = ('aachen', 'bremen', 'zurich')
VAL_CITIES = ('frankfurt', 'munster')

RGB = Tuple[float, float, float]

# Flat, saturated "rendered game" colours of the source domain.
# yapf: disable
SOURCE_COLORS: Dict[int, RGB] = {
    SKY: (90, 160, 250), BUILDING: (190, 120, 70), ROAD: (85, 80, 95),
    SIDEWALK: (215, 175, 200), VEGETATION: (40, 170, 40),
    TERRAIN: (170, 215, 90), FENCE: (175, 140, 95), POLE: (150, 150, 165),
    LIGHT: (250, 190, 30), SIGN: (250, 230, 0), PERSON: (220, 40, 60),
    CAR: (40, 60, 210), EGO_VEHICLE: (25, 25, 25)
}
CAR_COLORS: Tuple[RGB, ...] = ((40, 60, 210), (200, 35, 35), (235, 235, 235),
                               (35, 35, 35), (120, 120, 130))

# The target's colours are the source's pulled towards grey with a warm cast
# (rows: output R, G, B; columns: input R, G, B).
TARGET_COLOR_MIX = np.array([[0.80, 0.15, 0.05],
                             [0.10, 0.75, 0.10],
                             [0.05, 0.15, 0.65]])
# yapf: enable


@dataclass(frozen=True)
class DomainStyle:
    """Appearance of one domain.

    Args:
        color_mix (np.ndarray): 3x3 RGB matrix applied to the base colours.
        object_jitter (float): Std of the per-object colour factor.
        contrast (float): Scale of the deviations from the image mean.
        brightness (tuple[float, float]): Range of the per-image gain.
        illumination (float): Strength of a random linear light gradient.
        texture (float): Amplitude of low-frequency texture noise.
        noise (float): Std of per-pixel Gaussian noise.
        blur_sigma (float): Gaussian blur sigma in pixels (0: none).
        ego_rows (float): Share of rows labelled ego vehicle at the bottom.
    """
    color_mix: np.ndarray
    object_jitter: float
    contrast: float
    brightness: Tuple[float, float]
    illumination: float
    texture: float
    noise: float
    blur_sigma: float
    ego_rows: float


SOURCE_STYLE = DomainStyle(
    color_mix=np.eye(3),
    object_jitter=0.06,
    contrast=1.0,
    brightness=(0.95, 1.05),
    illumination=0.0,
    texture=0.0,
    noise=2.0,
    blur_sigma=0.0,
    ego_rows=0.0)
TARGET_STYLE = DomainStyle(
    color_mix=TARGET_COLOR_MIX,
    object_jitter=0.1,
    contrast=0.75,
    brightness=(0.75, 1.05),
    illumination=0.3,
    texture=8.0,
    noise=5.0,
    blur_sigma=0.7,
    ego_rows=0.06)


class Canvas:
    """A label map and an RGB image painted together, shape by shape.

    Args:
        width (int): Image width W.
        height (int): Image height H.
        rng (np.random.Generator): Source of per-object colour jitter.
        style (DomainStyle): Appearance of the domain.
    """

    def __init__(self, width: int, height: int, rng: np.random.Generator,
                 style: DomainStyle) -> None:
        self.w, self.h = width, height
        self.rng = rng
        self.style = style
        self.labels = np.full((height, width), SKY, dtype=np.uint8)
        self.image = np.zeros((height, width, 3), dtype=np.float32)

    def color(self, label: int, base: Optional[RGB] = None) -> RGB:
        """Domain colour of a new object of class ``label``, jittered."""
        rgb = np.asarray(base or SOURCE_COLORS[label], dtype=np.float32)
        rgb = self.style.color_mix @ rgb
        rgb *= 1 + self.rng.normal(0, self.style.object_jitter)
        return tuple(float(c) for c in rgb)

    def polygon(self,
                points: Sequence[Tuple[float, float]],
                label: int,
                color: Optional[RGB] = None) -> None:
        """Fill a polygon given as (x, y) points."""
        pts = np.round(np.asarray(points)).astype(np.int32)[None]
        cv2.fillPoly(self.labels, pts, int(label))
        cv2.fillPoly(self.image, pts, color or self.color(label))

    def rect(self,
             x0: float,
             y0: float,
             x1: float,
             y1: float,
             label: int,
             color: Optional[RGB] = None) -> None:
        """Fill the axis-aligned box with corners (x0, y0) and (x1, y1)."""
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], label, color)

    def ellipse(self,
                cx: float,
                cy: float,
                rx: float,
                ry: float,
                label: int,
                color: Optional[RGB] = None) -> None:
        """Fill an axis-aligned ellipse."""
        center = (int(round(cx)), int(round(cy)))
        axes = (max(int(round(rx)), 1), max(int(round(ry)), 1))
        cv2.ellipse(self.labels, center, axes, 0, 0, 360, int(label), -1)
        cv2.ellipse(self.image, center, axes, 0, 0, 360, color
                    or self.color(label), -1)

    def shade(self, x0: float, y0: float, x1: float, y1: float,
              factor: float) -> None:
        """Scale the colours of a box without changing its labels."""
        xs = slice(max(int(x0), 0), max(int(x1), 0))
        ys = slice(max(int(y0), 0), max(int(y1), 0))
        self.image[ys, xs] *= factor


def _perspective(canvas: Canvas, horizon: float, y: float) -> float:
    """Object scale at ground row ``y``: 0 at the horizon, 1 at the bottom."""
    return max(y - horizon, 1.0) / (canvas.h - horizon)


def draw_ground(canvas: Canvas, rng: np.random.Generator,
                horizon: float) -> Tuple[float, float, float]:
    """Sidewalk below the horizon, a road wedge, lane marks, terrain.

    Returns:
        tuple[float, float, float]: Vanishing point x and the road's x at
        the bottom-left and bottom-right.
    """
    w, h = canvas.w, canvas.h
    canvas.rect(0, horizon, w, h, SIDEWALK)
    vx = w * rng.uniform(0.4, 0.6)
    left, right = w * rng.uniform(-0.3, 0.15), w * rng.uniform(0.85, 1.3)
    canvas.polygon([(vx - 2, horizon), (vx + 2, horizon), (right, h),
                    (left, h)], ROAD)
    for t in np.linspace(0.15, 0.95, 5):
        # Dashes along the centre line, wider towards the camera.
        y0, y1 = horizon + (h - horizon) * t, horizon + (h - horizon) * (
            t + 0.08)
        x_mid = vx + ((left + right) / 2 - vx) * t
        half = 1 + 2 * t
        canvas.shade(x_mid - half, y0, x_mid + half, y1, 2.2)
    if rng.random() < 0.6:
        side = rng.choice([0, w])
        canvas.polygon([(side, horizon), (abs(side - w * 0.12), horizon),
                        (side, horizon + (h - horizon) * 0.5)], TERRAIN)
    return vx, left, right


def draw_buildings(canvas: Canvas, rng: np.random.Generator,
                   horizon: float) -> None:
    """A skyline of buildings with windows, gaps of sky and fences."""
    x = 0.0
    while x < canvas.w:
        width = canvas.w * rng.uniform(0.08, 0.25)
        if rng.random() < 0.8:
            top = canvas.h * rng.uniform(0.03, 0.3)
            canvas.rect(x, top, x + width, horizon + 1, BUILDING)
            _draw_windows(canvas, rng, x, top, width, horizon)
        x += width
    if rng.random() < 0.5:
        x0 = canvas.w * rng.uniform(0, 0.6)
        x1 = x0 + canvas.w * rng.uniform(0.15, 0.4)
        canvas.rect(x0, horizon - canvas.h * 0.06, x1, horizon + 1, FENCE)


def _draw_windows(canvas: Canvas, rng: np.random.Generator, x: float,
                  top: float, width: float, bottom: float) -> None:
    step = max(canvas.h * 0.05, 4)
    darkness = rng.uniform(0.5, 0.75)
    for wy in np.arange(top + step / 2, bottom - step, step):
        for wx in np.arange(x + step / 2, x + width - step / 2, step):
            canvas.shade(wx, wy, wx + step / 2, wy + step / 2, darkness)


def draw_trees(canvas: Canvas, rng: np.random.Generator,
               horizon: float) -> None:
    """Trees (trunk and crown are both vegetation) behind the sidewalk."""
    for _ in range(rng.integers(1, 4)):
        x = canvas.w * rng.uniform(0, 1)
        radius = canvas.h * rng.uniform(0.08, 0.18)
        canvas.rect(x - 1.5, horizon - radius, x + 1.5, horizon + 2,
                    VEGETATION)
        canvas.ellipse(x, horizon - 1.6 * radius, radius * 1.2, radius,
                       VEGETATION)


def draw_poles(canvas: Canvas, rng: np.random.Generator, horizon: float,
               road: Tuple[float, float, float]) -> None:
    """Poles on the sidewalks carrying a traffic sign or light."""
    vx, left, right = road
    for _ in range(rng.integers(1, 4)):
        y = horizon + (canvas.h - horizon) * rng.uniform(0.2, 0.8)
        s = _perspective(canvas, horizon, y)
        t = (y - horizon) / (canvas.h - horizon)
        on_left = rng.random() < 0.5
        edge = vx + ((left if on_left else right) - vx) * t
        x = edge - 6 * s - 2 if on_left else edge + 6 * s + 2
        height = canvas.h * 0.75 * s + 6
        half = max(1.0, 1.5 * s)
        canvas.rect(x - half, y - height, x + half, y, POLE)
        head = max(3.0, 10 * s)
        if rng.random() < 0.5:
            canvas.rect(x - head, y - height - head, x + head,
                        y - height + head * 0.6, SIGN)
        else:
            canvas.rect(x - head * 0.5, y - height - head * 1.5,
                        x + head * 0.5, y - height, LIGHT)


def draw_cars(canvas: Canvas, rng: np.random.Generator, horizon: float,
              road: Tuple[float, float, float]) -> None:
    """Cars on the road, far ones first so near ones occlude them."""
    vx, left, right = road
    rows = np.sort(rng.uniform(0.15, 0.9, size=rng.integers(1, 5)))
    for t in rows:
        y = horizon + (canvas.h - horizon) * t
        s = _perspective(canvas, horizon, y)
        x = vx + ((left + right) / 2 - vx) * t + (right - left) * t * \
            rng.uniform(-0.3, 0.3)
        half_w = canvas.w * 0.18 * s + 2
        body_h = half_w * 0.55
        color = canvas.color(CAR, CAR_COLORS[rng.integers(len(CAR_COLORS))])
        canvas.rect(x - half_w, y - body_h, x + half_w, y, CAR, color)
        canvas.rect(x - half_w * 0.6, y - body_h * 1.7, x + half_w * 0.6,
                    y - body_h + 1, CAR, color)
        # Windows and wheels: darker parts of the same class.
        canvas.shade(x - half_w * 0.5, y - body_h * 1.55, x + half_w * 0.5,
                     y - body_h, 0.45)
        canvas.shade(x - half_w * 0.9, y - body_h * 0.3, x + half_w * 0.9, y,
                     0.35)


def draw_persons(canvas: Canvas, rng: np.random.Generator, horizon: float,
                 road: Tuple[float, float, float]) -> None:
    """Pedestrians on the sidewalks (body box and head)."""
    vx, left, right = road
    for _ in range(rng.integers(0, 4)):
        t = rng.uniform(0.1, 0.9)
        y = horizon + (canvas.h - horizon) * t
        s = _perspective(canvas, horizon, y)
        on_left = rng.random() < 0.5
        edge = vx + ((left if on_left else right) - vx) * t
        x = edge - 14 * s - 3 if on_left else edge + 14 * s + 3
        height = canvas.h * 0.45 * s + 5
        half_w = height * 0.16
        color = canvas.color(PERSON)
        canvas.rect(x - half_w, y - height * 0.85, x + half_w, y, PERSON,
                    color)
        canvas.ellipse(x, y - height * 0.9, half_w * 0.8, height * 0.1, PERSON,
                       color)


def draw_void(canvas: Canvas) -> None:
    """Labels that map to ignore: ego-vehicle strip and unlabeled border."""
    rows = int(round(canvas.h * canvas.style.ego_rows))
    if rows:
        canvas.rect(0, canvas.h - rows, canvas.w, canvas.h, EGO_VEHICLE)
    canvas.labels[[0, -1], :] = UNLABELED
    canvas.labels[:, [0, -1]] = UNLABELED


def apply_style(image: np.ndarray, rng: np.random.Generator,
                style: DomainStyle) -> np.ndarray:
    """Global appearance: contrast, light, texture, noise and blur.

    Args:
        image (np.ndarray): Float RGB image of shape (H, W, 3).
        rng (np.random.Generator): Random source.
        style (DomainStyle): The domain's appearance.

    Returns:
        np.ndarray: ``uint8`` RGB image of shape (H, W, 3).
    """
    h, w = image.shape[:2]
    image = image.mean() + (image - image.mean()) * style.contrast
    gain = rng.uniform(*style.brightness)
    if style.illumination:
        # A light gradient in a random direction, as from a low sun.
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (
            np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5))
        gain = gain * (1 + style.illumination * ramp)[..., None]
    image = image * gain
    if style.texture:
        coarse = rng.normal(0, 1, size=(h // 8 + 1, w // 8 + 1, 1))
        coarse = cv2.resize(
            coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        image = image + style.texture * coarse[..., None]
    image = image + rng.normal(0, style.noise, size=image.shape)
    if style.blur_sigma:
        image = cv2.GaussianBlur(
            image.astype(np.float32), (0, 0), style.blur_sigma)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def render_scene(rng: np.random.Generator, size: Tuple[int, int],
                 style: DomainStyle) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one random street scene.

    Args:
        rng (np.random.Generator): Random source (fixes the scene).
        size (tuple[int, int]): (W, H).
        style (DomainStyle): The domain's appearance.

    Returns:
        tuple[np.ndarray, np.ndarray]: RGB image (H, W, 3) ``uint8`` and
        Cityscapes label ids (H, W) ``uint8``.
    """
    canvas = Canvas(size[0], size[1], rng, style)
    canvas.image[:] = canvas.color(SKY)
    horizon = canvas.h * rng.uniform(0.4, 0.55)
    draw_buildings(canvas, rng, horizon)
    draw_trees(canvas, rng, horizon)
    road = draw_ground(canvas, rng, horizon)
    draw_poles(canvas, rng, horizon, road)
    draw_cars(canvas, rng, horizon, road)
    draw_persons(canvas, rng, horizon, road)
    draw_void(canvas)
    return apply_style(canvas.image, rng, style), canvas.labels


def _save_rgb(image: np.ndarray, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    # Noisy images compress poorly; favour speed over a few kilobytes.
    Image.fromarray(image).save(path, compress_level=1)


def _save_ids(labels: np.ndarray, path: str, paletted: bool) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = Image.fromarray(labels)
    if paletted:
        # GTA5 stores ids as palette indices of a colour PNG.
        # putpalette turns the 'L' image into a 'P' one, keeping the values.
        img.putpalette(label_id_palette().tolist())
    img.save(path)


@dataclass(frozen=True)
class Sample:
    """One image to generate.

    Args:
        stream (int): 0 source, 1 target train, 2 target val; with the
            index and the seed it fixes the random scene.
        index (int): Position in the stream.
        img_path (str): Output image file.
        label_path (str): Output label file.
    """
    stream: int
    index: int
    img_path: str
    label_path: str


SYNTHIA_STREAM = 3


def plan_samples(out_root: str,
                 num_source: int,
                 num_target: int,
                 num_val: int,
                 num_synthia: int = 0) -> List[Sample]:
    """Output paths of every image, in the publishers' layouts."""
    samples = []
    synthia = osp.join(out_root, 'synthia')
    for i in range(num_synthia):
        name = f'{i:07d}.png'
        samples.append(
            Sample(SYNTHIA_STREAM, i, osp.join(synthia, 'RGB', name),
                   osp.join(synthia, 'GT', 'LABELS', name)))
    gta = osp.join(out_root, 'gta5')
    for i in range(num_source):
        name = f'{i + 1:05d}.png'
        samples.append(
            Sample(0, i, osp.join(gta, 'images', name),
                   osp.join(gta, 'labels', name)))
    city = osp.join(out_root, 'cityscapes')
    splits = [('train', TRAIN_CITIES, num_target),
              ('val', VAL_CITIES, num_val)]
    for stream, (split, cities, count) in enumerate(splits, start=1):
        for i in range(count):
            town = cities[i % len(cities)]
            stem = f'{town}_000000_{i // len(cities):06d}'
            samples.append(
                Sample(
                    stream, i,
                    osp.join(city, 'leftImg8bit', split, town,
                             f'{stem}_leftImg8bit.png'),
                    osp.join(city, 'gtFine', split, town,
                             f'{stem}_gtFine_labelIds.png')))
    return samples


def synthia_depth(labels: np.ndarray) -> np.ndarray:
    """Raw 16-bit depth of a scene: by row below the horizon (the first
    road/sidewalk row), 200 m above it, 65535 for the sky.

    Args:
        labels (np.ndarray): Cityscapes ids, (H, W).

    Returns:
        np.ndarray: Centimetres, (H, W), ``uint16``.
    """
    height = labels.shape[0]
    ground = np.isin(labels, (ROAD, SIDEWALK)).any(axis=1)
    horizon = int(np.argmax(ground)) if ground.any() else height // 2
    rows = np.arange(height, dtype=np.float64)[:, None]
    below = np.maximum(rows - horizon, 0) + 1  # >= 1 everywhere
    metres = np.where(rows > horizon, 2.0 * height / below, 200.0)
    metres = np.minimum(metres, 200.0) * np.ones_like(labels, np.float64)
    raw = np.round(metres * 100).astype(np.uint16)
    raw[labels == SKY] = 65535
    return raw


def _save_synthia(image: np.ndarray, labels: np.ndarray,
                  sample: 'Sample') -> None:
    _save_rgb(image, sample.img_path)
    red = np.zeros(labels.shape, np.uint16)
    for city_id, raw_id in CITYSCAPES_TO_SYNTHIA.items():
        red[labels == city_id] = raw_id
    # green: instance ids above 255, as SYNTHIA; blue: unused here
    bgr = np.stack([np.zeros_like(red), np.full_like(red, 300), red], axis=-1)
    os.makedirs(osp.dirname(sample.label_path), exist_ok=True)
    assert cv2.imwrite(sample.label_path, bgr)
    depth_path = sample.label_path.replace(
        osp.join('GT', 'LABELS'), osp.join('Depth', 'Depth'))
    os.makedirs(osp.dirname(depth_path), exist_ok=True)
    assert cv2.imwrite(depth_path, synthia_depth(labels))


def generate_sample(sample: Sample, seed: int) -> None:
    """Render and write one sample; depends only on (seed, stream, index)."""
    rng = np.random.default_rng([seed, sample.stream, sample.index])
    if sample.stream == SYNTHIA_STREAM:
        image, labels = render_scene(rng, SYNTHIA_SIZE, SOURCE_STYLE)
        _save_synthia(image, labels, sample)
        return
    is_source = sample.stream == 0
    size = SOURCE_SIZE if is_source else TARGET_SIZE
    image, labels = render_scene(rng, size,
                                 SOURCE_STYLE if is_source else TARGET_STYLE)
    _save_rgb(image, sample.img_path)
    _save_ids(labels, sample.label_path, paletted=is_source)


def parse_args(args: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a synthetic GTA5 -> Cityscapes demo dataset')
    parser.add_argument('out_root', help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--num-source', type=int, default=60, help='GTA5-style source images')
    parser.add_argument(
        '--num-target',
        type=int,
        default=60,
        help='Cityscapes-style train images')
    parser.add_argument(
        '--num-val', type=int, default=20, help='Cityscapes-style val images')
    parser.add_argument(
        '--num-synthia',
        type=int,
        default=0,
        help='SYNTHIA-style source images with depth maps (depth demo)')
    parsed = parser.parse_args(args)
    for name in ('seed', 'num_source', 'num_target', 'num_val',
                 'num_synthia'):
        if getattr(parsed, name) < 0:
            parser.error(f'--{name.replace("_", "-")} must be >= 0, got '
                         f'{getattr(parsed, name)}')
    return parsed


def main(args: Optional[Sequence[str]] = None) -> int:
    """Generate the dataset; returns the exit code."""
    opts = parse_args(args)
    samples = plan_samples(opts.out_root, opts.num_source, opts.num_target,
                           opts.num_val, opts.num_synthia)
    progress = ProgressBar(len(samples))
    for sample in samples:
        generate_sample(sample, opts.seed)
        progress.update()
    print(f'\nwrote {opts.num_source} source, {opts.num_target} target '
          f'train and {opts.num_val} target val images under '
          f'{opts.out_root}; next: python tools/dataset_converters/gta5.py '
          f'{osp.join(opts.out_root, "gta5")} and python '
          f'tools/dataset_converters/cityscapes.py '
          f'{osp.join(opts.out_root, "cityscapes")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
