import re

import numpy as np
import pytest
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmseg_uda.datasets.transforms import CheckedLoadAnnotations
from mmseg_uda.datasets.transforms.checked_load_image import CorruptFileError


def _results(path) -> dict:
    return dict(seg_map_path=str(path), seg_fields=[], reduce_zero_label=False)


def test_registered():
    assert TRANSFORMS.get('CheckedLoadAnnotations') is CheckedLoadAnnotations
    assert issubclass(CheckedLoadAnnotations, LoadAnnotations)


def test_loads_like_mmseg(tmp_path):
    label = np.array([[0, 18, 255], [3, 3, 7]], np.uint8)
    Image.fromarray(label).save(tmp_path / 'l.png')
    results = CheckedLoadAnnotations()(_results(tmp_path / 'l.png'))
    np.testing.assert_array_equal(results['gt_seg_map'], label)
    assert results['seg_fields'] == ['gt_seg_map']


def test_mmseg_does_not_name_a_corrupt_label(tmp_path):
    path = tmp_path / 'bad.png'
    path.write_bytes(b'not a png')
    with pytest.raises(Exception) as err:
        LoadAnnotations()(_results(path))
    assert str(path) not in str(err.value)


def test_corrupt_label_is_named(tmp_path):
    path = tmp_path / 'bad_labelTrainIds.png'
    path.write_bytes(b'not a png')
    with pytest.raises(
            CorruptFileError, match='label file.*' + re.escape(str(path))):
        CheckedLoadAnnotations()(_results(path))
