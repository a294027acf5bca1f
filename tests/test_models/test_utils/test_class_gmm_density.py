"""Batched GMM density targets against a direct per-pixel evaluation of
the mixture (METHODS.md sec. 5), and the checks of the GMM file."""
import json
import math

import numpy as np
import pytest
import torch

from mmseg_uda.models.utils import (ClassGMMDensity, class_gmm_density,
                                    load_class_gmm)
from mmseg_uda.models.utils.class_gmm_density import GMM_FORMAT

NUM_CLASSES, K = 3, 2
GRID = (6, 4)  # (W, H)


def random_gmm(seed=0):
    rng = np.random.default_rng(seed)
    classes = []
    for c in range(NUM_CLASSES):
        weights = rng.dirichlet(np.ones(K))
        if c == 2:
            weights = np.array([1.0, 0.0])  # an unused component
        means = np.stack([rng.uniform(0, 6, K), rng.uniform(0, 4, K),
                          rng.uniform(0, 500, K)], axis=1)
        # wide enough for p ~ 1e-6, where the mapping is not saturated
        variances = np.stack([rng.uniform(20, 200, K),
                              rng.uniform(20, 200, K),
                              rng.uniform(1e4, 2e5, K)], axis=1)
        classes.append(dict(name=f'c{c}', weights=weights.tolist(),
                            means=means.tolist(),
                            variances=variances.tolist()))
    return classes


def write_gmm(path, num_classes=NUM_CLASSES, grid=GRID, classes=None,
              num_components=K):
    content = dict(format=GMM_FORMAT, num_classes=num_classes,
                   grid_size=list(grid), num_components=num_components,
                   classes=classes if classes is not None else random_gmm())
    path.write_text(json.dumps(content))
    return str(path)


def direct_target(classes, c, col, row, d):
    """255 (1 - exp(-1e6 p)) of one pixel, the mixture written out."""
    p = 0.0
    gmm = classes[c]
    for k in range(K):
        prod = gmm['weights'][k]
        for v, mu, var in zip((col, row, d), gmm['means'][k],
                              gmm['variances'][k]):
            prod *= math.exp(-(v - mu)**2 / (2 * var)) / math.sqrt(
                2 * math.pi * var)
        p += prod
    return 255 * (1 - math.exp(-1e6 * p))


# the default (one chunk here), one image and two images per chunk (3
# images: an uneven last chunk)
@pytest.mark.parametrize('chunk_cells', [None, 24, 48])
def test_batched_targets_equal_the_per_pixel_mixture(tmp_path, monkeypatch,
                                                     chunk_cells):
    if chunk_cells is not None:
        monkeypatch.setattr(class_gmm_density, 'CPU_CHUNK_CELLS',
                            chunk_cells)
    classes = random_gmm()
    density = ClassGMMDensity(write_gmm(tmp_path / 'g.json'), NUM_CLASSES,
                              num_components=K, grid_size=GRID)
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, NUM_CLASSES, (3, 4, 6), generator=g)
    depth = torch.rand(3, 4, 6, generator=g) * 600
    got = density(labels, depth)
    assert got.shape == (3, 1, 4, 6) and got.dtype == torch.float32
    expected = torch.tensor([[[
        direct_target(classes, int(labels[b, r, c]), c, r, float(depth[b, r,
                                                                       c]))
        for c in range(6)
    ] for r in range(4)] for b in range(3)])
    torch.testing.assert_close(got[:, 0], expected, rtol=1e-5, atol=1e-4)
    p = density.density(labels, depth)
    assert p.shape == (3, 4, 6) and p.dtype == torch.float64
    torch.testing.assert_close(255 * (1 - torch.exp(-1e6 * p)).float(),
                               got[:, 0])
    # the range of the mapping is exercised, not only its saturation
    assert (got < 250).any() and (got > 1).any()


def direct_density(classes, labels, depth):
    """``sum_k pi_k prod_j N(v_j; mu_kj, var_kj)`` of every cell in float64
    NumPy, ``v = (column, row, depth)``: the formula as written."""
    pi = np.array([c['weights'] for c in classes])  # (C, K)
    mu = np.array([c['means'] for c in classes])  # (C, K, 3)
    var = np.array([c['variances'] for c in classes])
    rows, cols = np.indices(labels.shape[-2:])
    v = np.stack(np.broadcast_arrays(cols, rows, depth), -1)  # (B, h, w, 3)
    m, s = mu[labels], var[labels]  # (B, h, w, K, 3)
    normal = np.exp(-(v[..., None, :] - m)**2 /
                    (2 * s)) / np.sqrt(2 * math.pi * s)
    return (pi[labels] * normal.prod(-1)).sum(-1)


def test_narrow_components_equal_the_direct_formula(tmp_path):
    """Components as narrow as the fitted ones (var_d = 1e-6 at mu_d =
    65536, raw SYNTHIA depth 0; narrow column and row ones too): the density
    of every cell within 1e-6 (relative) of the formula in float64."""
    grid = (161, 96)
    classes = [
        dict(weights=[0.7, 0.3],
             means=[[80., 48., 65536.], [40., 20., 30.]],
             variances=[[2000., 800., 1e-6], [500., 300., 400.]]),
        dict(weights=[0.4, 0.6],
             means=[[150.0007, 30., 20.], [100., 60., 40.]],
             variances=[[1e-6, 100., 1e3], [900., 400., 600.]]),
        dict(weights=[0.5, 0.5],
             means=[[10., 90.0005, 5.], [120., 10., 50.]],
             variances=[[300., 1e-6, 50.], [700., 200., 800.]]),
    ]
    density = ClassGMMDensity(
        write_gmm(tmp_path / 'narrow.json', grid=grid, classes=classes),
        NUM_CLASSES, num_components=K, grid_size=grid)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_CLASSES, (2, grid[1], grid[0]))
    depth = rng.uniform(0, 100, labels.shape)
    # class 0's cells near its narrow component: d - 65536 in 0, +-1e-3,
    # -2.5e-3 (about 0.5 to 3 sigma) or ordinary depths
    near = (labels == 0) & (rng.random(labels.shape) < 0.7)
    offsets = np.array([0., 1e-3, -1e-3, -2.5e-3])
    depth[near] = 65536. + offsets[rng.integers(0, 4, near.sum())]
    got = density.density(torch.from_numpy(labels),
                          torch.from_numpy(depth)).numpy()
    expected = direct_density(classes, labels, depth)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)
    # the narrow components carry mass (the test is not about zeros)
    assert expected[near].min() > 10 * expected[(labels == 0) & ~near].max()
    assert (expected > 0).all()  # and no cell underflows to 0
    narrow_col = (labels == 1) & (np.arange(grid[0]) == 150)
    narrow_row = (labels == 2) & (np.arange(grid[1])[:, None] == 90)
    assert narrow_col.any() and narrow_row.any()
    for cells, c in ((narrow_col, 1), (narrow_row, 2)):
        others = (labels == c) & ~cells
        assert expected[cells].max() > 10 * expected[others].max()


def test_parameters_are_checkpointed_buffers_and_loading_is_lazy(tmp_path):
    path = tmp_path / 'later.json'
    density = ClassGMMDensity(str(path), NUM_CLASSES, num_components=K)
    assert not density.loaded
    with pytest.raises(FileNotFoundError, match='later.json.*fit_depth_gmm'):
        density(torch.zeros(1, 4, 6, dtype=torch.long), torch.ones(1, 4, 6))
    write_gmm(path)
    density(torch.zeros(1, 4, 6, dtype=torch.long), torch.ones(1, 4, 6))
    state = density.state_dict()
    assert {'weights', 'means', 'variances', 'grid_size'} <= set(state)
    # A checkpoint's values need no file.
    other = ClassGMMDensity(str(tmp_path / 'absent.json'), NUM_CLASSES,
                            num_components=K)
    other.load_state_dict(state)
    labels = torch.randint(0, NUM_CLASSES, (2, 4, 6))
    depth = torch.rand(2, 4, 6) * 50
    torch.testing.assert_close(other(labels, depth), density(labels, depth))


def test_a_loaded_checkpoint_replaces_the_fitted_grid(tmp_path):
    """The grid is read on the host once per load, not per step: loading
    a checkpoint fitted on another grid must replace it."""
    density = ClassGMMDensity(write_gmm(tmp_path / 'a.json'), NUM_CLASSES,
                              num_components=K)
    density(torch.zeros(1, 4, 6, dtype=torch.long), torch.ones(1, 4, 6))
    wider = ClassGMMDensity(write_gmm(tmp_path / 'b.json', grid=(7, 4)),
                            NUM_CLASSES, num_components=K)
    density.load_state_dict(wider.state_dict())
    labels, depth = torch.zeros(1, 4, 7, dtype=torch.long), torch.ones(1, 4, 7)
    torch.testing.assert_close(density(labels, depth), wider(labels, depth))
    with pytest.raises(ValueError, match=r'\[7, 4\].*\[6, 4\]'):
        density(torch.zeros(1, 4, 6, dtype=torch.long), torch.ones(1, 4, 6))


def test_bad_files_and_grids_are_named(tmp_path):
    with pytest.raises(ValueError, match=r'g7.json.*7 classes.*has 3'):
        load_class_gmm(write_gmm(tmp_path / 'g7.json', num_classes=7),
                       num_classes=3)
    path = write_gmm(tmp_path / 'g.json')
    with pytest.raises(ValueError, match=r'g.json.*\[6, 4\].*\[161, 96\]'):
        ClassGMMDensity(path, NUM_CLASSES, num_components=K,
                        grid_size=(161, 96))
    with pytest.raises(ValueError, match='g.json.*2 components.*expected 5'):
        ClassGMMDensity(path, NUM_CLASSES, num_components=5)
    density = ClassGMMDensity(path, NUM_CLASSES, num_components=K)
    with pytest.raises(ValueError, match=r'\[6, 4\].*\[7, 4\]'):
        density(torch.zeros(1, 4, 7, dtype=torch.long), torch.ones(1, 4, 7))
    (tmp_path / 'bad.json').write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="bad.json.*format"):
        load_class_gmm(str(tmp_path / 'bad.json'))
