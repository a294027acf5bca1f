"""MMSeg's ``Resize`` whose Pillow backend also resizes float maps (the
depth method's ``gt_depth_map``), sampled where the labels are."""
from typing import Sequence

import mmcv
import numpy as np
from mmseg.datasets.transforms import Resize
from mmseg.registry import TRANSFORMS
from PIL import Image


def resize_map_nearest(seg: np.ndarray, size: Sequence[int],
                       backend: str) -> np.ndarray:
    """Nearest-neighbour resize of a label map or a float map.

    mmcv's Pillow path takes ``uint8`` arrays only; a ``float32`` map goes
    through Pillow's 32-bit float mode ('F') instead, whose nearest filter
    picks the same source pixels as for an 8-bit label of that size, so a
    depth map stays aligned with its label.

    Args:
        seg (np.ndarray): (H, W) map, ``uint8`` (labels) or, with the
            Pillow backend, ``float32`` (depth).
        size (Sequence[int]): Output (W, H).
        backend (str): 'pillow' or 'cv2' (cv2 takes any dtype).

    Returns:
        np.ndarray: The resized map, same dtype, shape (H_out, W_out).

    Raises:
        TypeError: For a non-``uint8`` map with the Pillow backend that is
            not a 2-D ``float32`` array.
    """
    size = (int(size[0]), int(size[1]))
    if backend != 'pillow' or seg.dtype == np.uint8:
        return mmcv.imresize(
            seg, size, interpolation='nearest', backend=backend)
    if seg.dtype != np.float32 or seg.ndim != 2:
        raise TypeError(
            'resize_map_nearest: the Pillow backend resizes uint8 labels or '
            f'2-D float32 maps, got dtype {seg.dtype} and shape {seg.shape}')
    image = Image.fromarray(seg)
    assert image.mode == 'F', image.mode
    return np.array(image.resize(size, Image.NEAREST), dtype=np.float32)


@TRANSFORMS.register_module()
class ResizeWithDepth(Resize):
    """MMSeg's ``Resize``, with float maps in ``seg_fields`` allowed.

    The depth method's SYNTHIA pipelines resize the image (Pillow bicubic,
    as the released loaders), the label (Pillow nearest) and the depth
    target ``gt_depth_map`` (``float32``, added to ``seg_fields`` by
    ``LoadSynthiaDepth``) in one step; MMSeg's ``Resize`` refuses the float
    map on its Pillow backend. Every map in ``seg_fields`` is resized
    nearest to the resized image's size with :func:`resize_map_nearest`,
    so depth and label are sampled at the same pixels. With
    ``backend='cv2'`` this is MMSeg's ``Resize``.

    Required Keys: img, seg_fields (optional)

    Modified Keys: img, img_shape, every key in seg_fields

    Added Keys: scale, scale_factor, keep_ratio

    Args:
        **kwargs: Arguments of MMSeg's ``Resize`` (``scale``,
            ``keep_ratio``, ``backend``, ``interpolation``, ...).
    """

    def _resize_seg(self, results: dict) -> None:
        """Resize every map in ``seg_fields`` to the resized image's size.

        Args:
            results (dict): Result dict whose ``img`` was resized.
        """
        height, width = results['img_shape'][:2]
        for key in results.get('seg_fields', []):
            if results.get(key) is not None:
                results[key] = resize_map_nearest(results[key],
                                                  (width, height),
                                                  self.backend)
