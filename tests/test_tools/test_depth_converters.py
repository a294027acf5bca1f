"""The 7-class tables of the depth release in the converters (METHODS.md
6.3): every Vistas v1.2 id as listed by name, a newer Vistas label named in
the summary, and the Cityscapes -> 7 conversion of every label id."""
import importlib.util
from pathlib import Path

import numpy as np
import publisher_layouts as layouts
from PIL import Image

from mmseg_uda.datasets.class_tables import (CITYSCAPES_SEVEN_LUT,
                                             MAPILLARY_SEVEN_LUT,
                                             MAPILLARY_V12_CLASSES)

REPO = Path(__file__).resolve().parents[2]

# METHODS.md 6.3, by Vistas name; everything else is ignored.
RELEASE_GROUPS = {
    0: ['Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Parking',
        'Pedestrian Area', 'Rail Track', 'Road', 'Service Lane', 'Sidewalk',
        'Lane Marking - Crosswalk', 'Lane Marking - General', 'Terrain'],
    1: ['Curb', 'Fence', 'Guard Rail', 'Barrier', 'Wall', 'Bridge',
        'Building', 'Tunnel'],
    2: ['Pothole', 'Street Light', 'Pole', 'Traffic Sign Frame',
        'Utility Pole', 'Traffic Light', 'Traffic Sign (Back)',
        'Traffic Sign (Front)'],
    3: ['Vegetation'],
    4: ['Sky'],
    5: ['Person', 'Bicyclist', 'Motorcyclist', 'Other Rider'],
    6: ['Bicycle', 'Boat', 'Bus', 'Car', 'Caravan', 'Motorcycle', 'On Rails',
        'Other Vehicle', 'Trailer', 'Truck', 'Wheeled Slow'],
}


def tool(name):
    path = REPO / 'tools' / 'dataset_converters' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'{name}_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_vistas_id_maps_as_the_release_says():
    by_name = {n: c for c, names in RELEASE_GROUPS.items() for n in names}
    assert set(by_name) <= set(MAPILLARY_V12_CLASSES)
    for vistas_id, name in enumerate(MAPILLARY_V12_CLASSES):
        assert MAPILLARY_SEVEN_LUT[vistas_id] == by_name.get(name, 255), name
    for name in ('Catch Basin', 'Manhole', 'Mountain', 'Sand', 'Snow',
                 'Water', 'Banner', 'Car Mount', 'Ego Vehicle', 'Unlabeled'):
        assert MAPILLARY_SEVEN_LUT[MAPILLARY_V12_CLASSES.index(name)] == 255
    assert (MAPILLARY_SEVEN_LUT[66:] == 255).all()


def test_every_cityscapes_id_maps_as_the_release_says():
    names = {7: 0, 8: 0, 11: 1, 12: 1, 13: 1, 17: 2, 19: 2, 20: 2, 21: 3,
             22: 3, 23: 4, 24: 5, 25: 5}
    names.update({i: 6 for i in (26, 27, 28, 29, 30, 31, 32, 33)})
    for label_id in range(256):
        assert CITYSCAPES_SEVEN_LUT[label_id] == names.get(label_id, 255)


def test_newer_vistas_label_fails_with_file_and_id(tmp_path, capsys):
    layouts.write_mapillary(tmp_path, num_val=2)
    bad = tmp_path / 'validation' / 'labels' / 'val_0001.png'
    ids = np.array(Image.open(bad))
    ids[0, 0] = 118  # a Vistas v2.0 class id
    label = Image.fromarray(ids)
    label.putpalette([0] * 768)
    label.save(bad)
    assert tool('mapillary').main([str(tmp_path)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert 'val_0001.png' in text and '118' in text and 'v1.2' in text
    # the good label is written
    assert (tmp_path / 'validation' / 'labels' /
            'val_0000_labelTrainIds7.png').is_file()
