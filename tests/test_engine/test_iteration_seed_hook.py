"""IterationSeedHook: a run with dropout resumed from a checkpoint equals
the uninterrupted run exactly, also when something draws from torch's
generator between iterations (validation, a new loader iterator); without
the hook it does not."""
import itertools

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import mmseg_uda  # noqa: F401
from mmseg_uda.engine.hooks import IterationSeedHook
from mmseg_uda.engine.hooks.iteration_seed_hook import iteration_seed

_RUN_IDS = itertools.count()


class DropoutToy(BaseModel):

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(8, 1)
        self.dropout = nn.Dropout(0.5)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(self.dropout(torch.stack(inputs)))
        if mode != 'loss':
            return out
        return dict(loss=((out - torch.stack(targets))**2).mean())


class ToyData(Dataset):

    def __len__(self):
        return 32

    def __getitem__(self, i):
        return dict(inputs=torch.arange(8.) + i, targets=torch.ones(1))


class DrawBetweenIterations(Hook):
    """Draws from torch's generator after each iteration, as a
    validation's new DataLoader iterator does (base seed)."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        torch.rand(3)


def train(work_dir, max_iters, resume=False, seeded=True):
    hooks = [DrawBetweenIterations()]
    if seeded:
        hooks.append(IterationSeedHook())
    runner = Runner(
        model=DropoutToy(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(),
            sampler=dict(type='InfiniteSampler', shuffle=True),
            batch_size=2,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=hooks,
        resume=resume,
        randomness=dict(seed=3),
        default_scope='mmseg',
        experiment_name=f'iteration_seed_{next(_RUN_IDS)}')
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.mark.parametrize('seeded', [True, False])
def test_resume_with_dropout_equals_the_uninterrupted_run(tmp_path, seeded):
    full = train(tmp_path / 'full', 4, seeded=seeded)
    train(tmp_path / 'part', 2, seeded=seeded)
    resumed = train(tmp_path / 'part', 4, resume=True, seeded=seeded)
    equal = all(torch.equal(full[k], resumed[k]) for k in full)
    # without the hook the dropout masks after the resume point differ
    assert equal == seeded


def test_iteration_seeds_are_deterministic_and_distinct():
    seeds = {iteration_seed(s, i) for s in range(3) for i in range(100)}
    assert len(seeds) == 300
    assert iteration_seed(1234, 7) == iteration_seed(1234, 7)
    assert all(0 <= s < 2**64 for s in seeds)
