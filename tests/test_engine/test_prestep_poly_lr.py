"""The CAG schedule as released (METHODS.md 6.4): the scheduler steps before
each optimiser step, so iteration k (from 0) uses
lr0 (1 - (k + 1) / 90000)^0.9, the first already lr0 (1 - 1 / 90000)^0.9.
Checked through a real MMEngine runner with the configs' own optimiser and
scheduler settings (stage and warm-up, both of whose optimisers), across a
--resume, and over the whole horizon on the scheduler alone."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

from mmseg_uda.engine.schedulers import PrestepPolyLR

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
HORIZON = 90000
POWER = 0.9


def released_lr(lr0, k, horizon=HORIZON):
    """The release's lr in iteration k (0-based): its scheduler has been
    stepped k + 1 times, lr0 (1 - (k + 1) / horizon)^0.9."""
    return lr0 * (1 - (k + 1) / horizon)**POWER


class Toy(BaseModel):
    """A segmentor-like model with a discriminator where the warm-up's
    optimiser config looks for one."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(3, 2)
        self.uda_terms = nn.ModuleList([nn.Module()])
        self.uda_terms[0].discriminator = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        feature = self.backbone(inputs)
        disc = self.uda_terms[0].discriminator(feature.detach())
        return dict(loss=feature.pow(2).mean() + disc.mean())


class LrRecorder(Hook):
    """The lr of every optimiser's groups when each iteration starts (the
    schedulers step after it, so this is the lr its update uses)."""

    def __init__(self):
        self.seen = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.seen[runner.iter] = {
            k: list(v) for k, v in runner.optim_wrapper.get_lr().items()
        }


def run(cfg, work_dir, max_iters, resume=False):
    init_default_scope('mmseg')
    recorder = LrRecorder()
    loader = DataLoader([dict(inputs=torch.ones(3) * i) for i in range(4)],
                        batch_size=2)
    runner = Runner(
        model=Toy(),
        work_dir=str(work_dir),
        train_dataloader=loader,
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=copy.deepcopy(cfg.optim_wrapper.to_dict()),
        param_scheduler=copy.deepcopy(
            [dict(s) for s in cfg.param_scheduler]),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=2)),
        custom_hooks=[recorder],
        default_scope='mmseg',
        resume=resume,
        experiment_name=f'{osp.basename(str(work_dir))}_{max_iters}_'
        f'{int(resume)}')
    runner.train()
    return recorder.seen


def base_lrs(cfg):
    """lr0 per recorded key ('lr' or '<name>.lr') from the config."""
    wrapper = cfg.optim_wrapper
    if 'optimizer' in wrapper:
        return {'lr': wrapper.optimizer.lr}
    return {
        f'{name}.lr': entry.optimizer.lr
        for name, entry in wrapper.items()
        if isinstance(entry, dict) and 'optimizer' in entry
    }


@pytest.mark.parametrize(
    'config', ['configs/cag/gta2cs_stage1.py', 'configs/cag/gta2cs_warmup.py'])
def test_runner_uses_the_released_lr_and_resume_keeps_it(config, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, config))
    lrs = base_lrs(cfg)
    if 'warmup' in config:  # the segmentation SGD and D's Adam, both
        assert set(lrs) == {'segmentor.lr', 'discriminator.lr'}
    full = run(cfg, tmp_path / 'full', 4)
    run(cfg, tmp_path / 'part', 2)
    resumed = run(cfg, tmp_path / 'part', 4, resume=True)
    assert sorted(full) == [0, 1, 2, 3] and sorted(resumed) == [2, 3]
    for k in range(4):
        for key, lr0 in lrs.items():
            expected = released_lr(lr0, k)
            for value in full[k][key]:
                assert value == pytest.approx(expected, rel=1e-12), (k, key)
            if k >= 2:
                assert resumed[k][key] == full[k][key], (k, key)
    # iteration 0 is not lr0: MMEngine's own PolyLR order would give that
    first = full[0][next(iter(lrs))][0]
    assert first < lrs[next(iter(lrs))] * (1 - 0.5 / HORIZON)**POWER


def test_whole_horizon_and_after():
    """Closed form over the configs' horizon: exact late (no accumulated
    rounding), 0 at the release's last iteration, and it stays 0."""
    lr0 = 1e-4
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = PrestepPolyLR(optimizer, eta_min=0.0, power=POWER, begin=0,
                              end=HORIZON + 1, by_epoch=False)
    checks = {0, 1, 2, 31205, 62411, HORIZON - 2}
    for k in range(HORIZON + 3):
        lr = optimizer.param_groups[0]['lr']
        if k in checks:
            assert lr == pytest.approx(released_lr(lr0, k), rel=1e-12), k
            assert lr > 0, k
        if k >= HORIZON - 1:
            assert lr == 0, k
        scheduler.step()


def test_eta_min_begin_and_state_dict_resume():
    """eta_min and a later begin shift the same way; a fresh scheduler
    loading a state dict (MMEngine's resume) continues the sequence."""
    lr0, eta_min, begin, horizon = 0.5, 0.01, 3, 10

    def expected(i):  # global step i
        if i < begin:
            return lr0
        return eta_min + (lr0 - eta_min) * max(
            0.0, 1 - (i - begin + 1) / horizon)**POWER

    def make():
        param = nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([param], lr=lr0)
        return optimizer, PrestepPolyLR(
            optimizer, eta_min=eta_min, power=POWER, begin=begin,
            end=begin + horizon + 1, by_epoch=False)

    optimizer, scheduler = make()
    values = []
    for _ in range(16):
        values.append(optimizer.param_groups[0]['lr'])
        scheduler.step()
    for i, value in enumerate(values):
        assert value == pytest.approx(expected(i), rel=1e-12), i
    # resume after 6 steps into a new optimiser/scheduler pair
    optimizer, scheduler = make()
    for _ in range(6):
        scheduler.step()
    state = (copy.deepcopy(optimizer.state_dict()),
             copy.deepcopy(scheduler.state_dict()))
    optimizer2, scheduler2 = make()
    optimizer2.load_state_dict(state[0])
    scheduler2.load_state_dict(state[1])
    for i in range(6, 16):
        assert optimizer2.param_groups[0]['lr'] == pytest.approx(
            expected(i), rel=1e-12), i
        scheduler2.step()
