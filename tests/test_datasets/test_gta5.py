import re

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_uda.datasets import GTA5Dataset
from mmseg_uda.datasets.transforms.checked_load_image import CorruptFileError

PIPELINE = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize')
]


def _write_converted_gta5(root, num: int = 3, hw=(6, 8)) -> list:
    """GTA5 layout after conversion; returns the train-id labels."""
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    rng = np.random.default_rng(0)
    labels = []
    for i in range(num, 0, -1):  # written in reverse to test the sorting
        name = f'{i:05d}'
        Image.fromarray(rng.integers(0, 256, (*hw, 3), np.uint8)).save(
            root / 'images' / f'{name}.png')
        # The raw label (ids) sits next to the converted one.
        Image.fromarray(np.full(hw, 7, np.uint8)).save(root / 'labels' /
                                                       f'{name}.png')
        label = rng.choice([0, 5, 18, 255], size=hw).astype(np.uint8)
        Image.fromarray(label).save(root / 'labels' /
                                    f'{name}_labelTrainIds.png')
        labels.insert(0, label)
    return labels


def test_registered_with_cityscapes_classes():
    assert DATASETS.get('GTA5Dataset') is GTA5Dataset
    assert len(GTA5Dataset.METAINFO['classes']) == 19
    assert GTA5Dataset.METAINFO['classes'][13] == 'car'
    assert GTA5Dataset.METAINFO['palette'][0] == [128, 64, 128]


def test_lists_images_with_converted_labels(tmp_path):
    _write_converted_gta5(tmp_path)
    dataset = GTA5Dataset(data_root=str(tmp_path))
    assert len(dataset) == 3
    info = dataset.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'images' / '00001.png')
    assert info['seg_map_path'] == str(tmp_path / 'labels' /
                                       '00001_labelTrainIds.png')
    assert dataset.get_data_info(2)['img_path'].endswith('00003.png')


def test_pipeline_yields_train_ids(tmp_path):
    init_default_scope('mmseg')
    labels = _write_converted_gta5(tmp_path)
    dataset = GTA5Dataset(data_root=str(tmp_path), pipeline=PIPELINE)
    for i, expected in enumerate(labels):
        results = dataset[i]
        assert results['img'].shape == (6, 8, 3)
        np.testing.assert_array_equal(results['gt_seg_map'], expected)
        values = set(np.unique(results['gt_seg_map']).tolist())
        assert values <= set(range(19)) | {255}


def test_wrong_size_label_names_both_files(tmp_path):
    init_default_scope('mmseg')
    _write_converted_gta5(tmp_path)
    bad = tmp_path / 'labels' / '00002_labelTrainIds.png'
    Image.fromarray(np.zeros((5, 8), np.uint8)).save(bad)
    dataset = GTA5Dataset(data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(ValueError) as err:
        dataset[1]
    message = str(err.value)
    assert str(bad) in message and '00002.png' in message
    assert '(5, 8)' in message and '(6, 8)' in message


def test_unreadable_image_names_the_file(tmp_path):
    init_default_scope('mmseg')
    _write_converted_gta5(tmp_path)
    bad = tmp_path / 'images' / '00003.png'
    bad.write_bytes(b'')
    dataset = GTA5Dataset(data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(CorruptFileError, match=re.escape(str(bad))):
        dataset[2]
