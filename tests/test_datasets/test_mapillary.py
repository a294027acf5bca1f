import numpy as np
import publisher_layouts as layouts
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_uda.datasets import MapillaryDataset, SynthiaDataset, UDADataset
from mmseg_uda.datasets.class_tables import (MAPILLARY_SEVEN_GROUPS,
                                             MAPILLARY_V12_CLASSES)
from mmseg_uda.datasets.data_root_check import DataRootError


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
