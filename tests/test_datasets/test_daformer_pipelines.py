"""The 512x512 data pipelines of DAFormer / HRDA / MIC (METHODS.md 7.3):
the keep-ratio resize sizes and MMSeg's RandomCrop(cat_max_ratio) re-draw
rule (up to 10 re-draws until >= 2 non-ignore classes and the largest
< 75 % of them; the 11th window unchecked), checked on the base configs'
own transforms."""
from pathlib import Path

import numpy as np
import pytest
from mmengine import Config
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

REPO = Path(__file__).resolve().parents[2]
BASES = REPO / 'configs' / '_base_' / 'datasets'


def _step(base: str, pipeline: str, name: str) -> dict:
    cfg = Config.fromfile(str(BASES / f'{base}.py'))
    steps = [t for t in cfg[pipeline] if t.type == name]
    assert len(steps) == 1, (base, pipeline, name)
    return steps[0]


@pytest.mark.parametrize('base,size,want', [
    ('uda_gta5_to_cityscapes_512x512', (1914, 1052), (1280, 704)),
    ('uda_synthia_to_cityscapes_512x512', (1280, 760), (1280, 760)),
])
def test_source_resize_keeps_the_ratio(base, size, want):
    init_default_scope('mmseg')
    resize = TRANSFORMS.build(_step(base, 'source_pipeline', 'Resize'))
    w, h = size
    results = dict(
        img=np.zeros((h, w, 3), np.uint8),
        gt_seg_map=np.zeros((h, w), np.uint8),
        seg_fields=['gt_seg_map'])
    out = resize(results)
    assert out['img'].shape[1::-1] == want
    assert out['gt_seg_map'].shape[::-1] == want


def test_target_and_test_resize_cityscapes_to_1024x512():
    init_default_scope('mmseg')
    for pipeline in ('target_pipeline', 'test_pipeline'):
        resize = TRANSFORMS.build(
            _step('uda_gta5_to_cityscapes_512x512', pipeline, 'Resize'))
        out = resize(dict(img=np.zeros((1024, 2048, 3), np.uint8)))
        assert out['img'].shape[:2] == (512, 1024)


def _recording_randint(monkeypatch, offsets):
    """np.random.randint returning scripted window offsets (row, column
    alternately), recording each window."""
    windows = []
    queue = list(offsets)

    def randint(low, high=None, size=None, dtype=int):
        value = queue.pop(0) if queue else 0
        windows.append(value)
        return value

    monkeypatch.setattr(np.random, 'randint', randint)
    return windows


def _crop(monkeypatch, label, offsets, pipeline='source_pipeline'):
    init_default_scope('mmseg')
    cfg = _step('uda_gta5_to_cityscapes_512x512', pipeline, 'RandomCrop')
    crop = TRANSFORMS.build(dict(cfg, crop_size=(4, 4)))
    windows = _recording_randint(monkeypatch, offsets)
    results = dict(
        img=np.zeros(label.shape + (3, ), np.uint8),
        gt_seg_map=label.copy(),
        seg_fields=['gt_seg_map'])
    out = crop(results)
    return len(windows) // 2, out['gt_seg_map']


def test_crop_retried_until_two_classes_and_none_dominant(monkeypatch):
    # columns 0-4 class 0, column 5 class 1, columns 6-11 class 2
    label = np.zeros((4, 12), np.uint8)
    label[:, 5:] = 1
    label[:, 6:] = 2
    windows, out = _crop(monkeypatch, label, [0, 0, 0, 2, 0, 4])
    # window 1 (column 0): one class; window 2 (column 2): 1 px column of
    # class 1 = 4 of 16 pixels, class 0 75 % (not < 75 %); window 3 (column
    # 4): 0 / 1 / 2 = 4 / 4 / 8 -> largest 50 %: accepted
    assert windows == 3
    np.testing.assert_array_equal(out, label[:, 4:8])


def test_ignore_does_not_count_as_a_class(monkeypatch):
    label = np.full((4, 8), 255, np.uint8)
    label[:, :2] = 3  # one non-ignore class in every window
    windows, _ = _crop(monkeypatch, label, [0, 0] * 20)
    assert windows == 11


def test_eleventh_window_used_unchecked(monkeypatch):
    label = np.zeros((4, 24), np.uint8)
    label[:, 20:] = 5
    # ten single-class windows, then the 11th (column 8, single class too)
    # is used although it fails; column 20 would have passed
    offsets = [0, 0] * 10 + [0, 8, 0, 20]
    windows, out = _crop(monkeypatch, label, offsets)
    assert windows == 11
    np.testing.assert_array_equal(out, label[:, 8:12])


def test_target_crop_never_reads_labels(monkeypatch):
    init_default_scope('mmseg')
    cfg = _step('uda_gta5_to_cityscapes_512x512', 'target_pipeline',
                'RandomCrop')
    assert cfg.get('cat_max_ratio', 1.0) == 1.0
    crop = TRANSFORMS.build(dict(cfg, crop_size=(4, 4)))
    windows = _recording_randint(monkeypatch, [0, 3])
    out = crop(dict(img=np.arange(4 * 12 * 3, dtype=np.uint8).reshape(
        4, 12, 3)))
    assert len(windows) == 2 and out['img'].shape == (4, 4, 3)
