"""tools/generate_demo_data.py --num-synthia: a SYNTHIA-like source in the
RAND-CITYSCAPES layout with 16-bit labels (class in red) and 16-bit depth
maps that the SYNTHIA dataset and the depth loader read."""
import importlib.util
import os.path as osp

import cv2
import numpy as np

from mmseg_uda.datasets.class_tables import SYNTHIA_ID_TO_TRAINID
from mmseg_uda.datasets.transforms.load_depth import read_synthia_depth

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def test_synthia_like_samples_with_depth(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'generate_demo_data', osp.join(REPO, 'tools', 'generate_demo_data.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([str(tmp_path), '--num-source', '0', '--num-target',
                      '0', '--num-val', '0', '--num-synthia', '2']) == 0
    root = tmp_path / 'synthia'
    for name in ('0000000.png', '0000001.png'):
        assert cv2.imread(str(root / 'RGB' / name)).shape == (192, 320, 3)
        label = cv2.imread(str(root / 'GT' / 'LABELS' / name),
                           cv2.IMREAD_UNCHANGED)
        assert label.dtype == np.uint16 and label.shape == (192, 320, 3)
        red = label[..., 2]
        assert set(np.unique(red)) <= set(SYNTHIA_ID_TO_TRAINID) | {0}
        depth = read_synthia_depth(str(root / 'Depth' / 'Depth' / name))
        assert (depth[red == 1] == 65535).all()  # sky
        ground = np.isin(red, (3, 4))  # road, sidewalk
        rows = np.nonzero(ground.any(axis=1))[0]
        # nearer (smaller raw depth) towards the bottom of the image
        assert depth[rows[-1]][ground[rows[-1]]].max() < \
            depth[rows[0]][ground[rows[0]]].min()
