"""A CheckpointHook whose saves a kill or a full disk cannot make lose
every checkpoint."""
import logging
import os.path as osp
from collections import deque
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from mmseg_uda.utils.atomic_write import (atomic_write_bytes,
                                          remove_stale_temporaries)
from mmseg_uda.utils.resume import LAST_CHECKPOINT


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's CheckpointHook with a kill-safe order of operations.

    mmengine 0.10.7 deletes the oldest kept checkpoint *before* writing the
    new one and points ``last_checkpoint`` at the new file before it exists,
    so with ``max_keep_ckpts=1`` a kill during the save leaves no checkpoint.
    This hook (same arguments as ``CheckpointHook``) instead

    1. writes the new checkpoint (atomically: temporary file + rename, see
       :mod:`mmseg_uda.utils.atomic_write`; with the SHA-256 of each of its
       tensors in ``meta['integrity']``, see
       :mod:`mmseg_uda.utils.checkpoint_integrity`),
    2. then writes ``last_checkpoint`` atomically, as a path relative to the
       work dir (a copied work dir still resumes),
    3. and only then removes checkpoints beyond ``max_keep_ckpts``,

    so whenever the process dies at least one complete checkpoint remains
    and ``last_checkpoint`` never names a file that was not written. A
    failed save (e.g. a full disk) removes nothing, leaves
    ``last_checkpoint`` on the previous checkpoint, says so and re-raises.
    Temporary files of killed saves are removed when training starts.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        # mmengine forgets the last checkpoint of a resumed run; it is the
        # one a failed save reports as intact.
        last = runner.message_hub.get_info('last_ckpt')
        if last is not None and osp.isfile(last):
            self.last_ckpt = last
        if not is_main_process():
            return
        for folder in {self.out_dir, runner.work_dir}:
            for path in remove_stale_temporaries(folder):
                print_log(
                    f'Removed {path}, left by a save that was interrupted',
                    logger='current',
                    level=logging.WARNING)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        ckpt_filename = self.filename_tmpl.format(step)
        ckpt_path = self.file_backend.join_path(self.out_dir, ckpt_filename)
        kept = list(getattr(self, 'keep_ckpt_ids', []))
        outdated: List[int] = []
        if self.max_keep_ckpts > 0 and not (kept and kept[-1] == step):
            kept.append(step)
            while len(kept) > self.max_keep_ckpts:
                outdated.append(kept.pop(0))
        hub = runner.message_hub
        previous = {
            key: hub.get_info(key)
            for key in ('keep_ckpt_ids', 'last_ckpt')
            if key in hub.runtime_info
        }
        # The saved record still lists the checkpoints this save makes
        # outdated (they are removed only after it): if the removal is cut
        # short, CheckpointHook.before_train of the resumed run removes them.
        if self.max_keep_ckpts > 0:
            hub.update_info('keep_ckpt_ids', outdated + kept)
        hub.update_info('last_ckpt', ckpt_path)
        try:
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except OSError as err:
            for key in ('keep_ckpt_ids', 'last_ckpt'):
                if key in previous:
                    hub.update_info(key, previous[key])
            print_log(
                f'Saving checkpoint {ckpt_path} failed ({err}). Nothing was '
                'removed and last_checkpoint was not changed: ' +
                (f'the previous checkpoint {self.last_ckpt} is intact; '
                 if self.last_ckpt else 'no earlier checkpoint exists; ') +
                'free space and continue with --resume.',
                logger='current',
                level=logging.ERROR)
            raise
        self.last_ckpt = ckpt_path
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids = deque(kept, self.max_keep_ckpts)
        if not is_main_process():
            return
        self._write_last_checkpoint(runner, ckpt_path)
        for old_step in outdated:
            self._remove_checkpoint(
                self.file_backend.join_path(self.out_dir,
                                            self.filename_tmpl.format(
                                                old_step)), ckpt_path)

    @staticmethod
    def _write_last_checkpoint(runner, ckpt_path: str) -> None:
        """Point ``work_dir/last_checkpoint`` at ``ckpt_path``, atomically.

        A local checkpoint below the work dir is recorded relative to it.
        """
        name = ckpt_path
        if '://' not in ckpt_path:
            relative = osp.relpath(osp.abspath(ckpt_path),
                                   osp.abspath(runner.work_dir))
            if not relative.startswith('..'):
                name = relative
        atomic_write_bytes(name.encode(),
                           osp.join(runner.work_dir, LAST_CHECKPOINT))

    def _remove_checkpoint(self, path: str,
                           keep: Optional[str] = None) -> None:
        if path == keep:
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)
