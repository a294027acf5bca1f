import re

import numpy as np
import pytest
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmseg_uda.datasets.transforms import CheckedLoadAnnotations
from mmseg_uda.datasets.transforms.checked_load_annotations import \
    LabelValueError
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


def _label(tmp_path, values, name='l_labelTrainIds.png'):
    path = tmp_path / name
    Image.fromarray(np.array(values, np.uint8)).save(path)
    return path


def test_out_of_range_value_names_file_and_value(tmp_path):
    path = _label(tmp_path, [[0, 18, 255], [50, 50, 7]])
    results = dict(_results(path), num_classes=19)  # set by our datasets
    with pytest.raises(LabelValueError) as err:
        CheckedLoadAnnotations()(results)
    message = str(err.value)
    assert str(path) in message
    assert 'value(s) 50 in 2 pixel(s)' in message
    assert '19 classes (0..18)' in message and 'ignore index 255' in message


def test_class_count_from_the_argument_wins(tmp_path):
    path = _label(tmp_path, [[0, 15, 255], [1, 1, 1]])
    results = CheckedLoadAnnotations()(dict(_results(path), num_classes=16))
    np.testing.assert_array_equal(results['gt_seg_map'],
                                  [[0, 15, 255], [1, 1, 1]])
    with pytest.raises(LabelValueError, match='value.s. 15 .*13 classes'):
        CheckedLoadAnnotations(num_classes=13)(
            dict(_results(path), num_classes=16))
    # another ignore index makes 255 a bad value
    with pytest.raises(LabelValueError, match='value.s. 255'):
        CheckedLoadAnnotations(ignore_index=254)(
            dict(_results(path), num_classes=16))


def test_without_a_class_count_values_are_not_checked(tmp_path):
    path = _label(tmp_path, [[0, 50]])
    results = CheckedLoadAnnotations()(_results(path))
    assert results['gt_seg_map'].max() == 50


def test_demo_datasets_report_their_class_count(demo_data, tmp_path):
    import shutil

    from mmseg_uda.datasets import CityscapesUDADataset, GTA5Dataset
    gta5 = GTA5Dataset(data_root=demo_data.gta5)
    assert gta5.get_data_info(0)['num_classes'] == 19
    city16 = CityscapesUDADataset(
        data_root=demo_data.cityscapes, num_classes=16,
        data_prefix=dict(img_path='leftImg8bit/val',
                         seg_map_path='gtFine/val'))
    assert city16.get_data_info(0)['num_classes'] == 16
    # a training label with an out-of-range id fails at load, named
    root = tmp_path / 'gta5'
    shutil.copytree(demo_data.gta5, root)
    dataset = GTA5Dataset(
        data_root=str(root),
        pipeline=[dict(type='CheckedLoadAnnotations')])
    bad = dataset.get_data_info(1)['seg_map_path']
    label = np.array(Image.open(bad))
    label[0, :3] = 50
    Image.fromarray(label).save(bad)
    dataset[0]  # a good label loads
    with pytest.raises(LabelValueError, match=re.escape(bad) + '.* 50 in 3'):
        dataset[1]
