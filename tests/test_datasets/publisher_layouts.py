"""Tiny fake datasets in each publisher's raw on-disk layout, and the class
tables of METHODS.md section 0 written out independently of
``mmseg_uda.datasets.class_tables``.

Used by the dataset, config and converter tests (the converter tests load
this file by path). Every label covers many raw values per image, so a
per-pixel comparison checks whole tables.
"""
import importlib.util
from pathlib import Path
from typing import Dict

import cv2
import numpy as np
from PIL import Image

# yapf: disable
# Cityscapes label id -> 19 train ids (METHODS.md section 0).
CS_ID_TO_19 = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}
# 19 train ids kept by the 16-class (SYNTHIA) and 13-class (NTHU) settings,
# in the order of their new ids.
KEEP_16 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]
KEEP_13 = [0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]
# Cityscapes label id -> 7 categories, the depth release's table
# (METHODS.md 6.3): flat, construction, object, nature, sky, human,
# vehicle; parking 9, rail track 10, guard rail 14, bridge 15, tunnel 16
# and pole group 18 are ignored.
CS_ID_TO_7 = {
    7: 0, 8: 0,
    11: 1, 12: 1, 13: 1,
    17: 2, 19: 2, 20: 2,
    21: 3, 22: 3,
    23: 4,
    24: 5, 25: 5,
    26: 6, 27: 6, 28: 6, 29: 6, 30: 6, 31: 6, 32: 6, 33: 6
}
# SYNTHIA raw id (red channel) -> 19 train ids and -> 7 categories.
SYN_ID_TO_19 = {
    1: 10, 2: 2, 3: 0, 4: 1, 5: 4, 6: 8, 7: 5, 8: 13, 9: 7, 10: 11, 11: 18,
    12: 17, 15: 6, 16: 9, 17: 12, 18: 14, 19: 15, 20: 16, 21: 3
}
SYN_ID_TO_7 = {
    1: 4, 2: 1, 3: 0, 4: 0, 5: 1, 6: 3, 7: 2, 8: 6, 9: 2, 10: 5, 11: 6,
    15: 2, 22: 0
}
# Mapillary Vistas v1.2 id -> 7 categories, the depth release's table
# (METHODS.md 6.3), by id: curb (2) construction, terrain (29) flat,
# pothole (43) object; catch basin (36), manhole (41) ignored.
VISTAS_ID_TO_7 = {
    **{i: 0 for i in (7, 8, 9, 10, 11, 12, 13, 14, 15, 23, 24, 29)},
    **{i: 1 for i in (2, 3, 4, 5, 6, 16, 17, 18)},
    **{i: 2 for i in (43, 44, 45, 46, 47, 48, 49, 50)},
    30: 3,
    27: 4,
    **{i: 5 for i in (19, 20, 21, 22)},
    **{i: 6 for i in range(52, 63)},
}
# yapf: enable
REPO = Path(__file__).resolve().parents[2]
NAMES_19 = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
            'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky',
            'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
            'bicycle')
NAMES_7 = ('flat', 'construction', 'object', 'nature', 'sky', 'human',
           'vehicle')


def _compose(first: Dict[int, int], keep: list) -> Dict[int, int]:
    return {k: keep.index(v) for k, v in first.items() if v in keep}


CS_ID_TO_16 = _compose(CS_ID_TO_19, KEEP_16)
CS_ID_TO_13 = _compose(CS_ID_TO_19, KEEP_13)
SYN_ID_TO_16 = _compose(SYN_ID_TO_19, KEEP_16)


def expected(raw: np.ndarray, table: Dict[int, int]) -> np.ndarray:
    """Map every pixel by ``table`` in a plain loop; absent ids -> 255."""
    out = np.empty(raw.shape, np.uint8)
    for (r, c), value in np.ndenumerate(raw):
        out[r, c] = table.get(int(value), 255)
    return out


def counts(train_ids: np.ndarray) -> Dict[str, int]:
    """Pixel count per class present, ignore (255) not counted."""
    values, numbers = np.unique(train_ids, return_counts=True)
    return {str(v): int(n) for v, n in zip(values, numbers) if v != 255}


def _rgb(path: Path, hw, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (*hw, 3), np.uint8)
    Image.fromarray(img).save(path)


def write_synthia(root: Path,
                  num: int = 3,
                  hw=(8, 16),
                  with_depth: bool = True) -> Dict[str, dict]:
    """SYNTHIA RAND-CITYSCAPES as distributed.

    Labels are 16-bit BGR PNGs: red = class id (every value 0..22 plus
    random ones), green = instance ids above 255, blue = a different class
    id, so that a blue-channel or 8-bit read gives other classes.

    Returns:
        dict: name -> dict(red=class ids, depth=raw 16-bit depth or None).
    """
    rng = np.random.default_rng(5)
    (root / 'GT' / 'LABELS').mkdir(parents=True)
    (root / 'Depth' / 'Depth').mkdir(parents=True)
    out = {}
    for i in range(num):
        name = f'{i:07d}'
        _rgb(root / 'RGB' / f'{name}.png', hw, seed=i)
        red = rng.integers(0, 23, hw).astype(np.uint16)
        red.flat[:23] = np.arange(23)
        blue = (red + 1 + rng.integers(0, 21, hw)) % 23
        green = rng.integers(256, 65536, hw).astype(np.uint16)
        bgr = np.stack([blue, green, red], axis=-1).astype(np.uint16)
        assert cv2.imwrite(str(root / 'GT' / 'LABELS' / f'{name}.png'), bgr)
        depth = None
        if with_depth:
            depth = rng.integers(0, 65536, hw).astype(np.uint16)
            depth.flat[:2] = (0, 65535)
            assert cv2.imwrite(
                str(root / 'Depth' / 'Depth' / f'{name}.png'), depth)
        out[name] = dict(red=red.astype(np.uint8), depth=depth)
    return out


def _id_label(seed: int, hw=(16, 16)) -> np.ndarray:
    """Every value 0..255 once (for 16x16), in random order."""
    ids = np.random.default_rng(seed).permutation(256).astype(np.uint8)
    return np.resize(ids, hw)


def write_cityscapes(
    root: Path,
    splits=(('train', 'aachen'), ('train', 'bremen'), ('val', 'lindau')),
    hw=(16, 16)
) -> Dict[str, np.ndarray]:
    """Cityscapes as distributed; returns {label-id path rel. to root: ids}.
    """
    raws = {}
    for seed, (split, city) in enumerate(splits):
        stem = f'{city}_000000_{seed:06d}'
        _rgb(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png',
             hw, seed)
        gt_dir = root / 'gtFine' / split / city
        gt_dir.mkdir(parents=True, exist_ok=True)
        raw = _id_label(20 + seed, hw)
        Image.fromarray(raw).save(gt_dir / f'{stem}_gtFine_labelIds.png')
        raws[f'gtFine/{split}/{city}/{stem}_gtFine_labelIds.png'] = raw
    return raws


def write_nthu(root: Path,
               cities=('Rome', 'Tokyo'),
               num_train: int = 2,
               num_test: int = 2,
               hw=(16, 16)) -> Dict[str, np.ndarray]:
    """NTHU cross-city as distributed; returns {raw label rel. path: ids}.
    """
    raws = {}
    for c, city in enumerate(cities):
        for i in range(num_train):
            _rgb_jpg(root / city / 'Images' / 'Train' / f'pano_{i:05d}.jpg',
                     hw, 100 * c + i)
        (root / city / 'Labels' / 'Test').mkdir(parents=True)
        for i in range(num_test):
            name = f'pano_{1000 + i:05d}'
            _rgb_jpg(root / city / 'Images' / 'Test' / f'{name}.jpg', hw,
                     100 * c + 50 + i)
            raw = _id_label(40 + 10 * c + i, hw)
            rel = f'{city}/Labels/Test/{name}_eval.png'
            Image.fromarray(raw).save(root / rel)
            raws[rel] = raw
    return raws


def _rgb_jpg(path: Path, hw, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (*hw, 3), np.uint8)
    Image.fromarray(img).save(path, quality=95)


def write_mapillary(
        root: Path,
        num_val: int = 2,
        num_train: int = 2,
        hw=(12, 16),
        label_dir: str = 'validation/labels') -> Dict[str, np.ndarray]:
    """Mapillary Vistas (v1.2 labels) as distributed.

    Labels are paletted PNGs whose indices are Vistas v1.2 ids (every id
    0..65; larger ids would be a newer Vistas version); the palette colours
    differ from the indices. Returns {raw label rel. path: ids}.
    """
    palette = [(11 * i + 70 * c) % 256 for i in range(256) for c in range(3)]
    (root / label_dir).mkdir(parents=True)
    raws = {}
    for i in range(num_val):
        name = f'val_{i:04d}'
        _rgb_jpg(root / 'validation' / 'images' / f'{name}.jpg', hw, 200 + i)
        raw = np.resize(
            np.random.default_rng(60 + i).permutation(66).astype(np.uint8), hw)
        label = Image.fromarray(raw)
        label.putpalette(palette)
        label.save(root / label_dir / f'{name}.png')
        raws[f'{label_dir}/{name}.png'] = raw
    for i in range(num_train):
        _rgb_jpg(root / 'training' / 'images' / f'train_{i:04d}.jpg', hw,
                 300 + i)
    return raws


def convert(name: str, root: Path) -> None:
    """Run ``tools/dataset_converters/<name>.py root`` in this process."""
    path = REPO / 'tools' / 'dataset_converters' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'{name}_converter', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(root)]) == 0


def write_gta5_split(root: Path, train, val, test) -> Path:
    """GTA5's official ``split.mat`` (read_mapping code): 1-based frame
    numbers as column vectors ``trainIds``, ``valIds``, ``testIds``."""
    import scipy.io

    def column(ids):
        return np.asarray(ids, dtype=np.float64).reshape(-1, 1)

    path = Path(root) / 'split.mat'
    scipy.io.savemat(
        str(path),
        dict(trainIds=column(train), valIds=column(val),
             testIds=column(test)))
    return path
