import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

from mmseg_uda.datasets.transforms import CheckSegMapSize


def _results(img_hw, seg_shape):
    results = dict(
        img=np.zeros((*img_hw, 3), np.uint8),
        img_path='data/images/00042.png',
        seg_fields=[])
    if seg_shape is not None:
        results.update(
            gt_seg_map=np.zeros(seg_shape, np.uint8),
            seg_map_path='data/labels/00042_labelTrainIds.png',
            seg_fields=['gt_seg_map'])
    return results


def test_registered():
    assert TRANSFORMS.get('CheckSegMapSize') is CheckSegMapSize


def test_matching_sizes_pass_unchanged():
    results = _results((4, 6), (4, 6))
    label = results['gt_seg_map']
    out = CheckSegMapSize()(results)
    assert out is results and out['gt_seg_map'] is label


def test_sample_without_label_passes():
    results = _results((4, 6), None)
    assert CheckSegMapSize()(results) is results


@pytest.mark.parametrize('seg_hw', [(4, 5), (3, 6), (6, 4)])
def test_size_mismatch_names_both_files_and_shapes(seg_hw):
    with pytest.raises(ValueError) as err:
        CheckSegMapSize()(_results((4, 6), seg_hw))
    message = str(err.value)
    assert 'data/labels/00042_labelTrainIds.png' in message
    assert 'data/images/00042.png' in message
    assert str(seg_hw) in message and '(4, 6)' in message


def test_colour_label_is_rejected():
    with pytest.raises(ValueError, match=r'00042_labelTrainIds.*\(4, 6, 3\)'):
        CheckSegMapSize()(_results((4, 6), (4, 6, 3)))
