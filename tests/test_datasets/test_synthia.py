import re

import numpy as np
import publisher_layouts as layouts
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_uda.datasets import CityscapesUDADataset, SynthiaDataset, UDADataset
from mmseg_uda.datasets.data_root_check import DataRootError

PIPELINE = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize')
]
DEPTH_PIPELINE = PIPELINE + [
    dict(type='LoadSynthiaDepth'),
    dict(type='PackSegInputs')
]
NAMES_16 = tuple(layouts.NAMES_19[i] for i in layouts.KEEP_16)


@pytest.fixture(scope='module')
def synthia(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthia')
    raws = layouts.write_synthia(root)
    layouts.convert('synthia', root)
    return root, raws


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('cityscapes')
    layouts.write_cityscapes(root)
    layouts.convert('cityscapes', root)
    return root


def test_registered_16_classes_by_default():
    assert DATASETS.get('SynthiaDataset') is SynthiaDataset
    assert SynthiaDataset.METAINFO['classes'] == NAMES_16


@pytest.mark.parametrize('num_classes,table,names', [
    (None, layouts.SYN_ID_TO_16, NAMES_16),
    (16, layouts.SYN_ID_TO_16, NAMES_16),
    (19, layouts.SYN_ID_TO_19, layouts.NAMES_19),
    (7, layouts.SYN_ID_TO_7, layouts.NAMES_7),
])
def test_class_settings_load_their_labels(synthia, num_classes, table, names):
    init_default_scope('mmseg')
    root, raws = synthia
    dataset = SynthiaDataset(
        data_root=str(root), num_classes=num_classes, pipeline=PIPELINE)
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == names
    assert len(dataset.metainfo['palette']) == len(names)
    assert dataset.metainfo['label_map'] is None  # files already remapped
    for i, (name, raw) in enumerate(sorted(raws.items())):
        results = dataset[i]
        assert results['img_path'].endswith(f'RGB/{name}.png')
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      layouts.expected(raw['red'], table))


def test_palette_of_16_classes_follows_cityscapes(synthia):
    root, _ = synthia
    dataset = SynthiaDataset(data_root=str(root))
    city = CityscapesUDADataset.METAINFO
    for name, color in zip(dataset.metainfo['classes'],
                           dataset.metainfo['palette']):
        assert color == city['palette'][city['classes'].index(name)]


def test_with_depth_delivers_65536_over_raw_plus_one(synthia):
    init_default_scope('mmseg')
    root, raws = synthia
    dataset = SynthiaDataset(
        data_root=str(root), with_depth=True, pipeline=DEPTH_PIPELINE)
    assert dataset.get_data_info(1)['depth_map_path'] == str(
        root / 'Depth' / 'Depth' / '0000001.png')
    sample = dataset[1]['data_samples']
    raw = raws['0000001']['depth'].astype(np.float64)
    np.testing.assert_allclose(
        sample.gt_depth_map.data[0].numpy(), 65536.0 / (raw + 1.0), rtol=1e-6)
    assert sample.gt_sem_seg.data.shape == sample.gt_depth_map.data.shape


def test_with_depth_needs_the_loader_and_the_files(synthia, tmp_path):
    root, _ = synthia
    with pytest.raises(ValueError, match='LoadSynthiaDepth'):
        SynthiaDataset(data_root=str(root), with_depth=True, pipeline=PIPELINE)
    with pytest.raises(DataRootError) as err:
        SynthiaDataset(
            data_root=str(root), with_depth=True, depth_prefix='nowhere')
    assert '3 of 3 depth maps' in str(err.value)
    assert str(root / 'nowhere') in str(err.value)


def test_wrong_root_names_folder_and_converter(tmp_path):
    with pytest.raises(DataRootError) as err:
        SynthiaDataset(data_root=str(tmp_path / 'nope'))
    assert str(tmp_path / 'nope' / 'RGB') in str(err.value)
    assert ('python tools/dataset_converters/synthia.py '
            f'{tmp_path / "nope"}') in str(err.value)


def test_unconverted_labels_name_the_converter(tmp_path):
    layouts.write_synthia(tmp_path, num=2, with_depth=False)
    with pytest.raises(DataRootError) as err:
        SynthiaDataset(data_root=str(tmp_path))
    message = str(err.value)
    assert '0000000_labelTrainIds16.png' in message
    assert f'python tools/dataset_converters/synthia.py {tmp_path}' in message


def test_bad_class_settings_are_refused(synthia):
    root, _ = synthia
    with pytest.raises(ValueError, match=r'one of \[16, 19, 7\], got 13'):
        SynthiaDataset(data_root=str(root), num_classes=13)
    with pytest.raises(ValueError, match='num_classes'):
        SynthiaDataset(
            data_root=str(root),
            metainfo=dict(classes=layouts.NAMES_19),
            num_classes=16)


def test_uda_pair_16_and_16_agrees(synthia, cityscapes):
    source = SynthiaDataset(data_root=str(synthia[0]))
    target = CityscapesUDADataset(
        data_root=str(cityscapes),
        num_classes=16,
        data_prefix=dict(img_path='leftImg8bit/train'))
    pair = UDADataset(source, target)
    assert pair.metainfo['classes'] == NAMES_16


def test_uda_pair_16_and_19_names_the_differing_classes(synthia, cityscapes):
    source = SynthiaDataset(data_root=str(synthia[0]))
    target = CityscapesUDADataset(
        data_root=str(cityscapes),
        data_prefix=dict(img_path='leftImg8bit/train'))
    with pytest.raises(ValueError) as err:
        UDADataset(source, target)
    message = str(err.value)
    assert re.search(r"only in the target: \['terrain', 'truck', 'train'\]",
                     message)
    assert 'only in the source: []' in message
