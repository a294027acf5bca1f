import numpy as np
import pytest
from PIL import Image

from mmseg_uda.datasets import CityscapesUDADataset, GTA5Dataset
from mmseg_uda.datasets.data_root_check import (DataRootError, check_data_list,
                                                converter_command)

GTA5 = dict(
    cls=GTA5Dataset,
    kwargs=dict(),
    img='images/00001.png',
    label='labels/00001_labelTrainIds.png',
    script='gta5.py')
CITYSCAPES = dict(
    cls=CityscapesUDADataset,
    kwargs=dict(
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train')),
    img='leftImg8bit/train/ulm/ulm_000000_000001_leftImg8bit.png',
    label='gtFine/train/ulm/ulm_000000_000001_gtFine_labelTrainIds.png',
    script='cityscapes.py')


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.mark.parametrize('spec', [GTA5, CITYSCAPES], ids=['gta5', 'city'])
def test_missing_root_names_folder_and_converter(tmp_path, spec):
    root = tmp_path / 'not_there'
    with pytest.raises(DataRootError) as err:
        spec['cls'](data_root=str(root), **spec['kwargs'])
    message = str(err.value)
    assert str(root) in message and 'does not exist' in message
    assert f'python tools/dataset_converters/{spec["script"]} {root}' in \
        message


@pytest.mark.parametrize('spec', [GTA5, CITYSCAPES], ids=['gta5', 'city'])
def test_empty_image_folder(tmp_path, spec):
    img_dir = (tmp_path / spec['img']).parent
    img_dir.mkdir(parents=True)
    with pytest.raises(DataRootError, match='no images named'):
        spec['cls'](data_root=str(tmp_path), **spec['kwargs'])


@pytest.mark.parametrize('spec', [GTA5, CITYSCAPES], ids=['gta5', 'city'])
def test_missing_converted_label_names_file_and_converter(tmp_path, spec):
    _write(tmp_path / spec['img'], np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(DataRootError) as err:
        spec['cls'](data_root=str(tmp_path), **spec['kwargs'])
    message = str(err.value)
    assert str(tmp_path / spec['label']) in message
    assert f'python tools/dataset_converters/{spec["script"]} {tmp_path}' \
        in message

    _write(tmp_path / spec['label'], np.zeros((2, 2), np.uint8))
    assert len(spec['cls'](data_root=str(tmp_path), **spec['kwargs'])) == 1


@pytest.mark.parametrize('spec', [GTA5, CITYSCAPES], ids=['gta5', 'city'])
def test_require_labels_false_accepts_unconverted_split(tmp_path, spec):
    with pytest.raises(DataRootError, match='does not exist'):
        spec['cls'](
            data_root=str(tmp_path), require_labels=False, **spec['kwargs'])
    _write(tmp_path / spec['img'], np.zeros((2, 2, 3), np.uint8))
    dataset = spec['cls'](
        data_root=str(tmp_path), require_labels=False, **spec['kwargs'])
    assert len(dataset) == 1 and dataset.require_labels is False


def test_lazy_init_skips_the_check(tmp_path):
    dataset = GTA5Dataset(data_root=str(tmp_path / 'none'), lazy_init=True)
    assert dataset.metainfo['classes'][0] == 'road'


def test_check_data_list_abbreviates_long_lists(tmp_path):
    data_list = [
        dict(img_path=__file__, seg_map_path=str(tmp_path / f'{i}.png'))
        for i in range(8)
    ]
    with pytest.raises(DataRootError) as err:
        check_data_list(data_list, 'imgs', '.png', 'X', 'cmd')
    message = str(err.value)
    assert '8 of 8' in message and 'and 3 more' in message
    assert str(tmp_path / '4.png') in message
    assert str(tmp_path / '5.png') not in message


def test_check_data_list_reports_missing_images():
    data_list = [dict(img_path='/no/such/image.png')]
    with pytest.raises(DataRootError, match='/no/such/image.png'):
        check_data_list(data_list, 'imgs', '.png', 'X', 'cmd')


def test_converter_command_placeholder():
    assert converter_command('gta5.py', None) == \
        'python tools/dataset_converters/gta5.py DATA_ROOT'
