"""Entry-point helpers: --amp config switch, work dir default."""
import pytest
import torch
from mmengine.config import Config

from mmseg_uda.utils import launch


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)


def test_amp_switches_a_plain_wrapper_to_bf16(fake_gpu):
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper',
                                         optimizer=dict(type='SGD', lr=1.))))
    launch.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'


def test_amp_switches_every_wrapper_of_a_multi_optimiser_config(fake_gpu):
    cfg = Config(dict(optim_wrapper=dict(
        constructor='MultiOptimWrapperConstructor',
        segmentor=dict(type='OptimWrapper', optimizer=dict(type='SGD')),
        discriminator=dict(type='OptimWrapper', optimizer=dict(type='Adam'),
                           modules=['d']))))
    launch.enable_amp(cfg)
    for name in ('segmentor', 'discriminator'):
        assert cfg.optim_wrapper[name].type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.discriminator.modules == ['d']


def test_amp_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    with pytest.raises(SystemExit, match='--amp needs a CUDA GPU'):
        launch.enable_amp(cfg)


def test_default_work_dir_keeps_the_method_folder():
    cfg = Config(dict())
    launch.set_work_dir(cfg, 'configs/maxsquare/gta2cs.py', None)
    assert cfg.work_dir == './work_dirs/maxsquare/gta2cs'
    launch.set_work_dir(cfg, 'configs/maxsquare/gta2cs.py', 'elsewhere')
    assert cfg.work_dir == 'elsewhere'
