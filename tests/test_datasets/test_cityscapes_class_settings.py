import numpy as np
import publisher_layouts as layouts
import pytest
from mmengine.registry import init_default_scope

from mmseg_uda.datasets import CityscapesUDADataset
from mmseg_uda.datasets.class_tables import (CLASS_SETTINGS, get_class_setting,
                                             train_id_suffix)
from mmseg_uda.datasets.data_root_check import DataRootError

PIPELINE = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize')
]
TRAIN = dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('cityscapes')
    raws = layouts.write_cityscapes(root)
    layouts.convert('cityscapes', root)
    return root, raws


def test_suffixes_and_settings():
    assert train_id_suffix(19) == '_labelTrainIds.png'
    assert train_id_suffix(16) == '_labelTrainIds16.png'
    assert train_id_suffix(7, '_gtFine_labelTrainIds') == \
        '_gtFine_labelTrainIds7.png'
    assert sorted(CLASS_SETTINGS) == [7, 13, 16, 19]
    assert CLASS_SETTINGS[13].classes == tuple(layouts.NAMES_19[i]
                                               for i in layouts.KEEP_13)
    with pytest.raises(
            ValueError,
            match=r'Foo: num_classes must be one of '
            r'\[19, 7\], got 16'):
        get_class_setting(16, (19, 7), 'Foo')


@pytest.mark.parametrize('num_classes,table', [
    (19, layouts.CS_ID_TO_19),
    (16, layouts.CS_ID_TO_16),
    (13, layouts.CS_ID_TO_13),
    (7, layouts.CS_ID_TO_7),
])
def test_each_setting_reads_its_labels(cityscapes, num_classes, table):
    init_default_scope('mmseg')
    root, raws = cityscapes
    dataset = CityscapesUDADataset(
        data_root=str(root),
        num_classes=num_classes,
        data_prefix=TRAIN,
        pipeline=PIPELINE)
    assert dataset.metainfo['classes'] == \
        CLASS_SETTINGS[num_classes].classes
    assert len(dataset.metainfo['palette']) == num_classes
    assert len(dataset) == 2
    for i in range(len(dataset)):
        results = dataset[i]
        rel = results['seg_map_path'][len(str(root)) + 1:]
        tag = '' if num_classes == 19 else str(num_classes)
        assert rel.endswith(f'_gtFine_labelTrainIds{tag}.png')
        raw = raws[rel.replace(f'_labelTrainIds{tag}.png', '_labelIds.png')]
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      layouts.expected(raw, table))


def test_default_is_19_classes_as_mmseg(cityscapes):
    root, _ = cityscapes
    dataset = CityscapesUDADataset(data_root=str(root), data_prefix=TRAIN)
    assert dataset.seg_map_suffix == '_gtFine_labelTrainIds.png'
    assert len(dataset.metainfo['classes']) == 19


def test_metainfo_may_restate_classes_and_recolour(cityscapes):
    root, _ = cityscapes
    palette = [[i, i, i] for i in range(7)]
    dataset = CityscapesUDADataset(
        data_root=str(root),
        num_classes=7,
        data_prefix=TRAIN,
        metainfo=dict(classes=layouts.NAMES_7, palette=palette))
    assert dataset.metainfo['palette'] == palette
    assert dataset.metainfo['label_map'] is None
    with pytest.raises(ValueError, match='3 colours for 7 classes'):
        CityscapesUDADataset(
            data_root=str(root),
            num_classes=7,
            data_prefix=TRAIN,
            metainfo=dict(palette=palette[:3]))


def test_missing_setting_files_name_the_converter(tmp_path):
    layouts.write_cityscapes(tmp_path, splits=(('train', 'ulm'), ))
    label = (
        tmp_path / 'gtFine' / 'train' / 'ulm' /
        'ulm_000000_000000_gtFine_labelTrainIds13.png')
    with pytest.raises(DataRootError) as err:
        CityscapesUDADataset(
            data_root=str(tmp_path), num_classes=13, data_prefix=TRAIN)
    assert str(label) in str(err.value)
    assert f'python tools/dataset_converters/cityscapes.py {tmp_path}' in \
        str(err.value)
