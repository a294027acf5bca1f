import numpy as np
import publisher_layouts as layouts
import pytest

from mmseg_uda.datasets import class_tables as ct

# The Cityscapes label definitions (name, label id, train id), written out
# independently of the module under test; 255 = ignored in evaluation.
# yapf: disable
CITYSCAPES_LABELS = [
    ('unlabeled', 0, 255), ('ego vehicle', 1, 255),
    ('rectification border', 2, 255), ('out of roi', 3, 255),
    ('static', 4, 255), ('dynamic', 5, 255), ('ground', 6, 255),
    ('road', 7, 0), ('sidewalk', 8, 1), ('parking', 9, 255),
    ('rail track', 10, 255), ('building', 11, 2), ('wall', 12, 3),
    ('fence', 13, 4), ('guard rail', 14, 255), ('bridge', 15, 255),
    ('tunnel', 16, 255), ('pole', 17, 5), ('polegroup', 18, 255),
    ('traffic light', 19, 6), ('traffic sign', 20, 7),
    ('vegetation', 21, 8), ('terrain', 22, 9), ('sky', 23, 10),
    ('person', 24, 11), ('rider', 25, 12), ('car', 26, 13),
    ('truck', 27, 14), ('bus', 28, 15), ('caravan', 29, 255),
    ('trailer', 30, 255), ('train', 31, 16), ('motorcycle', 32, 17),
    ('bicycle', 33, 18)
]

# SYNTHIA raw class ids by name (METHODS.md §0).
SYNTHIA_NAMES = {
    1: 'sky', 2: 'building', 3: 'road', 4: 'sidewalk', 5: 'fence',
    6: 'vegetation', 7: 'pole', 8: 'car', 9: 'traffic sign', 10: 'person',
    11: 'bicycle', 12: 'motorcycle', 15: 'traffic light', 16: 'terrain',
    17: 'rider', 18: 'truck', 19: 'bus', 20: 'train', 21: 'wall'
}
# yapf: enable


def test_cityscapes_lut_matches_label_definitions():
    expected = np.full(256, 255)
    for name, label_id, train_id in CITYSCAPES_LABELS:
        expected[label_id] = train_id
        if train_id != 255:
            assert ct.CITYSCAPES_CLASSES[train_id] == name
    assert ct.CITYSCAPES_LUT.dtype == np.uint8
    np.testing.assert_array_equal(ct.CITYSCAPES_LUT, expected)


def test_names_and_palette_come_from_mmseg():
    from mmseg.datasets import CityscapesDataset
    assert len(ct.CITYSCAPES_CLASSES) == 19
    assert list(ct.CITYSCAPES_CLASSES) == list(
        CityscapesDataset.METAINFO['classes'])
    assert [list(c) for c in ct.CITYSCAPES_PALETTE] == \
        CityscapesDataset.METAINFO['palette']


def test_label_id_palette_colours_train_classes_like_mmseg():
    palette = ct.label_id_palette().reshape(256, 3)
    for _, label_id, train_id in CITYSCAPES_LABELS:
        if train_id != 255:
            assert tuple(palette[label_id]) == ct.CITYSCAPES_PALETTE[train_id]
    assert not palette[34:].any()


def test_synthia_lut_maps_by_class_name():
    expected = np.full(256, 255)
    for raw_id, name in SYNTHIA_NAMES.items():
        expected[raw_id] = ct.CITYSCAPES_CLASSES.index(name)
    np.testing.assert_array_equal(ct.SYNTHIA_LUT, expected)
    # void, parking, road-work and lane marking are ignored
    assert all(ct.SYNTHIA_LUT[i] == 255 for i in (0, 13, 14, 22))


def test_synthia_16_and_13_class_subsets():
    assert ct.SYNTHIA_16_CLASSES == ('road', 'sidewalk', 'building', 'wall',
                                     'fence', 'pole', 'traffic light',
                                     'traffic sign', 'vegetation', 'sky',
                                     'person', 'rider', 'car', 'bus',
                                     'motorcycle', 'bicycle')
    assert ct.SYNTHIA_13_CLASSES == tuple(
        n for n in ct.SYNTHIA_16_CLASSES if n not in ('wall', 'fence', 'pole'))
    lut = ct.TRAINID_TO_SYNTHIA_16_LUT
    # terrain (9), truck (14), train (16) and ignore leave the 16 classes
    assert [lut[i] for i in (9, 14, 16, 255)] == [255] * 4
    assert [lut[i] for i in (8, 10, 18)] == [8, 9, 15]
    lut13 = ct.TRAINID_TO_SYNTHIA_13_LUT
    assert [lut13[i] for i in (2, 3, 4, 5, 6, 18)] == [2, 255, 255, 255, 3, 12]


def test_nthu_13_classes():
    assert ct.NTHU_13_CLASSES == ('road', 'sidewalk', 'building',
                                  'traffic light', 'traffic sign',
                                  'vegetation', 'sky', 'person', 'rider',
                                  'car', 'bus', 'motorcycle', 'bicycle')
    lut = ct.TRAINID_TO_NTHU_13_LUT
    kept = [i for i in range(256) if lut[i] != 255]
    assert kept == [0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]
    assert [lut[i] for i in kept] == list(range(13))


def test_seven_class_tables():
    assert ct.SEVEN_CLASSES == ('flat', 'construction', 'object', 'nature',
                                'sky', 'human', 'vehicle')
    synthia = {
        1: 4,
        2: 1,
        3: 0,
        4: 0,
        5: 1,
        6: 3,
        7: 2,
        8: 6,
        9: 2,
        10: 5,
        11: 6,
        15: 2,
        22: 0
    }
    expected = np.full(256, 255)
    for raw_id, cat in synthia.items():
        expected[raw_id] = cat
    np.testing.assert_array_equal(ct.SYNTHIA_SEVEN_LUT, expected)

    group_of = {
        'road': 'flat',
        'sidewalk': 'flat',
        'building': 'construction',
        'wall': 'construction',
        'fence': 'construction',
        'pole': 'object',
        'traffic light': 'object',
        'traffic sign': 'object',
        'vegetation': 'nature',
        'terrain': 'nature',
        'sky': 'sky',
        'person': 'human',
        'rider': 'human',
        'car': 'vehicle',
        'truck': 'vehicle',
        'bus': 'vehicle',
        'train': 'vehicle',
        'motorcycle': 'vehicle',
        'bicycle': 'vehicle'
    }
    for name, label_id, train_id in CITYSCAPES_LABELS:
        if train_id == 255:
            continue
        cat = ct.SEVEN_CLASSES.index(group_of[name])
        assert ct.TRAINID_TO_SEVEN_LUT[train_id] == cat
        assert ct.CITYSCAPES_SEVEN_LUT[label_id] == cat
    # The release's table (METHODS.md 6.3): caravan and trailer are
    # vehicles; parking, rail track, guard rail, bridge, tunnel, pole group
    # and void are ignored. Every id 0..255 is as listed.
    assert ct.CITYSCAPES_SEVEN_LUT[29] == ct.CITYSCAPES_SEVEN_LUT[30] == 6
    for label_id in range(256):
        expected = layouts.CS_ID_TO_7.get(label_id, 255)
        assert ct.CITYSCAPES_SEVEN_LUT[label_id] == expected, label_id
    for label_id in (9, 10, 14, 15, 16, 18):
        assert ct.CITYSCAPES_SEVEN_LUT[label_id] == 255
    # the former grouping by category stays available by name
    assert ct.CITYSCAPES_ID_TO_SEVEN_BY_CATEGORY[9] == 0


def test_build_lut_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match='300'):
        ct.build_lut({300: 1})
    lut = ct.build_lut({3: 7}, ignore_index=250)
    assert lut[3] == 7 and lut[4] == 250 and lut.shape == (256, )
