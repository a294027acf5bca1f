import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from mmseg_uda.datasets import CityscapesUDADataset, GTA5Dataset

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    'generate_demo_data', REPO / 'tools' / 'generate_demo_data.py')
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

# Label id -> train id (independent of class_tables) and a few colours of
# the Cityscapes palette, by label id.
# yapf: disable
ID_TO_TRAIN_ID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}
# yapf: enable
COLOURS = {7: (128, 64, 128), 23: (70, 130, 180), 26: (0, 0, 142)}


def _train_ids(ids: np.ndarray) -> np.ndarray:
    lut = np.full(256, 255, np.uint8)
    for label_id, train_id in ID_TO_TRAIN_ID.items():
        lut[label_id] = train_id
    return lut[ids]


def _gta5_pairs(root: Path):
    for img in sorted((root / 'gta5' / 'images').glob('*.png')):
        yield img, root / 'gta5' / 'labels' / img.name


def _city_pairs(root: Path, split: str):
    base = root / 'cityscapes'
    for img in sorted((base / 'leftImg8bit' / split).rglob('*.png')):
        rel = img.relative_to(base / 'leftImg8bit')
        label = base / 'gtFine' / str(rel).replace('_leftImg8bit.png',
                                                   '_gtFine_labelIds.png')
        yield img, label


@pytest.fixture(scope='module')
def default_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    start = time.perf_counter()
    assert gen.main([str(root)]) == 0
    # The budget is 20 s on 2 cores; generation alone must be well inside.
    assert time.perf_counter() - start < 20
    return root


def test_default_layout_sizes_and_formats(default_root):
    gta = list(_gta5_pairs(default_root))
    train = list(_city_pairs(default_root, 'train'))
    val = list(_city_pairs(default_root, 'val'))
    assert (len(gta), len(train), len(val)) == (60, 60, 20)
    assert gta[0][0].name == '00001.png' and gta[-1][0].name == '00060.png'
    assert train[0][0].name == 'aachen_000000_000000_leftImg8bit.png'
    assert {p.parent.name for p, _ in val} == {'frankfurt', 'munster'}

    for pairs, size, label_mode in ((gta, (320, 176), 'P'), (train + val,
                                                             (256, 128), 'L')):
        for img_path, label_path in pairs[:5] + pairs[-2:]:
            img, label = Image.open(img_path), Image.open(label_path)
            assert img.mode == 'RGB' and img.size == size
            assert label.mode == label_mode and label.size == size


def test_gta5_palette_is_cityscapes_colours(default_root):
    label = Image.open(default_root / 'gta5' / 'labels' / '00001.png')
    palette = np.array(label.getpalette()[:768]).reshape(256, 3)
    for label_id, colour in COLOURS.items():
        assert tuple(palette[label_id]) == colour


def test_scenes_contain_classes_and_ignored_ids(default_root):
    for pairs, ego in ((list(_gta5_pairs(default_root)), False),
                       (list(_city_pairs(default_root, 'train')), True)):
        ids = np.stack([np.array(Image.open(lb)) for _, lb in pairs])
        present = set(np.unique(_train_ids(ids))) - {255}
        assert len(present) >= 8
        assert {0, 1, 2, 5, 8, 10, 11, 13} <= present
        # thin unlabeled border, as in the real data
        assert (ids[:, 0, :] == 0).all() and (ids[:, :, -1] == 0).all()
        assert (ids == 1).any() == ego
        assert (_train_ids(ids) == 255).mean() < 0.1


def _pixels(pairs, standardise: bool):
    xs, ys = [], []
    for img_path, label_path in pairs:
        x = np.array(Image.open(img_path), np.float64).reshape(-1, 3)
        if standardise:
            x = (x - x.mean(0)) / (x.std(0) + 1e-6)
        y = _train_ids(np.array(Image.open(label_path))).ravel()
        xs.append(x[y != 255])
        ys.append(y[y != 255])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize('standardise', [False, True])
def test_appearance_shift_between_domains(default_root, standardise):
    """A nearest-class-mean colour classifier fit on source pixels is much
    worse on the target; after per-image standardisation it still works
    there, so the class colours survive the shift."""
    gta = list(_gta5_pairs(default_root))
    x_fit, y_fit = _pixels(gta[:40], standardise)
    classes = np.unique(y_fit)
    means = np.stack([x_fit[y_fit == c].mean(0) for c in classes])

    def accuracy(pairs):
        x, y = _pixels(pairs, standardise)
        nearest = ((x[:, None] - means[None])**2).sum(-1).argmin(1)
        return (classes[nearest] == y).mean()

    source = accuracy(gta[40:])
    target = accuracy(list(_city_pairs(default_root, 'val')))
    if standardise:
        assert target > 0.5
    else:
        assert source > 0.8 and source - target > 0.3


def test_deterministic_for_a_seed(tmp_path):
    args = ['--num-source', '2', '--num-target', '2', '--num-val', '1']
    for name, seed in (('a', 3), ('b', 3), ('c', 4)):
        assert gen.main([str(tmp_path / name), '--seed',
                         str(seed)] + args) == 0
    files = sorted(
        p.relative_to(tmp_path / 'a') for p in (tmp_path / 'a').rglob('*.png'))
    assert len(files) == 10
    for rel in files:
        a = np.array(Image.open(tmp_path / 'a' / rel))
        np.testing.assert_array_equal(
            a, np.array(Image.open(tmp_path / 'b' / rel)))
    first = Path('gta5/images/00001.png')
    assert not np.array_equal(
        np.array(Image.open(tmp_path / 'a' / first)),
        np.array(Image.open(tmp_path / 'c' / first)))


def test_negative_count_is_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit):
        gen.main([str(tmp_path), '--num-val', '-1'])
    assert '--num-val' in capsys.readouterr().err


def test_converters_and_datasets_accept_the_output(tmp_path):
    init_default_scope('mmseg')
    assert gen.main([
        str(tmp_path), '--num-source', '3', '--num-target', '3', '--num-val',
        '2'
    ]) == 0
    tools = REPO / 'tools' / 'dataset_converters'
    for name in ('gta5', 'cityscapes'):
        spec = importlib.util.spec_from_file_location(name,
                                                      tools / f'{name}.py')
        tool = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tool)
        assert tool.main([str(tmp_path / name)]) == 0

    pipeline = [
        dict(type='CheckedLoadImageFromFile'),
        dict(type='CheckedLoadAnnotations'),
        dict(type='CheckSegMapSize')
    ]
    source = GTA5Dataset(data_root=str(tmp_path / 'gta5'), pipeline=pipeline)
    val = CityscapesUDADataset(
        data_root=str(tmp_path / 'cityscapes'),
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=pipeline)
    assert (len(source), len(val)) == (3, 2)
    for dataset, (_, raw_label) in ((source, next(_gta5_pairs(tmp_path))),
                                    (val, next(_city_pairs(tmp_path, 'val')))):
        label = dataset[0]['gt_seg_map']
        np.testing.assert_array_equal(
            label, _train_ids(np.array(Image.open(raw_label))))
