"""torchvision-style colour jitter (FADA's source augmentation)."""
import random
from typing import List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image, ImageEnhance

# PIL blends with black, the mean grey level and the greyscale image.
_ENHANCERS = dict(
    brightness=ImageEnhance.Brightness,
    contrast=ImageEnhance.Contrast,
    saturation=ImageEnhance.Color)


def _factor_range(name: str, value: float) -> Optional[Tuple[float, float]]:
    """``[max(0, 1 - v), 1 + v]`` as torchvision, None for ``v == 0``."""
    if value < 0:
        raise ValueError(f'ColorJitter: {name}={value} must be >= 0')
    return (max(0.0, 1.0 - value), 1.0 + value) if value > 0 else None


def adjust_hue(image: Image.Image, hue_factor: float) -> Image.Image:
    """Rotate the hue channel by ``hue_factor`` of a full turn.

    As torchvision's PIL path: the HSV hue (0-255) is shifted by
    ``int(hue_factor * 255)`` modulo 256.

    Args:
        image (PIL.Image.Image): RGB image.
        hue_factor (float): Shift in [-0.5, 0.5].

    Returns:
        PIL.Image.Image: RGB image.
    """
    hue, sat, val = image.convert('HSV').split()
    shift = int(hue_factor * 255) % 256
    hue = Image.fromarray(
        ((np.asarray(hue, dtype=np.int64) + shift) % 256).astype(np.uint8),
        'L')
    return Image.merge('HSV', (hue, sat, val)).convert('RGB')


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Randomly change brightness, contrast, saturation and hue.

    Reproduces ``torchvision.transforms.ColorJitter`` on PIL images, which
    FADA applies to source images before resizing: the four adjustments are
    applied in a random order, each with a factor drawn uniformly from
    ``[max(0, 1 - v), 1 + v]`` (brightness, contrast, saturation; PIL's
    ``ImageEnhance`` blends with black, the mean grey level and the
    greyscale image, rounding to uint8 after each) or from ``[-hue, hue]``
    (a rotation of the HSV hue). MMSeg's ``PhotoMetricDistortion`` differs
    (additive brightness, each adjustment with probability 0.5, OpenCV HSV).
    A value of 0 disables that adjustment. Labels are not touched.

    The image is mmcv's BGR uint8 array; it is converted to RGB for PIL and
    back. Randomness comes from Python's ``random`` module, which MMEngine
    seeds per worker.

    Required keys: ``img``. Modified keys: ``img``.

    Args:
        brightness (float): Brightness jitter. Defaults to 0.
        contrast (float): Contrast jitter. Defaults to 0.
        saturation (float): Saturation jitter. Defaults to 0.
        hue (float): Hue jitter, in [0, 0.5]. Defaults to 0.
    """

    def __init__(self,
                 brightness: float = 0.,
                 contrast: float = 0.,
                 saturation: float = 0.,
                 hue: float = 0.) -> None:
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ColorJitter: hue={hue} must be in [0, 0.5]')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self._ranges = dict(
            brightness=_factor_range('brightness', brightness),
            contrast=_factor_range('contrast', contrast),
            saturation=_factor_range('saturation', saturation),
            hue=(-hue, hue) if hue > 0 else None)

    def draw(self) -> List[Tuple[str, float]]:
        """Draw this call's adjustments: a random order, then one factor
        each (disabled adjustments are left out).

        Returns:
            list[tuple[str, float]]: ``(name, factor)`` in application
            order; names are ``brightness``, ``contrast``, ``saturation``
            and ``hue``.
        """
        names = random.sample(list(self._ranges), k=len(self._ranges))
        return [(name, random.uniform(*self._ranges[name])) for name in names
                if self._ranges[name] is not None]

    @staticmethod
    def adjust(image: Image.Image, name: str, factor: float) -> Image.Image:
        """Apply one adjustment as torchvision does on PIL images."""
        if name == 'hue':
            return adjust_hue(image, factor)
        return _ENHANCERS[name](image).enhance(factor)

    def transform(self, results: dict) -> dict:
        """Jitter ``results['img']``.

        Args:
            results (dict): With ``img``, a BGR uint8 array (H, W, 3).

        Returns:
            dict: ``results`` with the jittered image.
        """
        img = results['img']
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError('ColorJitter: expects a BGR uint8 image of shape '
                             f'(H, W, 3), got {img.dtype} {img.shape} from '
                             f'{results.get("img_path", "<unknown file>")}')
        image = Image.fromarray(np.ascontiguousarray(img[..., ::-1]), 'RGB')
        for name, factor in self.draw():
            image = self.adjust(image, name, factor)
        results['img'] = np.ascontiguousarray(np.asarray(image)[..., ::-1])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue})')
