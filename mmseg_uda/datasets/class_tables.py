"""Class tables shared by the GTA5, SYNTHIA, Cityscapes and NTHU datasets.

Raw label ids are mapped to training ids with 256-entry ``uint8`` lookup
tables (LUTs): ``train_ids = lut[raw_ids]`` for any ``uint8`` array, and every
raw id not named in a table maps to the ignore index 255.
"""
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np
from mmseg.datasets import CityscapesDataset

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

# Cityscapes label id -> 7 categories, by the Cityscapes category of each
# label (flat, construction, object, nature, sky, human, vehicle). Unlike the
# 19-class table this keeps labels such as parking, rail track, guard rail,
# bridge, tunnel, pole group, caravan and trailer in their category.
CITYSCAPES_ID_TO_SEVEN: Dict[int, int] = {
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
