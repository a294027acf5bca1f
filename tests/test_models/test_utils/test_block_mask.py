"""MIC's block mask against METHODS.md sec. 7.6: the round(H/b) x round(W/b)
grid, keep iff U(0, 1) > r from torch's generator, nearest-neighbour fill
written out by hand, the masked share within a seeded frequency bound,
masked pixels = the dataset's mean colour after de-normalisation, no host
sync, and the errors."""
import math

import numpy as np
import pytest
import torch

from mmseg_uda.models.utils.block_mask import (block_grid_size, block_mask,
                                               mask_images)

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


def reference_mask(cells: np.ndarray, height: int, width: int,
                   ratio: float) -> np.ndarray:
    """Cells (B, rows, cols) of U(0, 1) -> (B, H, W) mask: pixel (y, x)
    takes cell (floor(y·rows/H), floor(x·cols/W)), kept iff u > r."""
    _, rows, cols = cells.shape
    ys = np.floor(np.arange(height) * rows / height).astype(int)
    xs = np.floor(np.arange(width) * cols / width).astype(int)
    return (cells[:, ys][:, :, xs] > ratio).astype(np.float32)


@pytest.mark.parametrize('height,width,block,grid', [
    (64, 96, 32, (2, 3)),
    (512, 512, 32, (16, 16)),
    (80, 48, 32, (2, 2)),     # round(2.5) = 2, round(1.5) = 2 (Python's)
    (112, 40, 32, (4, 1)),    # round(3.5) = 4, round(1.25) = 1
    (100, 70, 64, (2, 1)),
])
def test_grid_and_nearest_fill(height, width, block, grid):
    assert block_grid_size(height, width, block) == grid
    images = torch.randn(3, 3, height, width)
    torch.manual_seed(7)
    mask = block_mask(images, block, 0.7)
    torch.manual_seed(7)  # the same draws, made here as sec. 7.6 says
    cells = torch.rand(3, 1, *grid)[:, 0].numpy()
    expected = reference_mask(cells, height, width, 0.7)
    assert mask.shape == (3, 1, height, width)
    assert mask.dtype == images.dtype
    np.testing.assert_array_equal(mask[:, 0].numpy(), expected)
    if height % block == 0 and width % block == 0:  # exact b x b blocks
        blocks = mask[:, 0].reshape(3, height // block, block,
                                    width // block, block)
        assert torch.equal(blocks.amax((2, 4)), blocks.amin((2, 4)))


@pytest.mark.parametrize('ratio', [0.7, 0.3])
def test_masked_share_within_a_frequency_bound(ratio):
    torch.manual_seed(0)
    images = torch.zeros(4, 3, 512, 512)
    mask = block_mask(images, 8, ratio)  # 4 x 64 x 64 = 16384 cells
    cells = mask[:, 0, ::8, ::8]
    n = cells.numel()
    kept = cells.mean().item()
    sigma = math.sqrt(ratio * (1 - ratio) / n)
    assert abs(kept - (1 - ratio)) < 5 * sigma, (kept, 1 - ratio, sigma)
    # every image gets its own draws
    assert not torch.equal(cells[0], cells[1])
    assert torch.equal(block_mask(images[:1], 32, 0.0),
                       torch.ones(1, 1, 512, 512))


def test_masked_pixels_are_the_mean_colour_after_denormalisation():
    torch.manual_seed(1)
    rgb = torch.randint(0, 256, (2, 3, 64, 64)).float()
    images = (rgb - MEAN) / STD
    torch.manual_seed(3)
    masked = mask_images(images, 16, 0.5)
    torch.manual_seed(3)
    mask = block_mask(images, 16, 0.5).bool().expand_as(images)
    assert 0 < mask.float().mean() < 1
    back = masked * STD + MEAN
    torch.testing.assert_close(back[~mask],
                               MEAN.expand_as(images)[~mask])
    assert torch.equal(masked[mask], images[mask])


def test_no_host_sync_on_the_meta_device():
    images = torch.zeros(2, 3, 64, 64, device='meta')
    out = mask_images(images, 32, 0.7)
    assert out.device.type == 'meta' and out.shape == images.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_no_host_sync_on_cuda():
    images = torch.zeros(2, 3, 64, 64, device='cuda')
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        mask_images(images, 32, 0.7)
    finally:
        torch.cuda.set_sync_debug_mode('default')


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r'16x48 \(HxW\).*mask block '
                       r'\(32x32\)'):
        block_mask(torch.zeros(1, 3, 16, 48), 32, 0.7)
    with pytest.raises(ValueError, match='block_size must be >= 1'):
        block_mask(torch.zeros(1, 3, 16, 16), 0, 0.7)
    with pytest.raises(ValueError, match=r'ratio must be in \[0, 1\)'):
        block_mask(torch.zeros(1, 3, 64, 64), 32, 1.0)
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        block_mask(torch.zeros(3, 64, 64), 32, 0.7)
