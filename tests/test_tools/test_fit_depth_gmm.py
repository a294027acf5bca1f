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
from PIL import Image

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


def pillow_nearest(frame, grid_wh):
    """Pillow's nearest resize of an (H, W) uint8 or float32 array."""
    return np.asarray(Image.fromarray(frame).resize(tuple(grid_wh),
                                                    Image.NEAREST))


def expected_points(label, depth, grid_wh, num_classes):
    """Class -> (column, row, d) of the grid cells whose label, read at the
    cell centre as the depth is (Pillow nearest), is that class."""
    labels, depths = (pillow_nearest(label, grid_wh),
                      pillow_nearest(depth, grid_wh))
    points = {}
    for row in range(labels.shape[0]):
        for col in range(labels.shape[1]):
            c = int(labels[row, col])
            if c < num_classes:
                points.setdefault(c, []).append((col, row, depths[row, col]))
    return {c: np.array(p, np.float64) for c, p in points.items()}


# the 161x96 grid of SYNTHIA's 1280x760 frame, and a small odd frame
@pytest.mark.parametrize('frame_hw, grid_wh', [((760, 1280), (161, 96)),
                                               ((23, 37), (5, 3))])
def test_grid_points_are_read_at_cell_centres(frame_hw, grid_wh):
    rows, cols = np.indices(frame_hw)
    # a label changing pixel by pixel (ids 0-2, 9 outside a 3-class
    # setting, 255) and distinct depths
    label = np.array([0, 1, 2, 9, 255], np.uint8)[(7 * rows + 3 * cols) % 5]
    depth = (1 + rows * frame_hw[1] + cols).astype(np.float32)
    points = tool.grid_points(label, depth, grid_wh, num_classes=3)
    expected = expected_points(label, depth, grid_wh, 3)
    assert set(points) == set(expected) == {0, 1, 2}
    for c in expected:
        np.testing.assert_array_equal(points[c], expected[c])
    # not the cells' top-left pixel (cv2's and torch's nearest)
    top_left = cv2.resize(depth, grid_wh, interpolation=cv2.INTER_NEAREST)
    assert not np.isin(points[0][:, 2], top_left).all()


def test_grid_points_of_a_resized_input_frame():
    """--input-size: the label and depth are first resized to the training
    input (Pillow nearest, the configs' ResizeWithDepth), then read at cell
    centres."""
    rows, cols = np.indices((76, 128))
    label = np.array([0, 1, 255], np.uint8)[(5 * rows + cols) % 3]
    depth = (1 + rows * 128 + cols).astype(np.float32)
    points = tool.grid_points(label, depth, (9, 5), num_classes=2,
                              input_size=(64, 40))
    frame = [np.array(Image.fromarray(a).resize((64, 40), Image.NEAREST))
             for a in (label, depth)]
    expected = expected_points(*frame, (9, 5), 2)
    assert set(points) == set(expected) == {0, 1}
    for c in expected:
        np.testing.assert_array_equal(points[c], expected[c])


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
        cells += int((pillow_nearest(label, (5, 3)) < 7).sum())
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
