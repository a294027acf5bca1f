"""MIC's random block mask of the input images (METHODS.md sec. 7.6)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def block_grid_size(height: int, width: int,
                    block_size: int) -> Tuple[int, int]:
    """The mask's grid, ``round(H / b) x round(W / b)`` cells (Python's
    ``round``, as released: halves go to the even neighbour).

    Args:
        height, width (int): Image size.
        block_size (int): ``b``, in pixels.

    Returns:
        tuple[int, int]: Grid rows and columns.

    Raises:
        ValueError: If ``block_size < 1`` or the image is smaller than one
            block along an axis (naming both sizes).
    """
    if block_size < 1:
        raise ValueError(
            f'block mask: block_size must be >= 1, got {block_size}')
    if height < block_size or width < block_size:
        raise ValueError(
            f'block mask: images of size {height}x{width} (HxW) are smaller '
            f'than the mask block ({block_size}x{block_size}); use larger '
            'crops or a smaller mask_block_size')
    return round(height / block_size), round(width / block_size)


def block_mask(images: Tensor, block_size: int, ratio: float) -> Tensor:
    """A random block mask per image.

    Per image, a grid of :func:`block_grid_size` cells, each kept (1) iff
    ``U(0, 1) > ratio`` (torch's generator of the images' device, so the
    project's per-iteration seeding makes it resume-exact; no host sync),
    upsampled by nearest neighbour to H x W. Where ``H`` is not a multiple
    of ``b`` the cells are ``H / round(H / b)`` pixels high (nearest
    upsampling's rounding), as released.

    Args:
        images (Tensor): Shape (B, C, H, W); only its shape, device and
            dtype are read.
        block_size (int): ``b`` (32 for MIC(DAFormer), 64 for MIC(HRDA)).
        ratio (float): The masked share ``r`` in [0, 1) (0.7).

    Returns:
        Tensor: 0/1 mask, shape (B, 1, H, W), the images' dtype.
    """
    if images.dim() != 4:
        raise ValueError('block mask: images must have shape (B, C, H, W), '
                         f'got {tuple(images.shape)}')
    if not 0 <= ratio < 1:
        raise ValueError(f'block mask: ratio must be in [0, 1), got {ratio}')
    batch, _, height, width = images.shape
    rows, cols = block_grid_size(height, width, block_size)
    cells = torch.rand(batch, 1, rows, cols, device=images.device)
    keep = (cells > ratio).to(images.dtype)
    return F.interpolate(keep, size=(height, width), mode='nearest')


def mask_images(images: Tensor, block_size: int, ratio: float) -> Tensor:
    """``images · block_mask(images)``: masked pixels become 0 in
    normalised space, i.e. the dataset's mean colour.

    Args:
        images (Tensor): Normalised images, shape (B, C, H, W).
        block_size (int): ``b``.
        ratio (float): ``r``.

    Returns:
        Tensor: Shape (B, C, H, W).
    """
    return images * block_mask(images, block_size, ratio)
