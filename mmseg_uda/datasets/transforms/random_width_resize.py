"""Random resize to a drawn width, the height following the aspect ratio
with truncation: CAG-UDA's released random scaling."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

BACKENDS = ('pillow', 'cv2')


@TRANSFORMS.register_module()
class RandomWidthResize(BaseTransform):
    """Resize to a random width ``int(U(ratio_range) * width)``, the height
    ``int(w / aspect)`` with the aspect W / H of the input (truncated).

    METHODS.md 6.1 / 6.4: the CAG release draws the width as
    ``int(uniform(0.5, 1.5) * 2200)`` and resizes the base-size image to
    ``(w, int(w / aspect))`` with Pillow, bilinear for the image and
    nearest for the labels. mmcv's ``RandomResize(scale=(2200, 2200),
    keep_ratio=True)`` gives the same width but rounds the height (one
    pixel more about half of the time). The ratio is drawn from NumPy's
    global generator, as mmcv's random transforms do (each data worker is
    seeded by MMEngine).

    The resizing itself is mmcv's ``Resize`` (``keep_ratio=False``) at the
    drawn size: ``img`` with ``interpolation``, ``gt_seg_map`` nearest,
    both with ``backend``; it sets ``scale``, ``scale_factor``,
    ``img_shape`` and ``keep_ratio`` as mmcv's ``RandomResize`` does.

    Required Keys: img, gt_seg_map (optional)

    Modified Keys: img, img_shape, gt_seg_map

    Added Keys: scale, scale_factor, keep_ratio

    Args:
        width (int): Base width, e.g. 2200.
        ratio_range (tuple[float, float]): Range of the width factor.
            Defaults to (0.5, 1.5).
        backend (str): ``'pillow'`` (the release's) or ``'cv2'``.
            Defaults to ``'pillow'``.
        interpolation (str): Image interpolation. Defaults to
            ``'bilinear'``.

    Raises:
        ValueError: For a non-positive width, an empty or non-positive
            ratio range, an unknown backend, or a drawn size under 1 pixel
            (naming the image size).
        TypeError: With ``backend='pillow'``, for an image or label map
            that is not uint8 (Pillow resizes uint8 only), naming the key,
            its dtype and the file.
    """

    def __init__(self,
                 width: int,
                 ratio_range: Sequence[float] = (0.5, 1.5),
                 backend: str = 'pillow',
                 interpolation: str = 'bilinear') -> None:
        super().__init__()
        if isinstance(width, bool) or not isinstance(
                width, (int, np.integer)) or width < 1:
            raise ValueError(
                f'RandomWidthResize: width must be a positive int, got '
                f'{width!r}')
        if len(ratio_range) != 2 or not 0 < ratio_range[0] <= ratio_range[1]:
            raise ValueError(
                f'RandomWidthResize: ratio_range must be (low, high) with '
                f'0 < low <= high, got {ratio_range!r}')
        if backend not in BACKENDS:
            raise ValueError(f'RandomWidthResize: backend must be one of '
                             f'{BACKENDS}, got {backend!r}')
        self.width = int(width)
        self.ratio_range = tuple(float(r) for r in ratio_range)
        self.backend = backend
        self.interpolation = interpolation
        self.resize = TRANSFORMS.build(
            dict(type='Resize', scale=(1, 1), keep_ratio=False,
                 backend=backend, interpolation=interpolation))

    def _check_dtypes(self, results: dict) -> None:
        if self.backend != 'pillow':
            return
        for key in ('img', 'gt_seg_map'):
            value = results.get(key)
            if value is not None and value.dtype != np.uint8:
                where = results.get('img_path' if key == 'img' else
                                    'seg_map_path', 'the sample')
                raise TypeError(
                    f'RandomWidthResize: {key} of {where} is {value.dtype}; '
                    f"the Pillow backend resizes uint8 only (use "
                    f"backend='cv2' for other types)")

    def transform(self, results: dict) -> dict:
        """Resize ``img`` and ``gt_seg_map`` to a random width.

        Args:
            results (dict): Result dict with ``img`` of shape (H, W, 3)
                and optionally ``gt_seg_map`` of shape (H, W).

        Returns:
            dict: The updated results.
        """
        self._check_dtypes(results)
        low, high = self.ratio_range
        width = int(np.random.uniform(low, high) * self.width)
        height, image_width = results['img'].shape[:2]
        aspect = image_width / height  # the release's float ratio W / H
        size = (width, int(width / aspect))  # truncated, not rounded
        if min(size) < 1:
            raise ValueError(
                f'RandomWidthResize: image of (H, W) '
                f'{results["img"].shape[:2]} resized to (W, H) {size}: '
                f'under 1 pixel (width {self.width}, ratio_range '
                f'{self.ratio_range})')
        self.resize.scale = size
        return self.resize(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(width={self.width}, '
                f'ratio_range={self.ratio_range}, backend={self.backend}, '
                f'interpolation={self.interpolation})')
