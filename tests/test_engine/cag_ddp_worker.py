"""Worker of test_cag_stage.py's DDP test, started by torch.distributed.run:
ddp_worker.py's runner, saving this rank's whole state dict (parameters,
anchors, frozen prediction model) after training.

Usage: cag_ddp_worker.py CONFIG WORK_DIR [key=value ...]
"""
import os.path as osp
import sys

import torch
from mmengine.hooks import Hook

sys.path.insert(0, osp.dirname(__file__))
import ddp_worker  # noqa: E402


class StateSnapshotHook(Hook):
    """Saves this rank's full model state after training."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_train(self, runner) -> None:
        state = {
            k: v.detach().clone()
            for k, v in runner.model.module.state_dict().items()
        }
        torch.save(state, osp.join(self.out_dir, f'state{runner.rank}.pt'))


class SnapshotRunner(ddp_worker.Runner):

    def train(self):
        self.register_hook(StateSnapshotHook(self.work_dir), priority='LOWEST')
        return super().train()


if __name__ == '__main__':
    ddp_worker.Runner = SnapshotRunner
    ddp_worker.main()
