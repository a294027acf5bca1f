"""Fit an image into a fixed input size (aspect kept) and pad the rest: the
depth release's Mapillary protocol."""
from typing import Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from .resize_with_depth import resize_map_nearest


def fitted_size(hw: Sequence[int], scale: Sequence[int]) -> Tuple[int, int]:
    """(H, W) of an image of size ``hw`` fitted into the box ``scale``.

    The released loader's rule (METHODS.md 6.4): an image wider than the
    box (``W / H > W_box / H_box``) gets the box width and the height
    ``int(H * (W_box / W))``; any other image the box height and the width
    ``int(W * (H_box / H))``. The bound side is exact, the other truncated
    (not rounded).

    Args:
        hw (Sequence[int]): Image (H, W).
        scale (Sequence[int]): Box (W, H).

    Returns:
        tuple[int, int]: The fitted (H, W), at least 1 pixel each.
    """
    height, width = hw
    box_w, box_h = scale
    if width / height > box_w / box_h:
        return max(1, int(height * (box_w / width))), box_w
    return box_h, max(1, int(width * (box_h / height)))


@TRANSFORMS.register_module()
class FitAndPad(BaseTransform):
    """Resize into ``scale`` keeping the aspect, pad bottom/right to it.

    METHODS.md 6.2: Mapillary images are fitted into the input size (aspect
    kept) and padded bottom/right; labels likewise (padding = ignore) and
    evaluated at that size. The fitted size is the release's
    (:func:`fitted_size`: truncated, not rounded); the image is resized
    with Pillow bicubic (antialiased when shrinking) as the released
    loader, every key in ``seg_fields`` (load the labels *before* this
    transform) with Pillow nearest (a ``float32`` map too:
    :func:`resize_map_nearest`), then padded bottom/right with
    ``img_pad_val`` / ``seg_pad_val``. With
    ``eval_at_input_size`` ``ori_shape`` becomes the padded size, so MMSeg
    returns predictions at that size, scored against the padded labels
    (declare ``label_resolution='inference'`` in ``UDAIoUMetric``).

    Unlike MMSeg's ``Resize(keep_ratio=True)``, which bounds the long and
    the short side separately (a portrait image would exceed the height),
    the result always fits the box.

    Required Keys: img, seg_fields (optional)

    Modified Keys: img, img_shape, every key in seg_fields, ori_shape (with
    ``eval_at_input_size``)

    Added Keys: scale_factor, pad_shape, fitted_shape (the resized part,
    (H, W)), source_shape (the image's own (H, W))

    Args:
        scale (tuple[int, int]): Input size (W, H), e.g. (1280, 760).
        img_pad_val (float): Image padding value. Defaults to 0.
        seg_pad_val (int): Label padding value. Defaults to 255.
        eval_at_input_size (bool): Set ``ori_shape`` to the padded size.
            Defaults to True.
        backend (str): Resize backend of the image and the maps, 'pillow'
            (the release) or 'cv2'. Defaults to 'pillow'.
        interpolation (str): Image interpolation. Defaults to 'bicubic'.
    """

    def __init__(self,
                 scale: Sequence[int],
                 img_pad_val: float = 0,
                 seg_pad_val: int = 255,
                 eval_at_input_size: bool = True,
                 backend: str = 'pillow',
                 interpolation: str = 'bicubic') -> None:
        super().__init__()
        if len(scale) != 2 or min(scale) < 1:
            raise ValueError(f'FitAndPad: scale must be (W, H), got {scale}')
        if backend not in ('pillow', 'cv2'):
            raise ValueError(
                f"FitAndPad: backend must be 'pillow' or 'cv2', got "
                f'{backend!r}')
        self.scale = tuple(int(s) for s in scale)
        self.img_pad_val = img_pad_val
        self.seg_pad_val = seg_pad_val
        self.eval_at_input_size = eval_at_input_size
        self.backend = backend
        self.interpolation = interpolation

    def _pad(self, array: np.ndarray, value) -> np.ndarray:
        box_w, box_h = self.scale
        pad = [(0, box_h - array.shape[0]), (0, box_w - array.shape[1])]
        pad += [(0, 0)] * (array.ndim - 2)
        return np.pad(array, pad, mode='constant', constant_values=value)

    def transform(self, results: dict) -> dict:
        """Fit and pad the image and its label maps.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The updated results.
        """
        img = results['img']
        new_h, new_w = fitted_size(img.shape[:2], self.scale)
        resized = mmcv.imresize(
            img, (new_w, new_h),
            interpolation=self.interpolation,
            backend=self.backend)
        results['img'] = self._pad(resized, self.img_pad_val)
        for key in results.get('seg_fields', []):
            seg = resize_map_nearest(results[key], (new_w, new_h),
                                     self.backend)
            results[key] = self._pad(seg, self.seg_pad_val)
        results['scale_factor'] = (new_w / img.shape[1],
                                   new_h / img.shape[0])
        results['fitted_shape'] = (new_h, new_w)
        results['source_shape'] = img.shape[:2]
        results['img_shape'] = results['img'].shape[:2]
        results['pad_shape'] = results['img'].shape[:2]
        if self.eval_at_input_size:
            results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'img_pad_val={self.img_pad_val}, '
                f'seg_pad_val={self.seg_pad_val}, '
                f'eval_at_input_size={self.eval_at_input_size}, '
                f'backend={self.backend!r}, '
                f'interpolation={self.interpolation!r})')
