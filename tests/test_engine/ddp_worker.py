"""Worker of test_ddp_training.py, started by ``torch.distributed.run``.

Builds the runner exactly as tools/train.py does (launcher 'pytorch', gloo
on the CPU), trains, and saves this rank's parameters and buffers (those of
networks held outside the module tree, e.g. DACS's teacher, included) before
and after training (and after every iteration, and the buffers of the last
iteration just before the ranks average them) so the test can compare
ranks.

Usage: ddp_worker.py CONFIG WORK_DIR [key=value ...] [nan_at=RANK:ITER]

``nan_at=1:2`` makes rank 1's first loss term NaN in iteration 2
(1-based).
"""
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))
import mmseg_uda  # noqa: E402,F401
from mmseg_uda.models.uda import named_held_modules  # noqa: E402
from mmseg_uda.utils.launch import init_cpu_distributed  # noqa: E402


def _held(runner, kind):
    """Parameters or buffers of the networks terms hold outside the module
    tree (DACS's teacher), by state-dict name."""
    return {
        name: t
        for prefix, network in named_held_modules(runner.model.module)
        for name, t in getattr(network, f'named_{kind}')(prefix)
    }


def _params(runner):
    params = dict(runner.model.module.named_parameters())
    params.update(_held(runner, 'parameters'))
    return {name: p.detach().clone() for name, p in params.items()}


def _buffers(runner):
    buffers = dict(runner.model.module.named_buffers())
    buffers.update(_held(runner, 'buffers'))
    return {name: b.detach().clone() for name, b in buffers.items()}


class ParamSnapshotHook(Hook):
    """Saves this rank's parameters and buffers at the start and end of
    training and after every iteration."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.per_iter = {}

    def before_train(self, runner) -> None:
        self.start = _params(runner)
        self.start_buffers = _buffers(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.per_iter[runner.iter + 1] = dict(params=_params(runner),
                                              buffers=_buffers(runner))

    def after_train(self, runner) -> None:
        torch.save(
            dict(start=self.start, end=_params(runner),
                 start_buffers=self.start_buffers,
                 end_buffers=_buffers(runner), per_iter=self.per_iter,
                 unsynced_buffers=getattr(runner, 'unsynced_buffers', None),
                 wrapper=type(runner.model).__name__),
            osp.join(self.out_dir, f'rank{runner.rank}.pt'))


class UnsyncedBufferHook(Hook):
    """Keeps the last iteration's buffers as they are before
    AverageBuffersHook (priority 'LOW' = 70) averages them."""

    priority = 65

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == runner.max_iters:
            runner.unsynced_buffers = _buffers(runner)


class NaNInjectionHook(Hook):
    """Makes one rank's first loss term NaN in one iteration."""

    def __init__(self, rank: int, iteration: int) -> None:
        self.rank, self.iteration = rank, iteration

    def before_train(self, runner) -> None:
        model = runner.model.module
        loss = model.loss

        def loss_with_nan(*args, **kwargs):
            losses = loss(*args, **kwargs)
            if (runner.rank == self.rank
                    and runner.iter + 1 == self.iteration):
                key = next(k for k in losses if 'loss' in k)
                losses[key] = losses[key] * float('nan')
            return losses

        model.loss = loss_with_nan


def main() -> None:
    config, work_dir, *options = sys.argv[1:]
    cfg = Config.fromfile(config)
    overrides, nan_at = {}, None
    for option in options:  # the same syntax as --cfg-options
        key, value = option.split('=', 1)
        if key == 'nan_at':
            nan_at = [int(v) for v in value.split(':')]
            continue
        overrides[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(overrides)
    cfg.work_dir = work_dir
    cfg.launcher = 'pytorch'
    init_cpu_distributed('pytorch')
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ParamSnapshotHook(work_dir), priority='LOWEST')
    runner.register_hook(UnsyncedBufferHook())
    if nan_at is not None:
        runner.register_hook(NaNInjectionHook(*nan_at))
    runner.train()


if __name__ == '__main__':
    main()
