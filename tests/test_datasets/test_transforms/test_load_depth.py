import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmseg.registry import TRANSFORMS

from mmseg_uda.datasets.transforms import LoadSynthiaDepth
from mmseg_uda.datasets.transforms.checked_load_image import CorruptFileError


def _depth_file(tmp_path, raw: np.ndarray, name='d.png') -> str:
    path = str(tmp_path / name)
    assert cv2.imwrite(path, raw)
    return path


def _results(path: str, hw=(3, 4)) -> dict:
    return dict(
        depth_map_path=path,
        img_path='img.png',
        img=np.zeros((*hw, 3), np.uint8),
        seg_fields=[])


def test_registered():
    assert TRANSFORMS.get('LoadSynthiaDepth') is LoadSynthiaDepth


def test_value_is_65536_over_raw_plus_one_on_16_bit_data(tmp_path):
    raw = np.array(
        [[0, 1, 255, 256], [1023, 4095, 40000, 65535], [7, 300, 12345, 65534]],
        np.uint16)
    results = LoadSynthiaDepth()(_results(_depth_file(tmp_path, raw)))
    depth = results['gt_depth_map']
    assert depth.dtype == np.float32 and depth.shape == (3, 4)
    # by hand: 65536 / 1, 65536 / 2, 65536 / 256, 65536 / 257
    np.testing.assert_allclose(
        depth[0], [65536.0, 32768.0, 256.0, 255.00389], rtol=1e-6)
    np.testing.assert_allclose(
        depth, 65536.0 / (raw.astype(np.float64) + 1), rtol=1e-6)
    assert depth[1, 3] == 1.0
    assert results['seg_fields'] == ['gt_depth_map']


def test_values_above_255_survive_so_no_8bit_read(tmp_path):
    # An 8-bit read would turn 256 and 511 into the same value.
    raw = np.array([[256, 511]], np.uint16)
    results = LoadSynthiaDepth()(
        _results(_depth_file(tmp_path, raw), hw=(1, 2)))
    assert results['gt_depth_map'][0, 0] != results['gt_depth_map'][0, 1]


def test_8bit_file_is_refused_by_name(tmp_path):
    path = _depth_file(tmp_path, np.full((3, 4), 9, np.uint8))
    with pytest.raises(CorruptFileError, match='d.png.*16-bit'):
        LoadSynthiaDepth()(_results(path))


def test_corrupt_file_and_missing_path(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'\x89PNG broken')
    with pytest.raises(CorruptFileError, match='bad.png'):
        LoadSynthiaDepth()(_results(str(bad)))
    with pytest.raises(KeyError, match='with_depth=True'):
        LoadSynthiaDepth()(dict(img_path='x.png'))


def test_size_mismatch_names_both_files(tmp_path):
    path = _depth_file(tmp_path, np.zeros((2, 4), np.uint16))
    with pytest.raises(ValueError, match='d.png.*img.png'):
        LoadSynthiaDepth()(_results(path))


def test_flip_resize_and_pack_carry_the_depth(tmp_path):
    raw = np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000
    results = _results(_depth_file(tmp_path, raw))
    label = np.arange(12, dtype=np.uint8).reshape(3, 4)
    results.update(gt_seg_map=label, seg_fields=['gt_seg_map'])
    pipeline = Compose([
        LoadSynthiaDepth(),
        TRANSFORMS.build(dict(type='RandomFlip', prob=1.0)),
        TRANSFORMS.build(dict(type='Resize', scale=(8, 6), keep_ratio=False)),
        TRANSFORMS.build(dict(type='PackSegInputs')),
    ])
    packed = pipeline(results)
    depth = packed['data_samples'].gt_depth_map.data
    assert depth.shape == (1, 6, 8)
    flipped = (65536.0 / (raw.astype(np.float64) + 1))[:, ::-1]
    # nearest 2x upsampling of the flipped map
    want = np.repeat(np.repeat(flipped, 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(depth[0].numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(
        packed['data_samples'].gt_sem_seg.data[0].numpy(),
        np.repeat(np.repeat(label[:, ::-1], 2, axis=0), 2, axis=1))
