"""Evaluate at the inference size: MaxSquare's own evaluation convention."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def resize_nearest(seg_map: np.ndarray,
                   size_hw: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize that samples at pixel centres.

    Output pixel ``i`` takes input pixel ``floor((i + 0.5) * H_in / H_out)``,
    as PIL's ``Image.NEAREST`` (used by MaxSquare's evaluation) does; cv2's
    ``INTER_NEAREST`` samples at ``floor(i * H_in / H_out)`` instead, half a
    pixel off for a 2x reduction. The index is computed exactly in integers;
    PIL accumulates it in floating point, so where a sampling point lies
    exactly on a pixel border and the ratio is not a power of two (e.g.
    28 -> 10) PIL may take the pixel before. For 2048x1024 -> 1024x512 the
    two agree exactly.

    Args:
        seg_map (np.ndarray): Map of shape (H_in, W_in) or
            (H_in, W_in, channels), any dtype.
        size_hw (tuple[int, int]): Output (H_out, W_out).

    Returns:
        np.ndarray: Map of shape (H_out, W_out[, channels]), same dtype.
    """
    rows = _centre_indices(seg_map.shape[0], size_hw[0])
    cols = _centre_indices(seg_map.shape[1], size_hw[1])
    return seg_map[rows[:, None], cols[None, :]]


def _centre_indices(size_in: int, size_out: int) -> np.ndarray:
    # Integer arithmetic: floor((2i + 1) * size_in / (2 * size_out)) is exact
    # where a float product could round across an integer.
    index = ((2 * np.arange(size_out) + 1) * size_in) // (2 * size_out)
    return np.minimum(index, size_in - 1)


@TRANSFORMS.register_module()
class LabelsAtInferenceSize(BaseTransform):
    """Resize the labels to the inference size and score predictions there.

    MaxSquare evaluates at 1024x512: images resized, labels
    nearest-resized to the same size, predictions not upsampled to
    2048x1024. MMSeg's ``EncoderDecoder.postprocess_result`` resizes the
    logits (bilinearly) to ``ori_shape`` (after removing padding and undoing
    a flip), so setting ``ori_shape`` to the inference size makes the
    predictions come out at that size, matching the resized labels.

    Place it in the test pipeline after ``Resize`` and ``LoadAnnotations``::

        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(1024, 512), keep_ratio=True),
        dict(type='LoadAnnotations'),
        dict(type='LabelsAtInferenceSize'),
        dict(type='PackSegInputs')

    and declare ``label_resolution='inference'`` in ``UDAIoUMetric``.

    Required Keys:

    - img_shape (when ``scale`` is None)
    - gt_seg_map
    - seg_fields (optional)

    Modified Keys:

    - gt_seg_map and every other key in ``seg_fields``
    - ori_shape

    Args:
        scale (tuple[int, int], optional): Label size as (w, h), as for
            ``Resize``. None means the image's current size (``img_shape``).
            With multi-scale test-time augmentation every view must share
            one label size: give the base test scale here. Defaults to None.
    """

    def __init__(self, scale: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        if scale is not None and (len(scale) != 2 or not all(
                isinstance(s, int) and s > 0 for s in scale)):
            raise ValueError('LabelsAtInferenceSize scale must be (w, h) '
                             f'positive ints, got {scale!r}')
        self.scale = None if scale is None else tuple(scale)

    def transform(self, results: dict) -> dict:
        """Resize the label maps and set ``ori_shape``.

        Args:
            results (dict): Result dict with ``gt_seg_map`` (H, W) and,
                unless ``scale`` is given, ``img_shape``.

        Returns:
            dict: ``results`` with label maps of (h, w) and
            ``ori_shape = (h, w)``.
        """
        size_hw = self._target_size(results)
        for key in results.get('seg_fields') or ['gt_seg_map']:
            if tuple(results[key].shape[:2]) != size_hw:
                results[key] = resize_nearest(results[key], size_hw)
        results['ori_shape'] = size_hw
        return results

    def _target_size(self, results: dict) -> Tuple[int, int]:
        if 'gt_seg_map' not in results:
            raise KeyError(
                'LabelsAtInferenceSize needs gt_seg_map in the results of '
                f'{results.get("img_path", "<unknown image>")!r}: place it '
                'after LoadAnnotations')
        if self.scale is not None:
            return self.scale[1], self.scale[0]
        if 'img_shape' not in results:
            raise KeyError(
                'LabelsAtInferenceSize needs img_shape in the results of '
                f'{results.get("img_path", "<unknown image>")!r}: place it '
                'after Resize')
        return tuple(results['img_shape'][:2])

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale})'
