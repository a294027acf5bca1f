import re

import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmseg_uda.datasets.transforms import CheckedLoadImageFromFile
from mmseg_uda.datasets.transforms.checked_load_image import CorruptFileError


def _png_bytes(tmp_path) -> bytes:
    path = tmp_path / 'good.png'
    Image.fromarray(np.full((5, 7, 3), 9, np.uint8)).save(path)
    return path.read_bytes()


def test_registered():
    assert TRANSFORMS.get('CheckedLoadImageFromFile') is \
        CheckedLoadImageFromFile
    assert issubclass(CheckedLoadImageFromFile, LoadImageFromFile)


def test_loads_like_mmcv(tmp_path):
    _png_bytes(tmp_path)
    path = str(tmp_path / 'good.png')
    ours = CheckedLoadImageFromFile()(dict(img_path=path))
    theirs = LoadImageFromFile()(dict(img_path=path))
    np.testing.assert_array_equal(ours['img'], theirs['img'])
    assert ours['img_shape'] == ours['ori_shape'] == (5, 7)


def test_mmcv_does_not_name_an_empty_file(tmp_path):
    # Why the subclass exists: OpenCV's assertion omits the path.
    path = tmp_path / 'empty.png'
    path.write_bytes(b'')
    with pytest.raises(Exception) as err:
        LoadImageFromFile()(dict(img_path=str(path)))
    assert str(path) not in str(err.value)


@pytest.mark.parametrize('kind', ['empty', 'garbage', 'truncated'])
def test_undecodable_file_is_named(tmp_path, kind):
    content = dict(
        empty=b'',
        garbage=b'no image here' * 10,
        truncated=_png_bytes(tmp_path)[:40])[kind]
    path = tmp_path / f'{kind}.png'
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=re.escape(str(path))):
        CheckedLoadImageFromFile()(dict(img_path=str(path)))


def test_missing_file_keeps_file_not_found(tmp_path):
    path = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        CheckedLoadImageFromFile()(dict(img_path=path))


def test_ignore_empty_still_returns_none(tmp_path):
    path = tmp_path / 'empty.png'
    path.write_bytes(b'')
    loader = CheckedLoadImageFromFile(ignore_empty=True)
    assert loader(dict(img_path=str(path))) is None
