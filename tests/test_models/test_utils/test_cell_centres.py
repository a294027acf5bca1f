"""Frames read at the grid's cell centres equal Pillow's nearest resize
(METHODS.md sec. 6.4), checked against Pillow on frames of distinct
values; torch's ``nearest`` (the cells' top-left) is not that."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmseg_uda.models.utils.cell_centres import sample_cell_centres


def pillow_nearest(frame: np.ndarray, grid_hw) -> np.ndarray:
    """Pillow's own nearest resize of an int32 or float32 (H, W) frame."""
    return np.asarray(Image.fromarray(frame).resize(
        (grid_hw[1], grid_hw[0]), Image.NEAREST))


# (H, W) -> (h, w): the 1280x760 input's 161x96 grid (ceil-mode stride 8),
# 640x320's 81x41, a small odd frame, and a grid larger than the frame
@pytest.mark.parametrize('frame_hw, grid_hw',
                         [((760, 1280), (96, 161)), ((320, 640), (41, 81)),
                          ((23, 37), (3, 5)), ((4, 3), (7, 5))])
def test_cell_centres_are_pillow_nearest(frame_hw, grid_hw):
    height, width = frame_hw
    distinct = np.arange(height * width, dtype=np.int32).reshape(frame_hw)
    expected = pillow_nearest(distinct, grid_hw)
    got = sample_cell_centres(torch.from_numpy(distinct), grid_hw)
    assert got.dtype == torch.int32 and got.shape == grid_hw
    np.testing.assert_array_equal(got.numpy(), expected)
    # float frames (depth) and a leading batch dimension read the same
    depth = torch.from_numpy(distinct.astype(np.float32) * 0.5 + 1)
    got = sample_cell_centres(depth.expand(2, 1, height, width), grid_hw)
    assert got.shape == (2, 1) + grid_hw
    np.testing.assert_array_equal(
        got[1, 0].numpy(), pillow_nearest(depth.numpy(), grid_hw))
    if height > grid_hw[0]:
        # torch's nearest reads another pixel (the top-left of the cell)
        top_left = F.interpolate(
            torch.from_numpy(distinct)[None, None].float(), size=grid_hw,
            mode='nearest')[0, 0]
        assert not np.array_equal(top_left.numpy(), expected)
