"""Find the checkpoint ``--resume`` continues from, robustly.

mmengine's ``find_latest_checkpoint`` returns whatever ``last_checkpoint``
says, as a path relative to the *current* directory, even when that file is
gone. Here ``last_checkpoint`` is read relative to the work dir (the
checkpoint hook writes it so, and an absolute path is retried in the work
dir, so a copied work dir resumes; a URL, written for a remote ``out_dir``,
is resumed from as it is), and when it names a missing, unreadable,
damaged (failing its integrity record) or weights-only file the newest
work-dir checkpoint that holds a full training state is used instead,
saying so. Importing ``mmseg_uda`` installs
this lookup for mmengine's ``Runner`` too, and makes ``Runner.resume`` name
what a checkpoint without training state lacks (mmengine:
``KeyError: 'epoch'``).
"""
import contextlib
import glob
import logging
import os.path as osp
import re
import tempfile
from typing import Iterator, List, Optional, Tuple

import mmengine.runner.runner as mmengine_runner
import torch
from mmengine.logging import print_log
from mmengine.runner import Runner

from .checkpoint_safety import load_checkpoint_source

LAST_CHECKPOINT = 'last_checkpoint'
#: Names of the checkpoints mmengine's CheckpointHook writes.
CHECKPOINT_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def missing_training_state(checkpoint: object) -> List[str]:
    """What ``Runner.resume`` needs that ``checkpoint`` lacks.

    Args:
        checkpoint (object): A loaded checkpoint.

    Returns:
        list[str]: Missing entries (``meta.epoch``, ``meta.iter``,
        ``state_dict``, ``optimizer``, ``message_hub``); empty if it can be
        resumed from.
    """
    if not isinstance(checkpoint, dict):
        return ['meta.epoch', 'meta.iter', 'state_dict', 'optimizer',
                'message_hub']
    meta = checkpoint.get('meta')
    meta = meta if isinstance(meta, dict) else {}
    missing = [f'meta.{k}' for k in ('epoch', 'iter') if k not in meta]
    return missing + [
        k for k in ('state_dict', 'optimizer', 'message_hub')
        if k not in checkpoint
    ]


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL or scheme path (``s3://...``)."""
    return '://' in path


@contextlib.contextmanager
def fresh_downloads(path: str) -> Iterator[None]:
    """Download an http(s) ``path`` anew in this block.

    torch.hub keeps a downloaded checkpoint under its file name and loads
    that copy for any URL ending in the same name, so resuming from
    ``.../run_b/iter_4000.pth`` would load run A's ``iter_4000.pth``.
    Inside this block downloads go to a temporary folder (``$TMPDIR``),
    removed after.

    Args:
        path (str): The checkpoint being loaded; other paths change nothing.
    """
    if not path.startswith(('http://', 'https://')):
        yield
        return
    # torch.hub.get_dir() would return a fixed path where an unset one
    # follows $TORCH_HOME: restore the attribute itself.
    previous = getattr(torch.hub, '_hub_dir', None)
    with tempfile.TemporaryDirectory(prefix='mmseg_uda_resume_') as tmp:
        torch.hub.set_dir(tmp)
        try:
            yield
        finally:
            torch.hub._hub_dir = previous


def resume_problem(path: str) -> Optional[str]:
    """Why ``path`` (a file or URL) cannot be resumed from, or None if it
    can."""
    if not is_url(path) and not osp.isfile(path):
        return 'the file does not exist'
    try:
        with fresh_downloads(path):
            checkpoint = load_checkpoint_source(path, map_location='cpu')
    except Exception as err:  # corrupt, truncated, refused: all unusable
        return f'it cannot be loaded ({type(err).__name__}: {err})'
    missing = missing_training_state(checkpoint)
    if missing:
        return ('it holds no training state (missing: '
                f'{", ".join(missing)})')
    return None


def named_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names, resolved.

    A relative name is relative to ``work_dir``; an absolute one that does
    not exist (a copied or moved work dir) is looked up in ``work_dir`` by
    its file name; a URL (a remote ``out_dir``) is returned as it is.
    """
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(record):
        return None
    with open(record) as f:
        name = f.read().strip()
    if not name:
        return None
    if is_url(name):
        return name
    if not osp.isabs(name):
        return osp.join(work_dir, name)
    moved = osp.join(work_dir, osp.basename(name))
    return name if osp.exists(name) or not osp.exists(moved) else moved


def work_dir_checkpoints(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` of ``work_dir``, newest first."""
    found: List[Tuple[int, float, str]] = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = CHECKPOINT_NAME.match(osp.basename(path))
        if match and osp.isfile(path):
            found.append((int(match.group(2)), osp.getmtime(path), path))
    return [path for _, _, path in sorted(found, reverse=True)]


def find_resume_checkpoint(work_dir: str,
                           logger: str = 'current') -> Optional[str]:
    """The checkpoint to resume ``work_dir``'s run from.

    Args:
        work_dir (str): The run's work dir.
        logger (str): Where to say that it fell back. Default: 'current'.

    Returns:
        str | None: ``last_checkpoint``'s file if it can be resumed from,
        else the newest one that can; None when ``work_dir`` holds no
        checkpoint at all.

    Raises:
        RuntimeError: If there are checkpoints but none can be resumed from
            (each is named with its problem).
    """
    named = named_checkpoint(work_dir)
    candidates = ([named] if named else []) + [
        p for p in work_dir_checkpoints(work_dir)
        if not named or osp.abspath(p) != osp.abspath(named)
    ]
    problems = []
    for path in candidates:
        problem = resume_problem(path)
        if problem is None:
            if problems:
                print_log(
                    'Not resuming from ' + '; '.join(problems) +
                    f'. Resuming from the newest loadable checkpoint {path} '
                    'instead.',
                    logger=logger,
                    level=logging.WARNING)
            return path
        problems.append(f'{path}: {problem}')
    if problems:
        raise RuntimeError(
            f'Cannot resume the run in {work_dir}: no checkpoint there holds '
            'a loadable training state (' + '; '.join(problems) +
            '). To start from a weights-only file, pass it as load_from '
            'without --resume.')
    return None


def _find_latest_checkpoint(path: str) -> Optional[str]:
    """Stand-in for mmengine's ``find_latest_checkpoint``."""
    return find_resume_checkpoint(path)


_RESUME = Runner.resume


def _resume(self: Runner, filename: str, *args, **kwargs) -> None:
    """``Runner.resume`` that downloads a URL anew and names what a
    checkpoint lacks."""
    try:
        with fresh_downloads(filename):
            _RESUME(self, filename, *args, **kwargs)
    except KeyError as err:
        with fresh_downloads(filename):
            checkpoint = load_checkpoint_source(filename, map_location='cpu')
        missing = missing_training_state(checkpoint)
        if not missing:
            raise
        raise RuntimeError(
            f'Cannot resume from {filename}: it holds no training state '
            f'(missing: {", ".join(missing)}), e.g. a converted or '
            'weights-only checkpoint. Start from its weights with '
            'load_from=... and without --resume.') from err


mmengine_runner.find_latest_checkpoint = _find_latest_checkpoint
Runner.resume = _resume
