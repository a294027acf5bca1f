"""Worker of test_ddp_training.py, started by ``torch.distributed.run``.

Builds the runner exactly as tools/train.py does (launcher 'pytorch', gloo
on the CPU), trains, and saves this rank's parameters before and after
training so the test can compare ranks.

Usage: ddp_worker.py CONFIG WORK_DIR [key=value ...]
"""
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))
import mmseg_uda  # noqa: E402,F401
from mmseg_uda.utils.launch import init_cpu_distributed  # noqa: E402


class ParamSnapshotHook(Hook):
    """Saves this rank's parameters at the start and end of training."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def _params(self, runner):
        return {
            name: p.detach().clone()
            for name, p in runner.model.module.named_parameters()
        }

    def before_train(self, runner) -> None:
        self.start = self._params(runner)

    def after_train(self, runner) -> None:
        torch.save(
            dict(start=self.start, end=self._params(runner),
                 wrapper=type(runner.model).__name__),
            osp.join(self.out_dir, f'rank{runner.rank}.pt'))


def main() -> None:
    config, work_dir, *options = sys.argv[1:]
    cfg = Config.fromfile(config)
    overrides = {}
    for option in options:  # the same syntax as --cfg-options
        key, value = option.split('=', 1)
        overrides[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(overrides)
    cfg.work_dir = work_dir
    cfg.launcher = 'pytorch'
    init_cpu_distributed('pytorch')
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ParamSnapshotHook(work_dir), priority='LOWEST')
    runner.train()


if __name__ == '__main__':
    main()
