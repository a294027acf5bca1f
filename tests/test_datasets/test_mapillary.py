import os.path as osp
import re

import numpy as np
import publisher_layouts as layouts
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_uda.datasets import MapillaryDataset, SynthiaDataset, UDADataset
from mmseg_uda.datasets.class_tables import (MAPILLARY_SEVEN_GROUPS,
                                             MAPILLARY_V12_CLASSES)
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.mapillary import RELEASED_IMAGE_LISTS


def test_registered_with_7_classes():
    assert DATASETS.get('MapillaryDataset') is MapillaryDataset
    assert MapillaryDataset.METAINFO['classes'] == layouts.NAMES_7


def test_grouping_by_name_matches_the_documented_ids():
    # The id table in publisher_layouts is written by id; the module's by
    # Vistas name: both must say the same, and no class is in two groups.
    by_name = {}
    for group, names in MAPILLARY_SEVEN_GROUPS.items():
        for name in names:
            assert name not in by_name
            by_name[name] = layouts.NAMES_7.index(group)
    assert len(MAPILLARY_V12_CLASSES) == 66
    assert {
        MAPILLARY_V12_CLASSES.index(n): c
        for n, c in by_name.items()
    } == layouts.VISTAS_ID_TO_7
    assert MAPILLARY_V12_CLASSES[13] == 'Road'
    assert MAPILLARY_V12_CLASSES[65] == 'Unlabeled'


def test_validation_labels_through_the_pipeline(tmp_path):
    init_default_scope('mmseg')
    raws = layouts.write_mapillary(tmp_path)
    layouts.convert('mapillary', tmp_path)
    dataset = MapillaryDataset(
        data_root=str(tmp_path),
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='CheckedLoadAnnotations'),
            dict(type='CheckSegMapSize')
        ])
    assert len(dataset) == 2
    for i in range(2):
        results = dataset[i]
        rel = results['seg_map_path'][len(str(tmp_path)) + 1:]
        raw = raws[rel.replace('_labelTrainIds7.png', '.png')]
        np.testing.assert_array_equal(
            results['gt_seg_map'], layouts.expected(raw,
                                                    layouts.VISTAS_ID_TO_7))


def test_training_images_as_unlabelled_target(tmp_path):
    layouts.write_mapillary(tmp_path, num_train=3)
    dataset = MapillaryDataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='training/images'))
    assert len(dataset) == 3


def test_unconverted_names_the_converter(tmp_path):
    layouts.write_mapillary(tmp_path)
    with pytest.raises(DataRootError) as err:
        MapillaryDataset(data_root=str(tmp_path))
    assert 'val_0000_labelTrainIds7.png' in str(err.value)
    assert f'python tools/dataset_converters/mapillary.py {tmp_path}' in \
        str(err.value)


def test_pairs_with_synthia_7_not_16(tmp_path):
    layouts.write_synthia(tmp_path / 'syn', num=1, with_depth=False)
    layouts.convert('synthia', tmp_path / 'syn')
    layouts.write_mapillary(tmp_path / 'map')
    target = MapillaryDataset(
        data_root=str(tmp_path / 'map'),
        data_prefix=dict(img_path='training/images'))
    UDADataset(
        SynthiaDataset(data_root=str(tmp_path / 'syn'), num_classes=7), target)
    with pytest.raises(ValueError, match="only in the target: \\['flat'"):
        UDADataset(SynthiaDataset(data_root=str(tmp_path / 'syn')), target)


# --- the release's self-training set: an image list, in its order ---


def write_training_images(root, names):
    folder = root / 'training' / 'images'
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f'{name}.jpg').write_bytes(b'')  # existence is checked


def test_released_list_is_the_release_s_9000_names_unsorted():
    path = RELEASED_IMAGE_LISTS['depth-selftrain']
    with open(path) as f:
        text = f.read()
    names = text.split('\n')
    # the release's selftrain.txt: 9,000 lines of '<22-char id>.jpg'
    # (243,000 bytes less the missing final newline), first and last
    # entries as in the release
    assert len(text) == 9000 * 27 - 1
    assert len(names) == len(set(names)) == 9000
    assert all(
        re.fullmatch(r'[A-Za-z0-9_-]{22}\.jpg', name) for name in names)
    assert names[0] == 'ygJrxprMc607g3oDxyHt_Q.jpg'
    assert names[-1] == 'O4d9rV5EARz2zDYDakezrA.jpg'
    # the release's order, not the sorted one
    assert names != sorted(names)


def test_image_list_keeps_the_list_order_and_indices_take_its_head(
        tmp_path):
    write_training_images(tmp_path, ['a', 'b', 'c', 'd'])
    (tmp_path / 'list.txt').write_text('c.jpg\na\n\nd.jpg\n')
    dataset = MapillaryDataset(
        data_root=str(tmp_path), image_list='list.txt',
        data_prefix=dict(img_path='training/images'), indices=2)
    assert [osp.basename(dataset.get_data_info(i)['img_path'])
            for i in range(len(dataset))] == ['c.jpg', 'a.jpg']
    # without a list: the folder's sorted files
    plain = MapillaryDataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='training/images'))
    assert [osp.basename(plain.get_data_info(i)['img_path'])
            for i in range(len(plain))] == ['a.jpg', 'b.jpg', 'c.jpg',
                                            'd.jpg']


def test_released_list_by_name_in_the_release_order(tmp_path):
    with open(RELEASED_IMAGE_LISTS['depth-selftrain']) as f:
        names = [line.strip()[:-len('.jpg')] for line in f]
    write_training_images(tmp_path, names)
    dataset = MapillaryDataset(
        data_root=str(tmp_path), image_list='depth-selftrain', indices=9000,
        data_prefix=dict(img_path='training/images',
                         seg_map_path='pseudo'),
        require_labels=False, lazy_init=False)
    assert len(dataset) == 9000
    first = dataset.get_data_info(0)
    assert first['img_path'].endswith('training/images/' + names[0] + '.jpg')
    assert first['seg_map_path'].endswith(
        'pseudo/' + names[0] + '_labelTrainIds7.png')
    assert osp.basename(dataset.get_data_info(8999)['img_path']) == \
        names[-1] + '.jpg'


def test_image_list_errors_name_the_file(tmp_path):
    write_training_images(tmp_path, ['a'])
    kwargs = dict(data_root=str(tmp_path),
                  data_prefix=dict(img_path='training/images'))
    with pytest.raises(FileNotFoundError, match='nope.txt.*depth-selftrain'):
        MapillaryDataset(image_list='nope.txt', **kwargs)
    (tmp_path / 'twice.txt').write_text('a.jpg\na\n')
    with pytest.raises(ValueError, match="twice.txt.*'a'"):
        MapillaryDataset(image_list='twice.txt', **kwargs)
    (tmp_path / 'empty.txt').write_text('\n')
    with pytest.raises(ValueError, match='empty.txt.*empty'):
        MapillaryDataset(image_list='empty.txt', **kwargs)
    (tmp_path / 'missing.txt').write_text('a\nb.jpg\n')
    with pytest.raises(DataRootError, match='b.jpg'):
        MapillaryDataset(image_list='missing.txt', **kwargs)
