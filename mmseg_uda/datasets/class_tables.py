"""Class tables shared by the GTA5, SYNTHIA, Cityscapes, NTHU and Mapillary
datasets.

Raw label ids are mapped to training ids with 256-entry ``uint8`` lookup
tables (LUTs): ``train_ids = lut[raw_ids]`` for any ``uint8`` array, and every
raw id not named in a table maps to the ignore index 255.

The benchmarks use four class settings (:data:`CLASS_SETTINGS`): the 19
Cityscapes classes, the 16 SYNTHIA classes, the 13 classes of the cross-city
benchmark (which are also the 13 classes of SYNTHIA's mIoU*) and the 7
categories of the depth method. A converted label of setting ``N`` is named
``*_labelTrainIds{N}.png`` (no number for 19 classes), see
:func:`train_id_suffix`.
"""
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import CityscapesDataset, MapillaryDataset_v1

IGNORE_INDEX = 255

# Names and colours of the 19 training classes, taken from MMSeg so that
# visualisations match those of the stock Cityscapes dataset.
CITYSCAPES_CLASSES: Tuple[str,
                          ...] = tuple(CityscapesDataset.METAINFO['classes'])
CITYSCAPES_PALETTE: Tuple[Tuple[int, int, int], ...] = tuple(
    tuple(color) for color in CityscapesDataset.METAINFO['palette'])

# yapf: disable
# Cityscapes label id -> 19 train ids. GTA5 label PNGs use the same ids.
CITYSCAPES_ID_TO_TRAINID: Dict[int, int] = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}

# Colour of every Cityscapes label id 0..33 as defined by the Cityscapes
# label table; used as the palette of GTA5-style paletted label PNGs.
CITYSCAPES_LABEL_ID_COLORS: Dict[int, Tuple[int, int, int]] = {
    0: (0, 0, 0), 1: (0, 0, 0), 2: (0, 0, 0), 3: (0, 0, 0), 4: (0, 0, 0),
    5: (111, 74, 0), 6: (81, 0, 81), 7: (128, 64, 128), 8: (244, 35, 232),
    9: (250, 170, 160), 10: (230, 150, 140), 11: (70, 70, 70),
    12: (102, 102, 156), 13: (190, 153, 153), 14: (180, 165, 180),
    15: (150, 100, 100), 16: (150, 120, 90), 17: (153, 153, 153),
    18: (153, 153, 153), 19: (250, 170, 30), 20: (220, 220, 0),
    21: (107, 142, 35), 22: (152, 251, 152), 23: (70, 130, 180),
    24: (220, 20, 60), 25: (255, 0, 0), 26: (0, 0, 142), 27: (0, 0, 70),
    28: (0, 60, 100), 29: (0, 0, 90), 30: (0, 0, 110), 31: (0, 80, 100),
    32: (0, 0, 230), 33: (119, 11, 32)
}

# SYNTHIA RAND-CITYSCAPES raw class id (red channel) -> 19 train ids;
# 0 void, 13 parking, 14 road-work and 22 lane marking are ignored.
SYNTHIA_ID_TO_TRAINID: Dict[int, int] = {
    1: 10, 2: 2, 3: 0, 4: 1, 5: 4, 6: 8, 7: 5, 8: 13, 9: 7, 10: 11, 11: 18,
    12: 17, 15: 6, 16: 9, 17: 12, 18: 14, 19: 15, 20: 16, 21: 3
}

# SYNTHIA -> Cityscapes: 19 classes minus terrain (9), truck (14), train (16).
SYNTHIA_16_TRAIN_IDS: Tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11,
                                         12, 13, 15, 17, 18)
# The 13-class score (mIoU*) further drops wall (3), fence (4), pole (5).
SYNTHIA_13_TRAIN_IDS: Tuple[int, ...] = tuple(
    i for i in SYNTHIA_16_TRAIN_IDS if i not in (3, 4, 5))

# Cityscapes -> NTHU cross-city (Rome, Rio, Tokyo, Taipei): 13 classes.
NTHU_13_TRAIN_IDS: Tuple[int, ...] = (0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15,
                                      17, 18)

SEVEN_CLASSES: Tuple[str, ...] = ('flat', 'construction', 'object', 'nature',
                                  'sky', 'human', 'vehicle')
# Colour of each 7-class category: the colour of its first member class.
SEVEN_PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (128, 64, 128), (70, 70, 70), (153, 153, 153), (107, 142, 35),
    (70, 130, 180), (220, 20, 60), (0, 0, 142))

# SYNTHIA raw id -> 7 categories (depth method).
SYNTHIA_ID_TO_SEVEN: Dict[int, int] = {
    1: 4, 2: 1, 3: 0, 4: 0, 5: 1, 6: 3, 7: 2, 8: 6, 9: 2, 10: 5, 11: 6,
    15: 2, 22: 0
}

# Cityscapes label id -> 7 categories: the depth release's table
# (METHODS.md 6.3). road, sidewalk -> flat; building, wall, fence ->
# construction; pole, light, sign -> object; vegetation, terrain -> nature;
# sky; person, rider -> human; car, truck, bus, caravan (29), trailer (30),
# train, motorcycle, bicycle -> vehicle. Parking (9), rail track (10), guard
# rail (14), bridge (15), tunnel (16), pole group (18) and every void id
# are ignored.
CITYSCAPES_ID_TO_SEVEN: Dict[int, int] = {
    7: 0, 8: 0, 11: 1, 12: 1, 13: 1, 17: 2, 19: 2, 20: 2, 21: 3, 22: 3,
    23: 4, 24: 5, 25: 5, **{i: 6 for i in range(26, 34)},
}
# The former grouping by Cityscapes category (parking, rail track -> flat;
# guard rail, bridge, tunnel -> construction; pole group -> object), kept
# as a named table; the converters write the release's.
CITYSCAPES_ID_TO_SEVEN_BY_CATEGORY: Dict[int, int] = {
    **{i: 0 for i in (7, 8, 9, 10)},
    **{i: 1 for i in (11, 12, 13, 14, 15, 16)},
    **{i: 2 for i in (17, 18, 19, 20)},
    **{i: 3 for i in (21, 22)},
    23: 4,
    **{i: 5 for i in (24, 25)},
    **{i: 6 for i in range(26, 34)},
}

# 19 train ids -> 7 categories, for data already stored as 19-class labels.
CITYSCAPES_TRAINID_TO_SEVEN: Dict[int, int] = {
    0: 0, 1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3, 10: 4,
    11: 5, 12: 5, 13: 6, 14: 6, 15: 6, 16: 6, 17: 6, 18: 6
}
# yapf: enable


def build_lut(mapping: Mapping[int, int],
              ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """Build a 256-entry lookup table from a sparse id mapping.

    Args:
        mapping (Mapping[int, int]): Raw id -> new id, both in ``[0, 255]``.
        ignore_index (int): Value of every raw id absent from ``mapping``.
            Defaults to 255.

    Returns:
        np.ndarray: LUT of shape (256, ) and dtype ``uint8``.
    """
    lut = np.full(256, ignore_index, dtype=np.uint8)
    for raw_id, new_id in mapping.items():
        if not (0 <= raw_id <= 255 and 0 <= new_id <= 255):
            raise ValueError(f'ids must be within [0, 255], got mapping '
                             f'{raw_id} -> {new_id}')
        lut[raw_id] = new_id
    return lut


def build_subset_lut(train_ids: Sequence[int],
                     ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """Build a LUT that renumbers a subset of the 19 train ids to 0..K-1.

    Args:
        train_ids (Sequence[int]): The kept 19-class train ids, in the
            order of the new class indices.
        ignore_index (int): Value of every other id. Defaults to 255.

    Returns:
        np.ndarray: LUT of shape (256, ) and dtype ``uint8``.
    """
    return build_lut({
        old: new
        for new, old in enumerate(train_ids)
    }, ignore_index)


def subset_names(train_ids: Sequence[int]) -> Tuple[str, ...]:
    """Names of a subset of the 19 Cityscapes classes, in the given order."""
    return tuple(CITYSCAPES_CLASSES[i] for i in train_ids)


def subset_palette(
        train_ids: Sequence[int]) -> Tuple[Tuple[int, int, int], ...]:
    """Palette of a subset of the 19 Cityscapes classes."""
    return tuple(CITYSCAPES_PALETTE[i] for i in train_ids)


def label_id_palette() -> np.ndarray:
    """Flat 768-entry PIL palette that colours each Cityscapes label id.

    Returns:
        np.ndarray: Palette of shape (768, ), dtype ``uint8``: entry
        ``3 * i + c`` is channel ``c`` (RGB) of label id ``i``; ids above 33
        are black.
    """
    palette = np.zeros((256, 3), dtype=np.uint8)
    for label_id, color in CITYSCAPES_LABEL_ID_COLORS.items():
        palette[label_id] = color
    return palette.reshape(-1)


CITYSCAPES_LUT = build_lut(CITYSCAPES_ID_TO_TRAINID)
SYNTHIA_LUT = build_lut(SYNTHIA_ID_TO_TRAINID)
SYNTHIA_SEVEN_LUT = build_lut(SYNTHIA_ID_TO_SEVEN)
CITYSCAPES_SEVEN_LUT = build_lut(CITYSCAPES_ID_TO_SEVEN)
TRAINID_TO_SEVEN_LUT = build_lut(CITYSCAPES_TRAINID_TO_SEVEN)

SYNTHIA_16_CLASSES = subset_names(SYNTHIA_16_TRAIN_IDS)
SYNTHIA_13_CLASSES = subset_names(SYNTHIA_13_TRAIN_IDS)
NTHU_13_CLASSES = subset_names(NTHU_13_TRAIN_IDS)
TRAINID_TO_SYNTHIA_16_LUT = build_subset_lut(SYNTHIA_16_TRAIN_IDS)
TRAINID_TO_SYNTHIA_13_LUT = build_subset_lut(SYNTHIA_13_TRAIN_IDS)
TRAINID_TO_NTHU_13_LUT = build_subset_lut(NTHU_13_TRAIN_IDS)

# Composed tables: raw id -> class-subset id, in one lookup.
CITYSCAPES_16_LUT = TRAINID_TO_SYNTHIA_16_LUT[CITYSCAPES_LUT]
CITYSCAPES_13_LUT = TRAINID_TO_NTHU_13_LUT[CITYSCAPES_LUT]
SYNTHIA_16_LUT = TRAINID_TO_SYNTHIA_16_LUT[SYNTHIA_LUT]
# NTHU test labels hold Cityscapes label ids (METHODS.md section 0).
NTHU_LUT = CITYSCAPES_13_LUT

# Mapillary Vistas v1.2 class names; the label PNGs hold the index of each
# name in this list (0..65), in Vistas' own (alphabetical) order.
MAPILLARY_V12_CLASSES: Tuple[str, ...] = tuple(
    MapillaryDataset_v1.METAINFO['classes'])

# Vistas v1.2 -> 7 categories: the depth release's table, by class name
# (METHODS.md 6.3). Curb is construction, terrain is flat, pothole is an
# object; catch basin, manhole, animals, mountain, sand, snow, water and
# every other object (banner, bench, billboard, ...), the car mount, the
# ego vehicle and 'Unlabeled' are ignored.
MAPILLARY_SEVEN_GROUPS: Dict[str, Tuple[str, ...]] = {
    'flat': ('Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Parking',
             'Pedestrian Area', 'Rail Track', 'Road', 'Service Lane',
             'Sidewalk', 'Lane Marking - Crosswalk', 'Lane Marking - General',
             'Terrain'),
    'construction': ('Curb', 'Fence', 'Guard Rail', 'Barrier', 'Wall',
                     'Bridge', 'Building', 'Tunnel'),
    'object': ('Pothole', 'Street Light', 'Pole', 'Traffic Sign Frame',
               'Utility Pole', 'Traffic Light', 'Traffic Sign (Back)',
               'Traffic Sign (Front)'),
    'nature': ('Vegetation', ),
    'sky': ('Sky', ),
    'human': ('Person', 'Bicyclist', 'Motorcyclist', 'Other Rider'),
    'vehicle': ('Bicycle', 'Boat', 'Bus', 'Car', 'Caravan', 'Motorcycle',
                'On Rails', 'Other Vehicle', 'Trailer', 'Truck',
                'Wheeled Slow'),
}
# The former grouping as Cityscapes groups its labels (curbs, lane
# markings and road-level covers flat; mountain, sand, snow nature; boats
# ignored), kept as a named table; the converter writes the release's.
MAPILLARY_SEVEN_GROUPS_BY_CATEGORY: Dict[str, Tuple[str, ...]] = {
    'flat': ('Curb', 'Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Parking',
             'Pedestrian Area', 'Rail Track', 'Road', 'Service Lane',
             'Sidewalk', 'Lane Marking - Crosswalk', 'Lane Marking - General',
             'Catch Basin', 'Manhole', 'Pothole'),
    'construction':
    ('Fence', 'Guard Rail', 'Barrier', 'Wall', 'Bridge', 'Building', 'Tunnel'),
    'object': ('Street Light', 'Pole', 'Traffic Sign Frame', 'Utility Pole',
               'Traffic Light', 'Traffic Sign (Back)', 'Traffic Sign (Front)'),
    'nature': ('Mountain', 'Sand', 'Snow', 'Terrain', 'Vegetation'),
    'sky': ('Sky', ),
    'human': ('Person', 'Bicyclist', 'Motorcyclist', 'Other Rider'),
    'vehicle': ('Bicycle', 'Bus', 'Car', 'Caravan', 'Motorcycle', 'On Rails',
                'Other Vehicle', 'Trailer', 'Truck', 'Wheeled Slow'),
}
MAPILLARY_ID_TO_SEVEN: Dict[int, int] = {
    MAPILLARY_V12_CLASSES.index(name): SEVEN_CLASSES.index(group)
    for group, names in MAPILLARY_SEVEN_GROUPS.items()
    for name in names
}
MAPILLARY_SEVEN_LUT = build_lut(MAPILLARY_ID_TO_SEVEN)


@dataclass(frozen=True)
class ClassSetting:
    """One class list of the benchmarks.

    Args:
        classes (tuple[str]): Class names, in train-id order.
        palette (tuple[tuple[int, int, int]]): RGB colour of each class.
    """
    classes: Tuple[str, ...]
    palette: Tuple[Tuple[int, int, int], ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def metainfo(self) -> dict:
        """``metainfo`` of a dataset with these classes."""
        return dict(
            classes=self.classes,
            palette=[list(color) for color in self.palette])


CLASS_SETTINGS: Dict[int, ClassSetting] = {
    19: ClassSetting(CITYSCAPES_CLASSES, CITYSCAPES_PALETTE),
    16: ClassSetting(SYNTHIA_16_CLASSES, subset_palette(SYNTHIA_16_TRAIN_IDS)),
    13: ClassSetting(NTHU_13_CLASSES, subset_palette(NTHU_13_TRAIN_IDS)),
    7: ClassSetting(SEVEN_CLASSES, SEVEN_PALETTE),
}


def get_class_setting(num_classes: int,
                      choices: Optional[Sequence[int]] = None,
                      owner: str = 'dataset') -> ClassSetting:
    """The class setting with ``num_classes`` classes.

    Args:
        num_classes (int): 19, 16, 13 or 7.
        choices (Sequence[int], optional): The settings ``owner`` supports;
            defaults to all of :data:`CLASS_SETTINGS`.
        owner (str): Who asks, for the error message.

    Returns:
        ClassSetting: Names and palette.

    Raises:
        ValueError: If ``num_classes`` is not one of ``choices``.
    """
    choices = tuple(CLASS_SETTINGS) if choices is None else tuple(choices)
    if num_classes not in choices:
        raise ValueError(f'{owner}: num_classes must be one of '
                         f'{list(choices)}, got {num_classes!r}')
    return CLASS_SETTINGS[num_classes]


def train_id_suffix(num_classes: int, stem: str = '_labelTrainIds') -> str:
    """File suffix of the converted labels of a class setting.

    Args:
        num_classes (int): Number of classes of the setting.
        stem (str): Suffix stem, e.g. ``'_gtFine_labelTrainIds'`` for
            Cityscapes. Defaults to '_labelTrainIds'.

    Returns:
        str: ``stem + '.png'`` for 19 classes (the names MMSeg's Cityscapes
        converter uses), ``f'{stem}{num_classes}.png'`` otherwise, e.g.
        ``'_labelTrainIds16.png'``.
    """
    return f'{stem}{"" if num_classes == 19 else num_classes}.png'


class ClassSettingMixin:
    """Let a seg dataset choose its class setting with ``num_classes``.

    Put it first in the bases of a :class:`mmseg.datasets.BaseSegDataset`
    subclass and set ``class_choices`` (the settings the dataset's converter
    writes), ``default_num_classes`` and ``seg_map_stem``. The dataset reads
    the labels of that setting (``seg_map_stem`` + the setting's suffix,
    see :func:`train_id_suffix`) and reports the setting's classes and
    palette in ``metainfo``.

    The labels are already stored in the setting's train ids, so MMSeg's
    class remapping (``metainfo=dict(classes=...)`` selecting a subset) must
    not apply on top: a ``classes`` entry in ``metainfo`` is accepted only
    if it names the setting's classes, and otherwise raises.

    Args:
        num_classes (int, optional): Number of classes; defaults to
            ``default_num_classes``.
        seg_map_suffix (str, optional): Suffix of the label files; defaults
            to the one the converter writes for the setting.
        metainfo (dict, optional): Extra meta information; ``palette`` may
            recolour the classes.
        *args, **kwargs: Arguments of the dataset base class.
    """

    class_choices: Tuple[int, ...] = (19, )
    default_num_classes: int = 19
    seg_map_stem: str = '_labelTrainIds'

    def __init__(self,
                 *args,
                 num_classes: Optional[int] = None,
                 seg_map_suffix: Optional[str] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        owner = type(self).__name__
        if num_classes is None:
            num_classes = self.default_num_classes
        setting = get_class_setting(num_classes, self.class_choices, owner)
        self.class_setting = setting
        if seg_map_suffix is None:
            seg_map_suffix = train_id_suffix(num_classes, self.seg_map_stem)
        metainfo = dict(metainfo or {})
        classes = metainfo.pop('classes', None)
        if classes is not None and tuple(classes) != setting.classes:
            raise ValueError(
                f'{owner}: metainfo classes {list(classes)} differ from the '
                f'{num_classes}-class setting {list(setting.classes)}; '
                f'choose the setting with num_classes (one of '
                f'{list(self.class_choices)}) instead')
        palette = metainfo.pop('palette', None)
        if palette is not None and len(palette) != setting.num_classes:
            raise ValueError(f'{owner}: metainfo palette has {len(palette)} '
                             f'colours for {setting.num_classes} classes')
        # The base class sees no 'classes', so it builds no label map.
        super().__init__(
            *args, seg_map_suffix=seg_map_suffix, metainfo=metainfo, **kwargs)
        self._metainfo.update(setting.metainfo())
        if palette is not None:
            self._metainfo['palette'] = [list(color) for color in palette]
