"""Benchmark the data pipeline's resize step: speed and pixel difference of
the two image-resize paths.

Usage::

    python tools/benchmark_data.py [--image PNG] [--label PNG]
        [--scale W H] [--repeat N] [--config CFG] [--smoke]

The paths are the named options of the dataset base config (``pil_resize``,
the default of every MaxSquare/FADA pipeline: Pillow bicubic, antialiased
when shrinking, Pillow nearest for labels; ``cv2_resize``: cv2 bilinear
without antialiasing, cv2 nearest), run through the same ``Resize``
transform the pipelines build. Without ``--image`` a synthetic street-like
image of GTA5's size (1914x1052) is used. Prints the settings, the machine,
the time per image of each path, and how far their outputs differ (images:
mean and max absolute difference in grey levels, PSNR; labels: share of
pixels with another class). ``--smoke`` runs a tiny, fast version (tests).
"""
import argparse
import datetime
import os.path as osp
import platform
import sys
import time
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
DEFAULT_CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets',
                          'gta5_to_cityscapes.py')
GTA5_SIZE = (1914, 1052)  # (w, h)
PATHS = ('pil_resize', 'cv2_resize')


def synthetic_sample(size: Tuple[int, int],
                     seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A street-like BGR image with sharp edges and texture, and a label.

    Args:
        size (tuple[int, int]): (w, h).
        seed (int): Random seed.

    Returns:
        tuple[np.ndarray, np.ndarray]: Image (h, w, 3) and label (h, w),
        both ``uint8``.
    """
    w, h = size
    rng = np.random.default_rng(seed)
    image = np.empty((h, w, 3), np.uint8)
    image[:] = np.linspace(60, 200, h, dtype=np.uint8)[:, None, None]
    label = np.zeros((h, w), np.uint8)
    for c in range(1, 40):
        x0, y0 = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
        x1 = x0 + int(rng.integers(4, w // 4))
        y1 = y0 + int(rng.integers(4, h // 4))
        image[y0:y1, x0:x1] = rng.integers(0, 256, 3)
        label[y0:y1, x0:x1] = c % 19
    noise = rng.normal(0, 8, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    return image, label


def load_sample(image_path: Optional[str], label_path: Optional[str],
                size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """The image (BGR, as mmcv loads it) and label to resize.

    Raises:
        FileNotFoundError: If a given file cannot be read, naming it.
    """
    image, label = synthetic_sample(size)
    if image_path:
        image = cv2.imread(image_path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'cannot read image {image_path!r}')
        label = cv2.resize(label, image.shape[1::-1],
                           interpolation=cv2.INTER_NEAREST)
    if label_path:
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2:
            raise FileNotFoundError(
                f'cannot read a one-channel label {label_path!r}')
    return image, label


def build_resizes(config: str, scale: Tuple[int, int]) -> Dict[str, object]:
    """One ``Resize`` transform per named path of the dataset config."""
    # Imported here: MMSeg takes seconds to import, --help should not.
    from mmengine.config import Config
    from mmseg.registry import TRANSFORMS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    missing = [name for name in PATHS if name not in cfg]
    if missing:
        raise KeyError(f'{config!r} defines no {missing}')
    return {
        name: TRANSFORMS.build(
            dict(type='Resize', scale=scale, keep_ratio=False, **cfg[name]))
        for name in PATHS
    }


def run_path(resize, image: np.ndarray, label: np.ndarray,
             repeat: int) -> Tuple[float, dict]:
    """Seconds per call (best of ``repeat``) and the last output."""
    best = float('inf')
    out = None
    for _ in range(repeat):
        results = dict(img=image, gt_seg_map=label, seg_fields=['gt_seg_map'],
                       img_shape=image.shape[:2], ori_shape=image.shape[:2])
        start = time.perf_counter()
        out = resize(results)
        best = min(best, time.perf_counter() - start)
    return best, out


def compare(a: dict, b: dict) -> Dict[str, float]:
    """How far two resize outputs differ."""
    diff = np.abs(a['img'].astype(np.float64) - b['img'].astype(np.float64))
    mse = float((diff**2).mean())
    return dict(
        mean_abs=float(diff.mean()),
        max_abs=float(diff.max()),
        psnr=float('inf') if mse == 0 else 10 * np.log10(255.0**2 / mse),
        label_changed=float((a['gt_seg_map'] != b['gt_seg_map']).mean()))


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] + ' ' +
        __doc__.splitlines()[1])
    parser.add_argument('--image', help='an image to resize (default: a '
                        'synthetic one of GTA5 size)')
    parser.add_argument('--label', help='its one-channel label PNG')
    parser.add_argument('--scale', type=int, nargs=2, default=(1280, 720),
                        metavar=('W', 'H'),
                        help='output size (default: 1280 720, GTA5 training)')
    parser.add_argument('--repeat', type=int, default=10,
                        help='timed calls per path (default: 10)')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='dataset base config defining pil_resize and '
                        'cv2_resize (default: gta5_to_cityscapes.py)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny input, 2 repeats: a quick check')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark; returns the exit code."""
    args = parse_args(argv)
    if args.repeat < 1:
        print(f'error: --repeat must be >= 1, got {args.repeat}',
              file=sys.stderr)
        return 2
    size, scale, repeat = GTA5_SIZE, tuple(args.scale), args.repeat
    if args.smoke:
        size, scale, repeat = (96, 53), (64, 36), 2
    try:
        image, label = load_sample(args.image, args.label, size)
        resizes = build_resizes(args.config, scale)
    except (FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'benchmark_data: resize {image.shape[1]}x{image.shape[0]} -> '
          f'{scale[0]}x{scale[1]}, best of {repeat}, image '
          f'{args.image or "synthetic"}, config {args.config}')
    print(f'date {datetime.datetime.now().isoformat(timespec="seconds")}, '
          f'machine {platform.machine()} {platform.processor() or ""} '
          f'({platform.system()}, Python {platform.python_version()})')
    outputs = {}
    print(f'{"path":<12} {"ms / image":>10}  settings')
    for name, resize in resizes.items():
        seconds, outputs[name] = run_path(resize, image, label, repeat)
        print(f'{name:<12} {1000 * seconds:>10.2f}  '
              f'{resize.backend} {resize.interpolation}')
    diff = compare(outputs['pil_resize'], outputs['cv2_resize'])
    print(f'difference pil_resize vs cv2_resize: image mean |d| '
          f'{diff["mean_abs"]:.3f}, max |d| {diff["max_abs"]:.0f}, PSNR '
          f'{diff["psnr"]:.2f} dB; labels changed '
          f'{100 * diff["label_changed"]:.2f} % of pixels')
    return 0


if __name__ == '__main__':
    sys.exit(main())
