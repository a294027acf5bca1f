"""GTA5's official train/val/test split (split.mat of the read_mapping code;
issue 10, item 5)."""
import importlib.util
import os.path as osp

import pytest
import scipy.io
from mmengine.config import Config
from publisher_layouts import write_gta5_split
from test_gta5 import _write_converted_gta5

from mmseg_uda.datasets import GTA5Dataset
from mmseg_uda.datasets.data_root_check import DataRootError

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _frames(dataset):
    return [
        osp.basename(dataset.get_data_info(i)['img_path'])
        for i in range(len(dataset))
    ]


def test_each_split_lists_exactly_its_frames(tmp_path):
    _write_converted_gta5(tmp_path, num=6)
    # column vectors of 1-based frame numbers, unsorted, as MATLAB saves them
    write_gta5_split(tmp_path, train=[5, 1, 2], val=[4], test=[3, 6])
    assert _frames(GTA5Dataset(data_root=str(tmp_path), split='train')) == [
        '00001.png', '00002.png', '00005.png'
    ]
    assert _frames(GTA5Dataset(data_root=str(tmp_path), split='val')) == [
        '00004.png'
    ]
    assert _frames(GTA5Dataset(data_root=str(tmp_path), split='test')) == [
        '00003.png', '00006.png'
    ]
    # no split: every frame (FADA)
    assert len(GTA5Dataset(data_root=str(tmp_path))) == 6
    # a split file elsewhere
    other = tmp_path / 'elsewhere'
    other.mkdir()
    write_gta5_split(other, train=[6], val=[], test=[])
    dataset = GTA5Dataset(data_root=str(tmp_path), split='train',
                          split_file=str(other / 'split.mat'))
    assert _frames(dataset) == ['00006.png']


def test_missing_split_file_is_named(tmp_path):
    _write_converted_gta5(tmp_path, num=2)
    with pytest.raises(DataRootError) as err:
        GTA5Dataset(data_root=str(tmp_path), split='train')
    assert str(tmp_path / 'split.mat') in str(err.value)
    assert 'read_mapping' in str(err.value)


def test_bad_split_contents_are_named(tmp_path):
    _write_converted_gta5(tmp_path, num=2)
    scipy.io.savemat(str(tmp_path / 'split.mat'), dict(trainIds=[[1]]))
    with pytest.raises(ValueError, match="'valIds'"):
        GTA5Dataset(data_root=str(tmp_path), split='val')
    write_gta5_split(tmp_path, train=[1, 2, 9], val=[], test=[])
    with pytest.raises(DataRootError, match='00009.png'):
        GTA5Dataset(data_root=str(tmp_path), split='train')
    with pytest.raises(ValueError, match='split must be'):
        GTA5Dataset(data_root=str(tmp_path), split='training')


def _converter():
    spec = importlib.util.spec_from_file_location(
        'gta5_converter', osp.join(REPO, 'tools/dataset_converters/gta5.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_reports_the_split(tmp_path, capsys):
    _write_converted_gta5(tmp_path, num=3)
    converter = _converter()
    assert converter.main([str(tmp_path)]) == 0
    assert 'read_mapping' in capsys.readouterr().out
    write_gta5_split(tmp_path, train=[1, 2], val=[3], test=[])
    assert converter.main([str(tmp_path)]) == 0
    assert 'train 2, val 1, test 0' in capsys.readouterr().out
    write_gta5_split(tmp_path, train=[1, 7], val=[3], test=[])
    assert converter.main([str(tmp_path)]) == 1
    assert '[7]' in capsys.readouterr().err


@pytest.mark.parametrize('config', [
    'configs/source_only/gta2cs.py', 'configs/source_only/gta2cs_multi.py',
    'configs/maxsquare/gta2cs.py', 'configs/maxsquare/gta2cs_iw_multi.py'
])
def test_maxsquare_trains_on_the_official_train_split(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    dataset = cfg.train_dataloader.dataset
    source = dataset.get('source', dataset)
    assert source.type == 'GTA5Dataset' and source.split == 'train'


def test_fada_uses_all_frames():
    cfg = Config.fromfile(osp.join(REPO, 'configs/fada/gta2cs.py'))
    assert cfg.train_dataloader.dataset.source.get('split') is None


def test_option_selects_the_source_model_on_gta5_val():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/source_only',
                 'gta2cs_multi_select_on_gta5_val.py'))
    assert cfg.val_dataloader.dataset.type == 'GTA5Dataset'
    assert cfg.val_dataloader.dataset.split == 'val'
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    assert cfg.test_dataloader.dataset.type == 'CityscapesUDADataset'
    assert cfg.model.auxiliary_head is not None
