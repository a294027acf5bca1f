import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from mmseg_uda.datasets import CityscapesUDADataset, GTA5Dataset

REPO = Path(__file__).resolve().parents[2]

# Cityscapes label id -> train id, written out here independently of
# mmseg_uda.datasets.class_tables; every other id -> 255.
# yapf: disable
ID_TO_TRAIN_ID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}
# yapf: enable
HW = (16, 16)  # 256 pixels: every possible raw value once per label


def _load_tool(name: str):
    path = REPO / 'tools' / 'dataset_converters' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'{name}_converter', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gta5_tool = _load_tool('gta5')
cityscapes_tool = _load_tool('cityscapes')


def _expected_train_ids(raw: np.ndarray) -> np.ndarray:
    out = np.empty_like(raw)
    for (r, c), value in np.ndenumerate(raw):
        out[r, c] = ID_TO_TRAIN_ID.get(int(value), 255)
    return out


def _raw_ids(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(256).astype(
        np.uint8).reshape(HW)


def _write_gta5(root: Path, num: int = 3) -> dict:
    """GTA5 as distributed; returns {name: raw ids}."""
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    # Colours that are not the indices, so a colour decode would be wrong.
    palette = [(37 * i + 11 * c) % 256 for i in range(256) for c in range(3)]
    raws = {}
    for i in range(1, num + 1):
        name = f'{i:05d}'
        Image.fromarray(np.full(
            (*HW, 3), i, np.uint8)).save(root / 'images' / f'{name}.png')
        raw = _raw_ids(i)
        label = Image.fromarray(raw)
        label.putpalette(palette)
        label.save(root / 'labels' / f'{name}.png')
        raws[name] = raw
    return raws


def _write_cityscapes(root: Path) -> dict:
    """Cityscapes as distributed; returns {relative label-id path: ids}."""
    raws = {}
    for seed, (split, city) in enumerate([('train', 'aachen'),
                                          ('train', 'bremen'),
                                          ('val', 'lindau'),
                                          ('test', 'berlin')]):
        stem = f'{city}_000000_{seed:06d}'
        img_dir = root / 'leftImg8bit' / split / city
        gt_dir = root / 'gtFine' / split / city
        img_dir.mkdir(parents=True)
        gt_dir.mkdir(parents=True)
        Image.fromarray(np.zeros(
            (*HW, 3), np.uint8)).save(img_dir / f'{stem}_leftImg8bit.png')
        raw = _raw_ids(10 + seed)
        Image.fromarray(raw).save(gt_dir / f'{stem}_gtFine_labelIds.png')
        # Other gtFine products of the release must be left alone.
        Image.fromarray(np.zeros(
            (*HW, 3), np.uint8)).save(gt_dir / f'{stem}_gtFine_color.png')
        raws[f'gtFine/{split}/{city}/{stem}_gtFine_labelIds.png'] = raw
    return raws


def _counts(train_ids: np.ndarray) -> dict:
    values, counts = np.unique(train_ids, return_counts=True)
    return {str(v): int(n) for v, n in zip(values, counts) if v != 255}


def _stats_file(root: Path) -> dict:
    """class_stats.json, checked to be format version 2."""
    with open(root / 'class_stats.json') as f:
        stats = json.load(f)
    assert stats['version'] == 2 and sorted(stats) == ['labels', 'version']
    return stats['labels']


def _stats(root: Path) -> dict:
    """Label -> train id -> pixels."""
    return {k: v['pixels'] for k, v in _stats_file(root).items()}


def _num_classes(root: Path) -> dict:
    """Label -> the class count it was written in."""
    return {k: v['num_classes'] for k, v in _stats_file(root).items()}


def test_gta5_every_pixel_and_stats(tmp_path, capsys):
    raws = _write_gta5(tmp_path)
    assert gta5_tool.main([str(tmp_path), '--nproc', '2']) == 0
    stats = _stats(tmp_path)
    assert sorted(stats) == [f'labels/{n}_labelTrainIds.png' for n in raws]
    for name, raw in raws.items():
        out = Image.open(tmp_path / 'labels' / f'{name}_labelTrainIds.png')
        assert out.mode == 'L'
        expected = _expected_train_ids(raw)
        np.testing.assert_array_equal(np.array(out), expected)
        assert stats[f'labels/{name}_labelTrainIds.png'] == _counts(expected)
    # 19 of the 256 values are classes, one pixel each
    assert sum(sum(c.values()) for c in stats.values()) == 19 * len(raws)
    assert set(_num_classes(tmp_path).values()) == {19}
    assert '3 converted, 0 skipped' in capsys.readouterr().out


def test_cityscapes_every_pixel_all_splits_and_stats(tmp_path):
    raws = _write_cityscapes(tmp_path)
    assert cityscapes_tool.main([str(tmp_path)]) == 0
    stats = _stats(tmp_path)
    # one entry per output: 19, 16, 13 and 7 classes per raw label
    assert len(raws) == 4 and len(stats) == 4 * len(raws)
    for rel, raw in raws.items():
        out_rel = rel.replace('_gtFine_labelIds.png',
                              '_gtFine_labelTrainIds.png')
        expected = _expected_train_ids(raw)
        np.testing.assert_array_equal(
            np.array(Image.open(tmp_path / out_rel)), expected)
        assert stats[out_rel] == _counts(expected)
    suffix_classes = {'_labelTrainIds.png': 19, '_labelTrainIds16.png': 16,
                      '_labelTrainIds13.png': 13, '_labelTrainIds7.png': 7}
    for rel, num in _num_classes(tmp_path).items():
        assert [n for s, n in suffix_classes.items()
                if rel.endswith(s)] == [num], rel
    assert not list(tmp_path.rglob('*color_labelTrainIds*'))
    assert not list(tmp_path.rglob('*.tmp'))


def test_second_run_skips_but_keeps_stats(tmp_path, capsys):
    _write_gta5(tmp_path)
    assert gta5_tool.main([str(tmp_path)]) == 0
    first = _stats(tmp_path)
    out = tmp_path / 'labels' / '00002_labelTrainIds.png'
    mtime = out.stat().st_mtime_ns
    capsys.readouterr()

    assert gta5_tool.main([str(tmp_path)]) == 0
    assert '0 converted, 3 skipped' in capsys.readouterr().out
    assert out.stat().st_mtime_ns == mtime
    assert _stats(tmp_path) == first

    # A label edited after conversion is converted again.
    raw = tmp_path / 'labels' / '00002.png'
    os.utime(raw, ns=(mtime + 10**9, mtime + 10**9))
    assert gta5_tool.main([str(tmp_path)]) == 0
    assert '1 converted, 2 skipped' in capsys.readouterr().out


def test_corrupt_label_reported_by_name_others_converted(tmp_path, capsys):
    _write_gta5(tmp_path)
    bad = tmp_path / 'labels' / '00002.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    assert gta5_tool.main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert str(bad) in captured.err
    assert '2 converted, 0 skipped (up to date), 1 failed' in captured.out
    assert sorted(_stats(tmp_path)) == [
        'labels/00001_labelTrainIds.png', 'labels/00003_labelTrainIds.png'
    ]
    assert not (tmp_path / 'labels' / '00002_labelTrainIds.png').exists()


@pytest.mark.parametrize('tool,folder', [(gta5_tool, 'labels'),
                                         (cityscapes_tool, 'gtFine')])
def test_missing_or_empty_root_names_the_folder(tmp_path, capsys, tool,
                                                folder):
    missing = tmp_path / 'missing'
    assert tool.main([str(missing)]) == 2
    assert str(missing / folder) in capsys.readouterr().err

    (tmp_path / folder).mkdir()
    assert tool.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'no ' in err and str(tmp_path / folder) in err
    assert not (tmp_path / 'class_stats.json').exists()


def test_gta5_with_only_converted_labels_is_an_error(tmp_path, capsys):
    (tmp_path / 'labels').mkdir()
    Image.fromarray(np.zeros(HW, np.uint8)).save(tmp_path / 'labels' /
                                                 '00001_labelTrainIds.png')
    assert gta5_tool.main([str(tmp_path)]) == 2
    assert 'no raw GTA5 label' in capsys.readouterr().err


def test_converted_data_loads_through_pipeline(tmp_path):
    init_default_scope('mmseg')
    pipeline = [
        dict(type='CheckedLoadImageFromFile'),
        dict(type='CheckedLoadAnnotations'),
        dict(type='CheckSegMapSize')
    ]
    gta_raws = _write_gta5(tmp_path / 'gta5')
    _write_cityscapes(tmp_path / 'cityscapes')
    assert gta5_tool.main([str(tmp_path / 'gta5')]) == 0
    assert cityscapes_tool.main([str(tmp_path / 'cityscapes')]) == 0

    gta5 = GTA5Dataset(data_root=str(tmp_path / 'gta5'), pipeline=pipeline)
    city = CityscapesUDADataset(
        data_root=str(tmp_path / 'cityscapes'),
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=pipeline)
    assert len(gta5) == len(gta_raws) and len(city) == 2
    for dataset in (gta5, city):
        for i in range(len(dataset)):
            label = dataset[i]['gt_seg_map']
            assert label.shape == HW
            assert set(np.unique(label)) == set(range(19)) | {255}
    np.testing.assert_array_equal(gta5[0]['gt_seg_map'],
                                  _expected_train_ids(gta_raws['00001']))
    assert city.get_data_info(1)['seg_map_path'].endswith(
        'bremen_000000_000001_gtFine_labelTrainIds.png')


def test_runs_as_a_script(tmp_path):
    raws = _write_cityscapes(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([
        sys.executable,
        str(REPO / 'tools/dataset_converters/cityscapes.py'),
        str(tmp_path), '--nproc', '2'
    ],
                          capture_output=True,
                          text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert '16 converted' in proc.stdout  # 4 labels x 4 class settings
    rel = next(iter(raws))
    out = tmp_path / rel.replace('_labelIds', '_labelTrainIds')
    np.testing.assert_array_equal(
        np.array(Image.open(out)), _expected_train_ids(raws[rel]))

    proc = subprocess.run([
        sys.executable,
        str(REPO / 'tools/dataset_converters/gta5.py'),
        str(tmp_path / 'nothing')
    ],
                          capture_output=True,
                          text=True,
                          env=env)
    assert proc.returncode == 2
    assert str(tmp_path / 'nothing' / 'labels') in proc.stderr
