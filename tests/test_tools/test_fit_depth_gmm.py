"""tools/fit_depth_gmm.py: recovers known mixture parameters, collects the
(column, row, depth) cells of each class on the grid, writes a file the
depth term accepts, and names bad depth files."""
import importlib.util
import json
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.transforms.checked_load_image import CorruptFileError
from mmseg_uda.models.utils import load_class_gmm

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load('fit_depth_gmm', osp.join(REPO, 'tools', 'fit_depth_gmm.py'))
layouts = load('publisher_layouts',
               osp.join(REPO, 'tests', 'test_datasets',
                        'publisher_layouts.py'))


def test_fit_recovers_known_parameters():
    rng = np.random.default_rng(0)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[10., 5., 100.], [120., 60., 20.], [60., 90., 500.]])
    stds = np.array([[3., 2., 10.], [5., 4., 2.], [8., 3., 30.]])
    counts = (weights * 30000).astype(int)
    points = np.concatenate([
        rng.normal(means[k], stds[k], (counts[k], 3)) for k in range(3)
    ])
    fitted = tool.fit_class(points, 3, seed=0, max_iter=200)
    # components come in any order: match them by their column mean
    order = np.argsort(np.array(fitted['means'])[:, 0])
    truth = np.argsort(means[:, 0])
    np.testing.assert_allclose(
        np.array(fitted['weights'])[order], weights[truth], atol=0.01)
    np.testing.assert_allclose(
        np.array(fitted['means'])[order], means[truth], rtol=0.02, atol=0.2)
    np.testing.assert_allclose(
        np.array(fitted['variances'])[order], stds[truth]**2, rtol=0.06)
    assert fitted['converged']


def test_grid_points_are_nearest_cells_of_each_class():
    label = np.full((4, 6), 255, np.uint8)
    label[0:2, 0:2] = 1  # top-left grid cell (0, 0)
    label[2:4, 4:6] = 0  # bottom-right cell (col 2, row 1)
    label[0:2, 4:6] = 9  # outside the class setting: not collected
    depth = np.arange(24, dtype=np.float32).reshape(4, 6)
    points = tool.grid_points(label, depth, (3, 2), num_classes=3)
    assert set(points) == {0, 1}
    # nearest resize 6x4 -> 3x2 reads source pixels (2 * row, 2 * col)
    np.testing.assert_array_equal(points[1], [[0, 0, depth[0, 0]]])
    np.testing.assert_array_equal(points[0], [[2, 1, depth[2, 4]]])


@pytest.fixture
def synthia(tmp_path):
    root = Path(tmp_path) / 'synthia'
    layouts.write_synthia(root, num=2, hw=(24, 40))
    layouts.convert('synthia', root)
    return root


def test_tool_writes_a_file_the_depth_term_accepts(synthia, tmp_path):
    out = tmp_path / 'gmm.json'
    assert tool.main([str(synthia), '--num-classes', '7', '--grid-size', '5',
                      '3', '--num-components', '2', '--out', str(out)]) == 0
    gmm = load_class_gmm(str(out), num_classes=7, grid_size=(5, 3))
    assert gmm['data']['num_images'] == 2
    assert gmm['settings']['covariance_type'] == 'diag'
    # Every labelled grid cell of both images is a point of its class.
    cells = 0
    for name in ('0000000', '0000001'):
        label = cv2.imread(
            str(synthia / 'GT' / 'LABELS' / f'{name}_labelTrainIds7.png'),
            cv2.IMREAD_UNCHANGED)
        small = cv2.resize(label, (5, 3), interpolation=cv2.INTER_NEAREST)
        cells += int((small < 7).sum())
    assert sum(c['num_points'] for c in gmm['classes']) == cells
    again = tmp_path / 'again.json'
    tool.main([str(synthia), '--num-classes', '7', '--grid-size', '5', '3',
               '--num-components', '2', '--out', str(again)])
    assert json.loads(again.read_text())['classes'] == json.loads(
        out.read_text())['classes']  # seeded


def test_bad_depth_files_are_named(synthia, tmp_path):
    depth = synthia / 'Depth' / 'Depth' / '0000001.png'
    cv2.imwrite(str(depth), np.zeros((24, 40), np.uint8))  # 8-bit
    out = tmp_path / 'gmm.json'
    argv = [str(synthia), '--num-classes', '7', '--out', str(out)]
    with pytest.raises(CorruptFileError, match='0000001.png.*uint8'):
        tool.main(argv)
    depth.unlink()
    with pytest.raises(DataRootError, match='0000001'):
        tool.main(argv)
    assert not out.exists()
