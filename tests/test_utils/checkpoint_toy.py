"""A tiny mmengine training run with SafeCheckpointHook, shared by the
checkpointing tests and run as a subprocess to be killed while it saves:

    python tests/test_utils/checkpoint_toy.py WORK_DIR MAX_ITERS [PAD]

(``PAD`` floats of constant buffer make each save take a while); it resumes
from WORK_DIR when there is anything to resume from.
"""
import itertools
import os.path as osp
import sys

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
import mmseg_uda  # noqa: E402,F401
from mmseg_uda.engine.hooks import SafeCheckpointHook  # noqa: E402

_RUN_IDS = itertools.count()


class ToyModel(BaseModel):

    def __init__(self, pad: int = 0):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(2, 1)
        self.register_buffer('pad', torch.ones(pad))

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


def make_runner(work_dir, max_iters, resume=False, pad=0, max_keep_ckpts=1,
                interval=1, name=None):
    return Runner(
        model=ToyModel(pad),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type=SafeCheckpointHook, interval=interval,
                            by_epoch=False, max_keep_ckpts=max_keep_ckpts),
            logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
        # unique: a reused name would reuse the logger (and its old stream)
        experiment_name=name or f'toy_{max_iters}_{resume}_{next(_RUN_IDS)}')


if __name__ == '__main__':
    work_dir, max_iters = sys.argv[1], int(sys.argv[2])
    pad = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    make_runner(work_dir, max_iters, resume=True, pad=pad).train()
