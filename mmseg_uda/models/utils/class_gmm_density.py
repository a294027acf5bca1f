"""Per-class Gaussian mixtures over (column, row, depth) and the depth
method's density targets, batched on the tensors' device."""
import json
import math
import os.path as osp
from typing import Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

GMM_FORMAT = 'mmseg_uda.class_gmm/1'
GMM_FEATURES = ('column', 'row', 'depth')
FIT_HINT = 'fit it with tools/fit_depth_gmm.py (configs/depth/README.md)'
#: Cells per evaluation on the CPU (whole images; at least one): the float64
#: intermediates of ~2 images of the 161x96 grid stay in cache, which made
#: batch 8 ~1.7x faster than one evaluation of the whole batch on the 2-core
#: CPU (tools/benchmark_density.py). Other devices take the whole batch.
CPU_CHUNK_CELLS = 1 << 15


def load_class_gmm(path: str,
                   num_classes: Optional[int] = None,
                   grid_size: Optional[Sequence[int]] = None) -> dict:
    """Read and check a GMM file written by ``tools/fit_depth_gmm.py``.

    Args:
        path (str): The JSON file.
        num_classes (int, optional): Expected class count.
        grid_size (Sequence[int], optional): Expected (width, height) of the
            stride-8 grid the GMMs were fitted on.

    Returns:
        dict: The file's content, with ``weights`` (C, K), ``means`` and
        ``variances`` (C, K, 3) as float64 tensors added.

    Raises:
        FileNotFoundError: If the file is missing.
        ValueError: If it is not such a file, or its class count or grid
            differ from the expected ones (naming the file and values).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'GMM file {path!r} does not exist: '
                                f'{FIT_HINT}')
    try:
        with open(path) as f:
            gmm = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'GMM file {path!r} is not valid JSON: {err}')
    if not isinstance(gmm, dict) or gmm.get('format') != GMM_FORMAT:
        raise ValueError(f'GMM file {path!r}: format must be '
                         f'{GMM_FORMAT!r}, got {gmm.get("format")!r}'
                         if isinstance(gmm, dict) else
                         f'GMM file {path!r} is not a {GMM_FORMAT} file')
    if num_classes is not None and gmm['num_classes'] != num_classes:
        raise ValueError(
            f'GMM file {path!r} was fitted for {gmm["num_classes"]} '
            f'classes, the model has {num_classes}: {FIT_HINT} with '
            f'--num-classes {num_classes}')
    if grid_size is not None and list(gmm['grid_size']) != list(grid_size):
        raise ValueError(
            f'GMM file {path!r} was fitted on a {gmm["grid_size"]} (W, H) '
            f'grid, expected {list(grid_size)}: {FIT_HINT} with the '
            'task\'s --grid-size')
    classes = gmm['classes']
    if len(classes) != gmm['num_classes']:
        raise ValueError(f'GMM file {path!r} lists {len(classes)} classes '
                         f'but num_classes is {gmm["num_classes"]}')
    k = gmm['num_components']
    gmm['weights'] = torch.tensor([c['weights'] for c in classes],
                                  dtype=torch.float64)
    gmm['means'] = torch.tensor([c['means'] for c in classes],
                                dtype=torch.float64)
    gmm['variances'] = torch.tensor([c['variances'] for c in classes],
                                    dtype=torch.float64)
    shape = (gmm['num_classes'], k, len(GMM_FEATURES))
    if (gmm['weights'].shape != shape[:2] or gmm['means'].shape != shape
            or gmm['variances'].shape != shape):
        raise ValueError(f'GMM file {path!r}: parameters must have shapes '
                         f'{shape[:2]} and {shape}')
    if (gmm['variances'] <= 0).any():
        raise ValueError(f'GMM file {path!r}: every variance must be > 0')
    return gmm


def grid_tables(weights: Tensor, means: Tensor, variances: Tensor,
                height: int, width: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Per-class tables of the mixture's log terms on an (h, w) grid.

    With the features ``v = (column, row, depth)`` the log of component k
    of class c is ``log pi_ck - 1/2 sum_j [log(2 pi var_ckj) +
    (v_j - mu_ckj)^2 / var_ckj]``, a sum of one term per feature. The
    column and row terms take only ``w`` and ``h`` values per (c, k), so
    they are tabulated (the constant joins the column table); the depth
    term is left to each cell, from ``mu`` and ``-1 / (2 var)``. Every
    term is the direct form ``(v - mu)^2 / var``, never the expanded
    quadratic ``v^2 / var - 2 v mu / var + mu^2 / var``: fitted components
    can be very narrow (``var_d = 1e-6`` at ``mu_d = 65536``, raw SYNTHIA
    depth 0; METHODS.md sec. 6.4), where the expansion's terms of ~1e15
    cancel and leave errors of order 1 in the log density.

    Args:
        weights (Tensor): (C, K) mixture weights pi.
        means (Tensor): (C, K, 3).
        variances (Tensor): (C, K, 3) diagonal variances.
        height (int): Grid rows h.
        width (int): Grid columns w.

    Returns:
        tuple[Tensor, Tensor, Tensor]: The column table (C * w, K), the row
        table (C * h, K), and the depth coefficients ``[mu | -1 / (2 var)]``
        (C, 2K).
    """
    neg_half_inv = -0.5 * variances.reciprocal()  # (C, K, 3)
    # log 0 = -inf: a component (or class) of weight 0 contributes nothing.
    const = (torch.log(weights) -
             0.5 * torch.log(2 * math.pi * variances).sum(-1))  # (C, K)

    def table(feature: int, length: int) -> Tensor:
        """-(v - mu)^2 / (2 var) for v = 0 .. length - 1, (C, length, K)."""
        v = torch.arange(length, device=means.device,
                         dtype=means.dtype)[:, None]  # (length, 1)
        diff = v - means[:, None, :, feature]
        return diff.square_().mul_(neg_half_inv[:, None, :, feature])

    k = weights.shape[1]
    return ((table(0, width) + const[:, None]).reshape(-1, k),
            table(1, height).reshape(-1, k),
            torch.cat([means[..., 2], neg_half_inv[..., 2]], dim=1))


def grid_mixture_density(classes: Tensor, depth: Tensor,
                         tables: Tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """``p = sum_k pi_k prod_j N(v_j; mu_kj, var_kj)`` of each grid cell
    under its class's mixture, ``v = (column, row, depth)``.

    Batched: per cell two lookups of K log terms in the tables of
    :func:`grid_tables` (by class and column, by class and row), one of
    the class's depth coefficients, ``(d - mu)^2 * (-1 / (2 var))`` added
    in (a subtraction, a square, a fused multiply-add) and one ``exp``; no
    per-class or per-cell Python loop, no (cells, C) or (cells, K, 3)
    intermediate. (Densities are far below float64's range limit, so the
    sum of ``exp`` needs no max shift.)

    Args:
        classes (Tensor): (B, h, w) class of each cell (long).
        depth (Tensor): (B, h, w) depth of each cell, of the tables' dtype.
        tables (tuple[Tensor, Tensor, Tensor]): :func:`grid_tables` of the
            mixtures on this (h, w) grid.

    Returns:
        Tensor: (B, h, w) densities (0 where every term underflows).
    """
    height, width = depth.shape[-2:]
    col_table, row_table, depth_coef = tables
    k = col_table.shape[1]
    cols = torch.arange(width, device=classes.device)
    rows = torch.arange(height, device=classes.device)[:, None]
    log_terms = F.embedding((classes * width + cols).reshape(-1), col_table)
    log_terms += F.embedding((classes * height + rows).reshape(-1),
                             row_table)
    coef = F.embedding(classes.reshape(-1), depth_coef)  # (N, 2K)
    diff = torch.sub(depth.reshape(-1, 1), coef[:, :k])  # d - mu, (N, K)
    log_terms.addcmul_(diff.square_(), coef[:, k:])
    return log_terms.exp_().sum(-1).reshape(classes.shape)


def density_to_target(density: Tensor, scale: float = 1e6,
                      amplitude: float = 255.) -> Tensor:
    """The regression target ``255 * (1 - exp(-1e6 * p))``."""
    return -amplitude * torch.expm1(-scale * density)


class ClassGMMDensity(nn.Module):
    """Fitted per-class GMMs as buffers, giving batched density targets.

    The parameters live in persistent buffers (saved in every checkpoint;
    ``--resume`` needs no file). They are read from ``gmm_file`` at build
    when it exists, else at the first use (so a config can be built before
    the GMMs are fitted); a checkpoint's values win over the file.

    Args:
        gmm_file (str, optional): File of ``tools/fit_depth_gmm.py``.
        num_classes (int): Class count the file must have.
        num_components (int): K the file must have. Defaults to 5.
        grid_size (Sequence[int], optional): (W, H) the file must have
            been fitted on (161x96 at 1280x760); None accepts any (the
            grid of each batch is still checked against the file's).
        scale (float): ``1e6`` in ``255 * (1 - exp(-scale * p))``.
        amplitude (float): ``255`` in the same mapping.
    """

    def __init__(self,
                 gmm_file: Optional[str],
                 num_classes: int,
                 num_components: int = 5,
                 grid_size: Optional[Sequence[int]] = None,
                 scale: float = 1e6,
                 amplitude: float = 255.) -> None:
        super().__init__()
        self.gmm_file = gmm_file
        self.num_classes = num_classes
        self.expected_grid = None if grid_size is None else tuple(grid_size)
        self.scale = scale
        self.amplitude = amplitude
        shape = (num_classes, num_components, len(GMM_FEATURES))
        self.register_buffer('weights', torch.zeros(shape[:2],
                                                    dtype=torch.float64))
        self.register_buffer('means', torch.zeros(shape, dtype=torch.float64))
        self.register_buffer('variances',
                             torch.ones(shape, dtype=torch.float64))
        # (W, H) of the fitting grid; (0, 0) until loaded.
        self.register_buffer('grid_size', torch.zeros(2, dtype=torch.long))
        # grid_size read on the host once per load, not at every step (a
        # device sync); derived from the buffer, reset whenever it is loaded
        self._fitted_grid: Optional[Tuple[int, int]] = None
        if gmm_file is not None and osp.isfile(gmm_file):
            self.load_file()

    @property
    def loaded(self) -> bool:
        return bool(self.grid_size.prod() > 0)

    def load_file(self) -> None:
        """Fill the buffers from ``gmm_file`` (checked)."""
        if self.gmm_file is None:
            raise FileNotFoundError(
                'ClassGMMDensity: no gmm_file configured and no GMM in the '
                f'checkpoint: {FIT_HINT} and set gmm_file')
        gmm = load_class_gmm(self.gmm_file, self.num_classes,
                             self.expected_grid)
        if gmm['num_components'] != self.weights.shape[1]:
            raise ValueError(
                f'GMM file {self.gmm_file!r} has {gmm["num_components"]} '
                f'components per class, expected {self.weights.shape[1]}')
        with torch.no_grad():
            for name in ('weights', 'means', 'variances'):
                getattr(self, name).copy_(gmm[name])
            self.grid_size.copy_(torch.tensor(gmm['grid_size']))
        self._fitted_grid = None

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._fitted_grid = None  # a checkpoint's GMMs win over the file

    def fitted_grid(self) -> Tuple[int, int]:
        """(W, H) of the grid the GMMs were fitted on (loads the file if
        neither it nor a checkpoint has filled the buffers yet)."""
        if self._fitted_grid is None:
            if not self.loaded:
                self.load_file()
            self._fitted_grid = tuple(self.grid_size.tolist())
        return self._fitted_grid

    def _chunks(self, depth: Tensor) -> Iterator[slice]:
        """Check the grid against the GMMs'; the batch slices to evaluate
        at once (whole images, :data:`CPU_CHUNK_CELLS` cells at most on the
        CPU, the whole batch elsewhere)."""
        batch, height, width = depth.shape
        fitted = self.fitted_grid()
        if fitted != (width, height):
            raise ValueError(
                f'ClassGMMDensity: the GMMs of {self.gmm_file!r} were fitted '
                f'on a {list(fitted)} (W, H) grid, this batch\'s grid is '
                f'{[width, height]}: fit them at the training input size')
        step = batch
        if depth.device.type == 'cpu':
            step = max(1, CPU_CHUNK_CELLS // (height * width))
        for start in range(0, batch, step):
            yield slice(start, start + step)

    def density(self, classes: Tensor, depth: Tensor) -> Tensor:
        """Mixture density ``p_c`` of each cell under its class's GMM.

        Args:
            classes (Tensor): Class per cell, shape (B, h, w), long.
            depth (Tensor): Depth per cell, shape (B, h, w).

        Returns:
            Tensor: Densities, shape (B, h, w), float64.
        """
        parts = list(self._chunks(depth))  # checks the grid first
        tables = grid_tables(self.weights, self.means, self.variances,
                             *depth.shape[-2:])
        depth = depth.detach().to(self.means.dtype)
        return torch.cat([
            grid_mixture_density(classes[part], depth[part], tables)
            for part in parts
        ])

    def forward(self, classes: Tensor, depth: Tensor) -> Tensor:
        """Density target ``255 * (1 - exp(-1e6 * p))``, without gradient.

        Args:
            classes (Tensor): Class per cell, shape (B, h, w), long.
            depth (Tensor): Depth per cell, shape (B, h, w).

        Returns:
            Tensor: Targets, shape (B, 1, h, w), float32.
        """
        with torch.no_grad():
            target = density_to_target(
                self.density(classes, depth), self.scale, self.amplitude)
        return target.float().unsqueeze(1)

    def extra_repr(self) -> str:
        return f'gmm_file={self.gmm_file!r}, num_classes={self.num_classes}'
