import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.label_conversion import (CONVERTED, FAILED, SKIPPED,
                                                 LabelTask, convert_label,
                                                 convert_labels,
                                                 count_train_ids, find_files,
                                                 load_class_stats, make_task,
                                                 read_class_stats,
                                                 read_label_ids,
                                                 write_label_atomic)

# A LUT that maps raw id v to v // 2 for v < 40 and ignores the rest.
HALF_LUT = np.array([v // 2 if v < 40 else 255 for v in range(256)],
                    dtype=np.uint8)


def _paletted(ids: np.ndarray, path) -> None:
    img = Image.fromarray(ids)
    # A palette whose colours differ from the indices, as in GTA5.
    img.putpalette([(7 * i + c * 50) % 256 for i in range(256)
                    for c in range(3)])
    assert img.mode == 'P'
    img.save(path)


def test_read_label_ids_keeps_palette_indices(tmp_path):
    ids = np.arange(48, dtype=np.uint8).reshape(6, 8)
    _paletted(ids, tmp_path / 'p.png')
    Image.fromarray(ids).save(tmp_path / 'l.png')
    np.testing.assert_array_equal(read_label_ids(str(tmp_path / 'p.png')), ids)
    np.testing.assert_array_equal(read_label_ids(str(tmp_path / 'l.png')), ids)


def test_read_label_ids_rejects_colour_labels(tmp_path):
    path = str(tmp_path / 'rgb.png')
    Image.fromarray(np.zeros((2, 3, 3), np.uint8)).save(path)
    with pytest.raises(ValueError, match=re.escape(path) + ".*mode 'RGB'"):
        read_label_ids(path)


def test_count_train_ids_by_hand():
    label = np.array([[0, 0, 3], [255, 3, 3], [18, 19, 255]], np.uint8)
    # 19 is not a class when num_classes=19; ignore is never counted
    assert count_train_ids(label, 19) == {'0': 2, '3': 3, '18': 1}
    assert list(count_train_ids(label, 20)) == ['0', '3', '18', '19']


def test_write_label_atomic_roundtrip_and_no_temp_left(tmp_path):
    label = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = str(tmp_path / 'out.png')
    write_label_atomic(label, path)
    np.testing.assert_array_equal(np.array(Image.open(path)), label)
    assert os.listdir(tmp_path) == ['out.png']


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'out.png')
    old = np.zeros((3, 4), np.uint8)
    write_label_atomic(old, path)

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_label_atomic(np.ones((3, 4), np.uint8), path)
    np.testing.assert_array_equal(np.array(Image.open(path)), old)
    assert os.listdir(tmp_path) == ['out.png']


def _task(tmp_path, ids: np.ndarray) -> LabelTask:
    src = str(tmp_path / 'raw.png')
    _paletted(ids, src)
    return make_task(src, str(tmp_path / 'sub' / 'out.png'), str(tmp_path))


def test_convert_then_skip_then_reconvert_when_source_is_newer(tmp_path):
    (tmp_path / 'sub').mkdir()
    ids = np.array([[0, 1, 2, 3], [38, 39, 40, 255]], np.uint8)
    task = _task(tmp_path, ids)
    assert task.key == 'sub/out.png'

    result = convert_label(task, HALF_LUT, 19)
    assert result.status == CONVERTED
    expected = np.array([[0, 0, 1, 1], [19, 19, 255, 255]], np.uint8)
    np.testing.assert_array_equal(np.array(Image.open(task.dst)), expected)
    assert result.class_counts == {'0': 2, '1': 2}

    again = convert_label(task, HALF_LUT, 19)
    assert again.status == SKIPPED
    assert again.class_counts == result.class_counts

    mtime = os.path.getmtime(task.dst)
    os.utime(task.src, (mtime + 10, mtime + 10))
    assert convert_label(task, HALF_LUT, 19).status == CONVERTED


def test_unreadable_output_is_regenerated(tmp_path):
    (tmp_path / 'sub').mkdir()
    task = _task(tmp_path, np.zeros((2, 2), np.uint8))
    with open(task.dst, 'wb') as f:
        f.write(b'garbage')
    assert convert_label(task, HALF_LUT, 19).status == CONVERTED
    assert np.array(Image.open(task.dst)).shape == (2, 2)


def test_corrupt_source_fails_with_its_name(tmp_path):
    src = tmp_path / 'bad.png'
    src.write_bytes(b'\x89PNG broken')
    task = make_task(str(src), str(tmp_path / 'out.png'), str(tmp_path))
    result = convert_label(task, HALF_LUT, 19)
    assert result.status == FAILED
    assert str(src) in result.error
    assert not (tmp_path / 'out.png').exists()


def test_convert_labels_parallel_summary_and_stats(tmp_path):
    (tmp_path / 'sub').mkdir()
    tasks = []
    for i in range(3):
        src = str(tmp_path / f'{i}.png')
        _paletted(np.full((2, 3), 2 * i, np.uint8), src)
        tasks.append(
            make_task(src, str(tmp_path / 'sub' / f'{i}_t.png'),
                      str(tmp_path)))
    (tmp_path / 'bad.png').write_bytes(b'')
    tasks.append(
        make_task(
            str(tmp_path / 'bad.png'), str(tmp_path / 'sub' / 'bad_t.png'),
            str(tmp_path)))
    stats_path = str(tmp_path / 'stats.json')
    summary = convert_labels(tasks, HALF_LUT, stats_path, nproc=2)
    assert (summary.converted, summary.skipped, summary.failed) == (3, 0, 1)
    assert 'bad.png' in summary.errors[0]
    assert '3 converted' in str(summary) and '1 failed' in str(summary)
    with open(stats_path) as f:
        stats = json.load(f)
    # format version 2: the class setting (19, the array LUT's default)
    # beside each label's pixel counts
    assert stats == {
        'version': 2,
        'labels': {
            f'sub/{i}_t.png': {
                'num_classes': 19,
                'pixels': {
                    str(i): 6
                }
            }
            for i in range(3)
        }
    }


def test_read_class_stats_versions_and_errors(tmp_path):
    v1 = {'a_labelTrainIds.png': {'0': 5, '3': 2}}
    path = tmp_path / 'class_stats.json'
    path.write_text(json.dumps(v1))
    stats = read_class_stats(str(path))
    assert (stats.version, stats.pixels, stats.num_classes) == (1, v1, {})
    assert load_class_stats(str(path)) == v1
    path.write_text(
        json.dumps(
            dict(
                version=2,
                labels={
                    'a_labelTrainIds16.png':
                    dict(num_classes=16, pixels={'0': 5})
                })))
    stats = read_class_stats(str(path))
    assert stats.version == 2
    assert stats.pixels == {'a_labelTrainIds16.png': {'0': 5}}
    assert stats.num_classes == {'a_labelTrainIds16.png': 16}
    for bad, what in [(dict(version=3, labels={}), 'version 3'),
                      (dict(version=2, labels={'a.png': {'0': 5}}),
                       'num_classes'), ([1, 2], 'not a mapping'),
                      ({'a.png': {'0': 'x'}}, 'not a mapping')]:
        path.write_text(json.dumps(bad))
        with pytest.raises(DataRootError, match=what) as err:
            read_class_stats(str(path), 'python convert.py data')
        assert str(path) in str(err.value)
        assert 'python convert.py data' in str(err.value)
    with pytest.raises(DataRootError, match='do not exist'):
        read_class_stats(str(tmp_path / 'missing.json'))


def test_find_files_errors_name_the_folder(tmp_path):
    missing = str(tmp_path / 'nope')
    with pytest.raises(DataRootError, match='nope'):
        find_files(missing, '*.png', 'labels')
    with pytest.raises(DataRootError, match=re.escape(str(tmp_path))):
        find_files(str(tmp_path), '*.png', 'labels')
    (tmp_path / 'a' / 'b').mkdir(parents=True)
    (tmp_path / 'a' / 'b' / 'x.png').write_bytes(b'')
    assert find_files(str(tmp_path), '*/*/*.png',
                      'labels') == [str(tmp_path / 'a' / 'b' / 'x.png')]
