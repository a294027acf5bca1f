"""Load a SYNTHIA depth map as the depth method's regression target."""
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from .checked_load_image import CorruptFileError

# d = DEPTH_NUMERATOR / (raw + 1) (METHODS.md section 0).
DEPTH_NUMERATOR = 65536.0


def synthia_depth_from_raw(raw: np.ndarray) -> np.ndarray:
    """The depth method's target from raw 16-bit SYNTHIA depth values.

    ``d = 65536 / (raw + 1)``: an inverse-depth-like value in
    ``[1, 65536]``, not metres; nothing is masked.

    Args:
        raw (np.ndarray): Raw depth of shape (H, W), dtype ``uint16``.

    Returns:
        np.ndarray: ``d`` of shape (H, W), dtype ``float32``.
    """
    return (DEPTH_NUMERATOR / (raw.astype(np.float32) + 1.0)).astype(
        np.float32)


def read_synthia_depth(path: str,
                       backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a raw SYNTHIA depth PNG as one 16-bit channel.

    Decoded with OpenCV's ``IMREAD_ANYDEPTH`` (the reference
    implementation's read): 16 bits kept, a colour file reduced to one
    channel.

    Args:
        path (str): A ``Depth/Depth/*.png`` file.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        np.ndarray: Raw depth of shape (H, W), dtype ``uint16``.

    Raises:
        CorruptFileError: If the file cannot be decoded, or is not 16-bit,
            naming it.
    """
    data = fileio.get(path, backend_args=backend_args)
    raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYDEPTH)
    if raw is None:
        raise CorruptFileError(f'cannot decode depth file {path!r} (empty, '
                               f'truncated or not an image)')
    if raw.dtype != np.uint16:
        # An 8-bit file would give a silently wrong target.
        raise CorruptFileError(
            f'depth file {path!r} decodes to {raw.dtype}; SYNTHIA depth '
            f'maps are 16-bit PNGs')
    return raw


@TRANSFORMS.register_module()
class LoadSynthiaDepth(BaseTransform):
    """Load ``depth_map_path`` as ``gt_depth_map = 65536 / (raw + 1)``.

    Use with ``SynthiaDataset(with_depth=True)``, after the image and label
    loaders and before any geometric transform: the map is added to
    ``seg_fields``, so MMSeg's ``Resize`` (nearest) and ``RandomFlip``
    transform it with the label, and ``PackSegInputs`` packs it as
    ``data_samples.gt_depth_map`` (shape (1, H, W), ``float32``).

    Required Keys:

    - depth_map_path
    - img (optional, to check the size)

    Added Keys:

    - gt_depth_map (np.ndarray): (H, W), ``float32``.
    - seg_fields: ``'gt_depth_map'`` appended.

    Args:
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Raises:
        KeyError: If the sample has no ``depth_map_path``.
        CorruptFileError: If the depth file cannot be decoded or is not
            16-bit.
        ValueError: If its size differs from the image's.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        super().__init__()
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        """Load the depth target.

        Args:
            results (dict): Result dict with ``depth_map_path``.

        Returns:
            dict: ``results`` with ``gt_depth_map``.
        """
        path = results.get('depth_map_path')
        if path is None:
            raise KeyError(
                f'sample {results.get("img_path")!r} has no depth_map_path: '
                f'build the dataset with SynthiaDataset(with_depth=True)')
        depth = synthia_depth_from_raw(
            read_synthia_depth(path, self.backend_args))
        img = results.get('img')
        if img is not None and depth.shape != img.shape[:2]:
            raise ValueError(
                f'depth map {path!r} has (H, W) = {depth.shape} but image '
                f'{results.get("img_path")!r} has (H, W) = {img.shape[:2]}')
        results['gt_depth_map'] = depth
        results.setdefault('seg_fields', []).append('gt_depth_map')
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(backend_args={self.backend_args})'
