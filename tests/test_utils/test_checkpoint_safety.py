"""Checkpoint loading under torch >= 2.6 (weights_only=True) and atomic
checkpoint writes."""
import os
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

import mmseg_uda  # noqa: F401  (installs the safe loader)
from mmseg_uda.utils.atomic_write import atomic_write_bytes
from mmseg_uda.utils.checkpoint_safety import (UnsafeCheckpointError,
                                               safe_torch_load)


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(targets))**2).mean())
        return out


class ToyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)),
                    targets=torch.ones(1))


class NotAllowed:
    """A class no checkpoint loader should instantiate."""


def make_runner(work_dir, max_iters, resume=False):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
        experiment_name=f'toy_{max_iters}_{resume}')


def test_mmengine_checkpoint_needs_the_allow_list(tmp_path):
    runner = make_runner(tmp_path, max_iters=2)
    runner.train()
    ckpt = tmp_path / 'iter_2.pth'
    # Plain weights_only loading refuses mmengine's own checkpoint...
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ckpt, weights_only=True)
    # ...the safe loader accepts it, with the message hub intact.
    loaded = safe_torch_load(str(ckpt))
    assert loaded['meta']['iter'] == 2
    assert 'message_hub' in loaded and 'optimizer' in loaded


def test_resume_continues_exactly(tmp_path):
    full = make_runner(tmp_path / 'full', max_iters=4)
    full.train()
    part = make_runner(tmp_path / 'part', max_iters=2)
    part.train()
    resumed = make_runner(tmp_path / 'part', max_iters=4, resume=True)
    resumed.train()
    assert resumed.iter == 4
    for a, b in zip(full.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(a, b)
    # The optimiser's momentum buffers came back too.
    state = resumed.optim_wrapper.optimizer.state_dict()['state']
    assert len(state) == 2


def test_unsafe_checkpoint_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': NotAllowed()}, path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(nn.Linear(1, 1), str(path))
    message = str(err.value)
    assert str(path) in message and 'NotAllowed' in message


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    atomic_write_bytes(b'old', path)

    def crash(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(b'new content', path)
    assert path.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pth']


def test_atomic_write_keeps_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write_bytes(b'data', tmp_path / 'f.bin')
    finally:
        os.umask(umask)
    assert (tmp_path / 'f.bin').stat().st_mode & 0o777 == 0o644
