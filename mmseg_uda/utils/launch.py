"""Shared set-up of the train/test entry points (``tools/train.py``,
``tools/test.py``)."""
import logging
import os
import os.path as osp
from datetime import timedelta
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

from .resume import find_resume_checkpoint

#: Optimiser-wrapper types whose inner wrappers ``--amp`` switches.
_MULTI_WRAPPER_CONSTRUCTORS = ('MultiOptimWrapperConstructor', )


def init_cpu_distributed(launcher: str) -> None:
    """Start a gloo process group when launched on a machine without CUDA.

    mmengine 0.10.7 always calls ``torch.cuda.set_device`` for the
    ``pytorch`` launcher, which fails on CPU-only builds; a process group
    that already exists makes mmengine skip its own initialisation, so
    ``tools/dist_train.sh CONFIG 1`` works on a CPU box too.

    Args:
        launcher (str): The ``--launcher`` argument.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return
    if torch_dist.is_available() and not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo', timeout=timedelta(minutes=30))


def set_work_dir(cfg: Config, config_path: str,
                 work_dir: Optional[str]) -> None:
    """Work dir priority as in MMSeg: CLI, then config, then config path.

    The default keeps the method folder (``work_dirs/maxsquare/gta2cs``) so
    that ``configs/source_only/gta2cs.py`` and ``configs/maxsquare/gta2cs.py``
    do not share a work dir.
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        method = osp.basename(osp.dirname(osp.abspath(config_path)))
        name = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', method, name)


def amp_dtype() -> str:
    """bfloat16 where the GPU supports it (no loss scaling needed), else
    float16."""
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return 'bfloat16'
    return 'float16'


def enable_amp(cfg: Config) -> None:
    """Switch the config's optimiser wrapper(s) to mixed precision.

    Works for a plain ``OptimWrapper`` and for every inner wrapper of a
    :class:`MultiOptimWrapperConstructor` config (methods with a
    discriminator), which share one loss scaler.

    Args:
        cfg (Config): The training config, modified in place.

    Raises:
        SystemExit: Without CUDA (mmengine's AMP wrapper needs a GPU).
    """
    if not torch.cuda.is_available():
        raise SystemExit('--amp needs a CUDA GPU (mmengine\'s '
                         'AmpOptimWrapper does not run on the CPU).')
    wrapper = cfg.optim_wrapper
    if wrapper.get('constructor') in _MULTI_WRAPPER_CONSTRUCTORS:
        inner = [v for k, v in wrapper.items() if isinstance(v, dict)]
    else:
        inner = [wrapper]
    dtype = amp_dtype()
    for sub in inner:
        if sub.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            continue
        if sub.get('type', 'OptimWrapper') != 'OptimWrapper':
            raise SystemExit('--amp supports OptimWrapper configs, got '
                             f'{sub.get("type")}')
        sub.type = 'AmpOptimWrapper'
        sub.dtype = dtype
        sub.loss_scale = 'dynamic'
    print_log(f'AMP enabled: autocast to {dtype}', logger='current',
              level=logging.INFO)


def set_local_rank(local_rank: int) -> None:
    """Export ``LOCAL_RANK`` for launchers that pass ``--local-rank``."""
    os.environ.setdefault('LOCAL_RANK', str(local_rank))


def configure_resume(cfg: Config, resume: bool) -> None:
    """Make ``--resume`` continue the work dir's run, whatever ``load_from``.

    MMEngine resumes from ``load_from`` when it is set, so an adaptation
    config (``load_from`` = the source-only model) would "resume" from its
    starting weights. Here ``--resume`` resumes from the work dir's latest
    loadable checkpoint (:func:`find_resume_checkpoint`); only when the work
    dir has none does the run start fresh from ``load_from``, with a
    warning.

    Args:
        cfg (Config): The training config (``work_dir`` set), modified in
            place (``resume``, ``load_from``).
        resume (bool): The ``--resume`` flag.
    """
    cfg.resume = False
    if not resume:
        return
    latest = find_resume_checkpoint(cfg.work_dir)
    load_from = cfg.get('load_from', None)
    if latest is not None:
        if load_from:
            print_log(
                f'--resume: continuing from {latest} (the work dir\'s latest '
                f'checkpoint); load_from={load_from} is not used',
                logger='current',
                level=logging.INFO)
        cfg.load_from = latest
        cfg.resume = True
        return
    start = (f'a FRESH run from load_from={load_from}'
             if load_from else 'a FRESH run from the initial weights')
    print_log(
        f'--resume: {cfg.work_dir} holds no checkpoint to resume from; '
        f'starting {start}',
        logger='current',
        level=logging.WARNING)


def check_checkpoint_arg(checkpoint: str) -> None:
    """Exit with a message if a local checkpoint argument does not exist.

    Scheme paths (``http://...``, ``torchvision://...``) are left to
    mmengine's ``CheckpointLoader``, which loads them safely.
    """
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise SystemExit(f'checkpoint not found: {checkpoint}')


def apply_omp_num_threads() -> None:
    """Make torch use the ``OMP_NUM_THREADS`` that the run announces.

    torch reads ``OMP_NUM_THREADS`` once, when it is imported; mmengine sets
    it (1 per process for distributed runs) later, in ``Runner.setup_env``,
    so under ``tools/dist_train.sh`` each process kept torch's default
    thread count (every core) and N processes oversubscribed the machine.
    Called when the distributed wrapper is built (after ``setup_env``).
    """
    value = os.environ.get('OMP_NUM_THREADS', '')
    if not value.isdigit() or int(value) < 1:
        return
    if torch.get_num_threads() != int(value):
        torch.set_num_threads(int(value))
        print_log(f'torch intra-op threads set to OMP_NUM_THREADS={value}',
                  logger='current', level=logging.INFO)
