"""Random Gaussian blur of the image (MaxSquare's augmentation)."""
import random
from typing import Optional

import cv2
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur the image with probability ``prob`` and a random radius.

    The radius is drawn from U(0, ``max_radius``) and used as the Gaussian's
    standard deviation, as PIL's ``ImageFilter.GaussianBlur(radius)`` that
    the MaxSquare implementation applies to both domains. Labels are not
    touched.

    Required keys: ``img``. Modified keys: ``img``.

    Args:
        prob (float): Probability of blurring. Defaults to 0.5.
        max_radius (float): Upper bound of the radius. Defaults to 1.0.
    """

    def __init__(self, prob: float = 0.5, max_radius: float = 1.0) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'RandomGaussianBlur: prob={prob} not in [0, 1]')
        if max_radius < 0:
            raise ValueError(
                f'RandomGaussianBlur: max_radius={max_radius} < 0')
        self.prob = prob
        self.max_radius = max_radius

    def transform(self, results: dict) -> Optional[dict]:
        """Blur ``results['img']`` in place with probability ``prob``."""
        if random.random() >= self.prob:
            return results
        radius = random.uniform(0.0, self.max_radius)
        if radius > 0:
            results['img'] = cv2.GaussianBlur(
                results['img'], ksize=(0, 0), sigmaX=radius)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'max_radius={self.max_radius})')
