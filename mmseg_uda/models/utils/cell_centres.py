"""Values of a frame at the centres of a coarser grid's cells, as Pillow's
nearest-neighbour resize reads them (the depth method's GT sampling,
METHODS.md sec. 6.4)."""
from functools import lru_cache
from typing import Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch import Tensor


@lru_cache(maxsize=64)
def pillow_nearest_index(in_len: int, out_len: int,
                         axis: str) -> Tuple[int, ...]:
    """Source index of each output index of Pillow's nearest resize.

    Pillow maps output pixel ``i`` to the source pixel under its centre,
    about ``floor((i + 0.5) * in_len / out_len)``; torch's and cv2's
    ``nearest`` take ``floor(i * in_len / out_len)``, the cell's top-left
    (about 4 px away at stride 8). The index is read from Pillow itself (a
    1-D resize of ``0 .. in_len - 1`` along that axis), so rounding at
    exact ties is Pillow's too. A pure function of its arguments (cached).

    Args:
        in_len (int): Frame length along the axis (W or H).
        out_len (int): Grid length along the axis (w or h).
        axis (str): ``'width'`` or ``'height'``.

    Returns:
        tuple[int, ...]: ``out_len`` indices in ``[0, in_len)``.
    """
    if in_len <= 0 or out_len <= 0:
        raise ValueError(f'pillow_nearest_index: lengths must be > 0, got '
                         f'{in_len} -> {out_len}')
    ramp = np.arange(in_len, dtype=np.int32)
    if axis == 'width':
        size, ramp = (out_len, 1), ramp[None]
    elif axis == 'height':
        size, ramp = (1, out_len), ramp[:, None]
    else:
        raise ValueError(f'pillow_nearest_index: axis must be "width" or '
                         f'"height", got {axis!r}')
    index = np.asarray(Image.fromarray(ramp).resize(size, Image.NEAREST))
    return tuple(int(i) for i in index.ravel())


def cell_centre_rows_cols(frame_size: Sequence[int],
                          grid_size: Sequence[int]) -> Tuple[Tuple[int, ...],
                                                             Tuple[int, ...]]:
    """Frame rows and columns at the grid's cell centres.

    Args:
        frame_size (Sequence[int]): (H, W) of the frame.
        grid_size (Sequence[int]): (h, w) of the grid.

    Returns:
        tuple: ``h`` row indices and ``w`` column indices, so that
        ``frame[rows][:, cols]`` is Pillow's ``resize((w, h), NEAREST)``.
    """
    (height, width), (h, w) = frame_size, grid_size
    return (pillow_nearest_index(int(height), int(h), 'height'),
            pillow_nearest_index(int(width), int(w), 'width'))


def sample_cell_centres(frame: Tensor, grid_size: Sequence[int]) -> Tensor:
    """A (..., H, W) frame read at the centres of an (h, w) grid's cells.

    Equal to Pillow's ``resize((w, h), Image.NEAREST)`` of each frame, for
    any dtype (labels, float depth) and on the frame's device.

    Args:
        frame (Tensor): Shape (..., H, W).
        grid_size (Sequence[int]): (h, w).

    Returns:
        Tensor: Shape (..., h, w), the frame's dtype and device.
    """
    rows, cols = cell_centre_rows_cols(frame.shape[-2:], grid_size)
    rows = torch.tensor(rows, device=frame.device)
    cols = torch.tensor(cols, device=frame.device)
    return frame.index_select(-2, rows).index_select(-1, cols)
