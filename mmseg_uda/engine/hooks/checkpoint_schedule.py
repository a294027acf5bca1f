"""When the checkpoint hooks will save: hooks that must act before a save
(averaging rank buffers, refusing non-finite weights) ask here."""
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from torch import nn


def unwrap_model(model: nn.Module) -> nn.Module:
    """The segmentor inside DDP and test-time-augmentation wrappers.

    Args:
        model (nn.Module): ``runner.model``.

    Returns:
        nn.Module: The innermost model (the one whose ``state_dict`` a
        checkpoint holds, or the segmentor of a ``SegTTAModel``).
    """
    while is_model_wrapper(model) or (type(model).__name__ == 'SegTTAModel'
                                      and hasattr(model, 'module')):
        model = model.module
    return model


def checkpoint_due(runner) -> bool:
    """Whether a ``CheckpointHook`` saves in this iteration's
    ``after_train_iter``.

    Mirrors the condition of mmengine 0.10's iteration-based
    ``CheckpointHook.after_train_iter`` for every registered
    ``CheckpointHook`` (subclasses included).

    Args:
        runner (Runner): The runner, inside ``after_train_iter``.

    Returns:
        bool: True if one of them will write a checkpoint now.
    """
    for hook in runner.hooks:
        if not isinstance(hook, CheckpointHook) or hook.by_epoch:
            continue
        if hook.every_n_train_iters(runner, hook.interval,
                                    getattr(hook, 'save_begin', 0)):
            return True
        if hook.save_last and hook.is_last_train_iter(runner):
            return True
    return False
