import numpy as np
import publisher_layouts as layouts
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_uda.datasets import CityscapesUDADataset, NTHUDataset, UDADataset
from mmseg_uda.datasets.data_root_check import DataRootError

PIPELINE = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize')
]
NAMES_13 = tuple(layouts.NAMES_19[i] for i in layouts.KEEP_13)


@pytest.fixture(scope='module')
def nthu(tmp_path_factory):
    root = tmp_path_factory.mktemp('nthu')
    raws = layouts.write_nthu(root, cities=('Rome', 'Tokyo'), num_train=3)
    layouts.convert('nthu', root)
    return root, raws


def test_registered_with_13_classes():
    assert DATASETS.get('NTHUDataset') is NTHUDataset
    assert NTHUDataset.METAINFO['classes'] == NAMES_13
    assert len(NTHUDataset.METAINFO['palette']) == 13


@pytest.mark.parametrize('city', ['Rome', 'Tokyo'])
def test_test_split_of_a_city(nthu, city):
    init_default_scope('mmseg')
    root, raws = nthu
    dataset = NTHUDataset(data_root=str(root), city=city, pipeline=PIPELINE)
    assert len(dataset) == 2 and dataset.metainfo['city'] == city
    for i in range(2):
        results = dataset[i]
        assert f'/{city}/Images/Test/' in results['img_path']
        rel = results['seg_map_path'][len(str(root)) + 1:]
        raw = raws[rel.replace('_labelTrainIds13.png', '_eval.png')]
        np.testing.assert_array_equal(
            results['gt_seg_map'], layouts.expected(raw, layouts.CS_ID_TO_13))


def test_train_split_is_unlabeled(nthu):
    init_default_scope('mmseg')
    root, _ = nthu
    dataset = NTHUDataset(
        data_root=str(root),
        city='Tokyo',
        split='train',
        pipeline=[dict(type='CheckedLoadImageFromFile')])
    assert len(dataset) == 3
    assert 'seg_map_path' not in dataset.get_data_info(0)
    assert dataset[0]['img'].shape == (16, 16, 3)


def test_city_folder_as_data_root(nthu):
    root, _ = nthu
    dataset = NTHUDataset(data_root=str(root / 'Rome'))
    assert len(dataset) == 2


def test_bad_arguments_and_missing_city(nthu):
    root, _ = nthu
    with pytest.raises(ValueError, match="city must be one of.*'Paris'"):
        NTHUDataset(data_root=str(root), city='Paris')
    with pytest.raises(ValueError, match="split must be one of.*'val'"):
        NTHUDataset(data_root=str(root), city='Rome', split='val')
    with pytest.raises(DataRootError) as err:
        NTHUDataset(data_root=str(root), city='Rio')
    assert str(root / 'Rio' / 'Images' / 'Test') in str(err.value)
    assert f'python tools/dataset_converters/nthu.py {root}' in str(err.value)


def test_cityscapes_13_pairs_with_nthu(nthu, tmp_path):
    root, _ = nthu
    layouts.write_cityscapes(tmp_path, splits=(('train', 'ulm'), ))
    layouts.convert('cityscapes', tmp_path)
    source = CityscapesUDADataset(
        data_root=str(tmp_path),
        num_classes=13,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'))
    target = NTHUDataset(data_root=str(root), city='Rome', split='train')
    assert UDADataset(source, target).metainfo['classes'] == NAMES_13
