"""Record which checkpoint a test evaluates, for the convention line."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from ..runtime_info_keys import CHECKPOINT_INFO_KEY


@HOOKS.register_module()
class CheckpointInfoHook(Hook):
    """Put the loaded checkpoint's iteration and the schedule's length where
    :class:`UDAIoUMetric` finds them.

    The metric's convention line reports e.g. ``checkpoint: iter 100 of 600
    (before the end of the schedule)`` from what was loaded, instead of
    trusting a declared ``checkpoint='final'``. ``tools/test.py`` adds this
    hook; without it the line says that the checkpoint was not recorded.

    The info is a dict ``iter`` (int or None: a checkpoint without
    ``meta['iter']``, e.g. converted weights) and ``max_iters`` (the
    config's ``train_cfg.max_iters`` or None).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner: Runner) -> None:
        # A process that tests several checkpoints must not report the
        # previous one's iteration if this run loads nothing.
        MessageHub.get_current_instance().update_info(CHECKPOINT_INFO_KEY,
                                                      None)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        iteration: Optional[int] = meta.get('iter')
        train_cfg = runner.cfg.get('train_cfg') or {}
        MessageHub.get_current_instance().update_info(
            CHECKPOINT_INFO_KEY,
            dict(
                iter=None if iteration is None else int(iteration),
                max_iters=train_cfg.get('max_iters')))
