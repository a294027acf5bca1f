"""SYNTHIA, Cityscapes (all class settings), NTHU and Mapillary converters,
run on fake data in each publisher's raw layout and checked pixel by pixel
against the class tables of METHODS.md section 0 (written out in
tests/test_datasets/publisher_layouts.py)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


layouts = _load('publisher_layouts',
                REPO / 'tests' / 'test_datasets' / 'publisher_layouts.py')
synthia_tool, cityscapes_tool, nthu_tool, mapillary_tool = (
    _load(f'{name}_converter',
          REPO / 'tools' / 'dataset_converters' / f'{name}.py')
    for name in ('synthia', 'cityscapes', 'nthu', 'mapillary'))


def _read(path: Path) -> np.ndarray:
    img = Image.open(path)
    assert img.mode == 'L', path
    return np.array(img)


def _stats(root: Path) -> dict:
    """class_stats.json (format version 2): label -> its entry."""
    with open(root / 'class_stats.json') as f:
        stats = json.load(f)
    assert stats['version'] == 2
    return stats['labels']


def _check_outputs(root: Path, outputs: dict) -> None:
    """outputs: {output rel. path: expected train ids}; each label's entry
    records the class count its file name states."""
    stats = _stats(root)
    assert sorted(stats) == sorted(outputs)
    for rel, want in outputs.items():
        np.testing.assert_array_equal(_read(root / rel), want, err_msg=rel)
        assert stats[rel]['pixels'] == layouts.counts(want), rel
        stem = Path(rel).stem
        setting = stem[stem.index('_labelTrainIds') + len('_labelTrainIds'):]
        assert stats[rel]['num_classes'] == int(setting or 19), rel


def _synthia_outputs(raws: dict) -> dict:
    tables = {
        '': layouts.SYN_ID_TO_19,
        '16': layouts.SYN_ID_TO_16,
        '7': layouts.SYN_ID_TO_7
    }
    return {
        f'GT/LABELS/{name}_labelTrainIds{tag}.png':
        layouts.expected(raw['red'], table)
        for name, raw in raws.items()
        for tag, table in tables.items()
    }


def test_synthia_every_pixel_of_every_setting(tmp_path, capsys):
    raws = layouts.write_synthia(tmp_path)
    assert synthia_tool.main([str(tmp_path), '--nproc', '2']) == 0
    outputs = _synthia_outputs(raws)
    _check_outputs(tmp_path, outputs)
    assert '9 converted, 0 skipped' in capsys.readouterr().out
    # Depth maps and images are left alone.
    assert len(list((tmp_path / 'Depth' / 'Depth').iterdir())) == 3
    assert not list(tmp_path.rglob('*.tmp'))


def test_synthia_data_catches_8bit_and_bgr_mistakes(tmp_path):
    """The fake labels tell a right read from the two classic mistakes:
    an 8-bit read (classes -> 0) and taking OpenCV's channel 0 (blue) as
    red. Both would fail the per-pixel check above."""
    raws = layouts.write_synthia(tmp_path, num=1, with_depth=False)
    name, raw = next(iter(raws.items()))
    path = str(tmp_path / 'GT' / 'LABELS' / f'{name}.png')
    right = layouts.expected(raw['red'], layouts.SYN_ID_TO_19)
    eight_bit = cv2.imread(path)  # 8-bit BGR: 16-bit values scaled down
    assert not eight_bit[..., 2].any()
    for mistaken in (eight_bit[..., 2], eight_bit[..., 0],
                     cv2.imread(path, cv2.IMREAD_UNCHANGED)[..., 0]):
        wrong = layouts.expected(mistaken, layouts.SYN_ID_TO_19)
        assert (wrong != right).mean() > 0.5
    # The green channel holds instance ids above 255.
    assert cv2.imread(path, cv2.IMREAD_UNCHANGED)[..., 1].min() > 255


def test_synthia_rejects_8bit_labels_by_name(tmp_path, capsys):
    layouts.write_synthia(tmp_path, num=2, with_depth=False)
    bad = tmp_path / 'GT' / 'LABELS' / '0000001.png'
    cv2.imwrite(str(bad), np.zeros((8, 16, 3), np.uint8))
    assert synthia_tool.main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert str(bad) in captured.err and '16-bit' in captured.err
    assert '3 converted, 0 skipped (up to date), 3 failed' in captured.out


def test_synthia_second_run_skips(tmp_path, capsys):
    layouts.write_synthia(tmp_path, num=2, with_depth=False)
    assert synthia_tool.main([str(tmp_path)]) == 0
    first = _stats(tmp_path)
    capsys.readouterr()
    assert synthia_tool.main([str(tmp_path)]) == 0
    assert '0 converted, 6 skipped' in capsys.readouterr().out
    assert _stats(tmp_path) == first


def test_cityscapes_every_setting(tmp_path):
    raws = layouts.write_cityscapes(tmp_path)
    assert cityscapes_tool.main([str(tmp_path)]) == 0
    tables = {
        '': layouts.CS_ID_TO_19,
        '16': layouts.CS_ID_TO_16,
        '13': layouts.CS_ID_TO_13,
        '7': layouts.CS_ID_TO_7
    }
    outputs = {
        rel.replace('_labelIds.png', f'_labelTrainIds{tag}.png'):
        layouts.expected(raw, table)
        for rel, raw in raws.items()
        for tag, table in tables.items()
    }
    _check_outputs(tmp_path, outputs)


def test_nthu_every_pixel_all_cities(tmp_path, capsys):
    raws = layouts.write_nthu(tmp_path, cities=('Rome', 'Rio', 'Taipei'))
    assert nthu_tool.main([str(tmp_path)]) == 0
    outputs = {
        rel.replace('_eval.png', '_labelTrainIds13.png'):
        layouts.expected(raw, layouts.CS_ID_TO_13)
        for rel, raw in raws.items()
    }
    _check_outputs(tmp_path, outputs)
    assert '6 converted' in capsys.readouterr().out


def test_nthu_single_city_folder(tmp_path):
    raws = layouts.write_nthu(tmp_path, cities=('Tokyo', ))
    city = tmp_path / 'Tokyo'
    assert nthu_tool.main([str(city)]) == 0
    assert sorted(_stats(city)) == sorted(
        rel[len('Tokyo/'):].replace('_eval.png', '_labelTrainIds13.png')
        for rel in raws)


@pytest.mark.parametrize('label_dir',
                         ['validation/labels', 'validation/v1.2/labels'])
def test_mapillary_every_pixel(tmp_path, label_dir):
    raws = layouts.write_mapillary(tmp_path, label_dir=label_dir)
    assert mapillary_tool.main([str(tmp_path)]) == 0
    outputs = {
        rel.replace('.png', '_labelTrainIds7.png'):
        layouts.expected(raw, layouts.VISTAS_ID_TO_7)
        for rel, raw in raws.items()
    }
    _check_outputs(tmp_path, outputs)


@pytest.mark.parametrize('tool,folder', [
    (synthia_tool, 'GT/LABELS'),
    (nthu_tool, 'Rome'),
    (mapillary_tool, 'validation/labels'),
])
def test_missing_root_names_the_folder(tmp_path, capsys, tool, folder):
    missing = tmp_path / 'missing'
    assert tool.main([str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err
    assert not (tmp_path / 'missing' / 'class_stats.json').exists()


def test_empty_folders_are_errors(tmp_path, capsys):
    (tmp_path / 'syn' / 'GT' / 'LABELS').mkdir(parents=True)
    assert synthia_tool.main([str(tmp_path / 'syn')]) == 2
    assert str(tmp_path / 'syn' / 'GT' / 'LABELS') in capsys.readouterr().err
    (tmp_path / 'nthu' / 'Rio' / 'Labels' / 'Test').mkdir(parents=True)
    assert nthu_tool.main([str(tmp_path / 'nthu')]) == 2
    assert 'no NTHU test labels' in capsys.readouterr().err


def test_synthia_runs_as_a_script(tmp_path):
    raws = layouts.write_synthia(tmp_path, num=2, with_depth=False)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([
        sys.executable,
        str(REPO / 'tools/dataset_converters/synthia.py'),
        str(tmp_path), '--nproc', '2'
    ],
                          capture_output=True,
                          text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert '6 converted' in proc.stdout
    name, raw = next(iter(raws.items()))
    np.testing.assert_array_equal(
        _read(tmp_path / 'GT' / 'LABELS' / f'{name}_labelTrainIds16.png'),
        layouts.expected(raw['red'], layouts.SYN_ID_TO_16))
