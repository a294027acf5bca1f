"""Warn about top-level config keys that nothing reads, e.g. a misspelled
``lod_from = 'x.pth'``, which mmengine would silently ignore."""
import ast
import difflib
import logging
import os.path as osp
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

#: Top-level keys that mmengine's ``Runner`` (``from_cfg``, ``wrap_model``,
#: ``train``), mmengine's ``Config`` and the tools read.
KNOWN_KEYS: FrozenSet[str] = frozenset({
    # Runner.from_cfg
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    # read from runner.cfg (Runner, FlexibleRunner) / by Config
    'model_wrapper_cfg', 'sync_bn', 'find_unused_parameters', 'compile',
    'activation_checkpointing', 'efficient_conv_bn_eval', 'strategy',
    'custom_imports', 'cfg',
    # tools/test.py --tta
    'tta_model', 'tta_pipeline',
    # tools/generate_pseudo_labels.py (the depth method's refinement)
    'pseudo_label_refinement',
})


def _parse(path: str) -> Optional[ast.Module]:
    try:
        with open(path, encoding='utf-8') as f:
            return ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def _assigned(tree: ast.Module) -> Set[str]:
    """Names assigned at the top level of a config file."""
    names = set()
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(
                       node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            names.update(n.id for n in ast.walk(target)
                         if isinstance(n, ast.Name))
    return names


def _loaded(tree: ast.Module) -> Set[str]:
    """Names the file reads (other values are computed from them)."""
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def _bases(tree: ast.Module, path: str) -> Optional[List[str]]:
    """Paths of the ``_base_`` files; None if one cannot be resolved."""
    for node in tree.body:
        if isinstance(node, ast.With):  # new-style `with read_base():`
            return None
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            bases = [value] if isinstance(value, str) else list(value)
            if any('::' in b for b in bases):  # package-scoped base
                return None
            return [osp.join(osp.dirname(path), b) for b in bases]
    return []


def _keys_of_files(path: str,
                   seen: Optional[Set[str]] = None) -> Optional[Set[str]]:
    """Top-level names assigned by a config file and its bases."""
    seen = set() if seen is None else seen
    path = osp.abspath(path)
    if path in seen:
        return set()
    seen.add(path)
    tree = _parse(path)
    if tree is None:
        return None
    bases = _bases(tree, path)
    if bases is None:
        return None
    names = _assigned(tree)
    for base in bases:
        inherited = _keys_of_files(base, seen)
        if inherited is None:
            return None
        names |= inherited
    return names


def find_unread_config_keys(
        cfg: Config,
        extra_keys: Tuple[str, ...] = ()) -> List[Tuple[str, str]]:
    """Top-level keys that neither the runner, the tools nor the config
    itself read.

    A key is reported when it is not one of :data:`KNOWN_KEYS` (or
    ``extra_keys``) and either the config file sets it without using it in
    that file (helper variables such as ``crop_size`` are used by the file
    that defines them; one a child config re-assigns without using changes
    nothing, since the base's values were computed already), or no config
    file sets it (it came from ``--cfg-options``). Keys of the base files
    are their own business and are not reported; neither are keys that
    start with ``_``.

    Args:
        cfg (Config): A config loaded with ``Config.fromfile``.
        extra_keys (tuple[str]): More keys that something reads.

    Returns:
        list[tuple[str, str]]: ``(key, where)`` per unread key, ``where``
        being the config file or ``'--cfg-options'``. Empty when the
        config has no file.
    """
    path = cfg.filename
    tree = _parse(path) if path else None
    if tree is None:
        return []
    known = KNOWN_KEYS | set(extra_keys)
    own, used = _assigned(tree), _loaded(tree)
    in_files = _keys_of_files(path)
    unread = []
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        if key in own:
            if key not in used:
                unread.append((key, path))
        elif in_files is not None and key not in in_files:
            unread.append((key, '--cfg-options'))
    return unread


def warn_unread_config_keys(cfg: Config,
                            extra_keys: Tuple[str, ...] = ()) -> List[str]:
    """Log a warning per unread top-level key, with a likely intended one.

    Args:
        cfg (Config): A config loaded with ``Config.fromfile``.
        extra_keys (tuple[str]): More keys that something reads.

    Returns:
        list[str]: The warnings, e.g. ``Config key 'lod_from' (set in
        configs/x.py) is read by nothing and has no effect; did you mean
        'load_from'?``.
    """
    messages = []
    candidates: Dict[str, None] = dict.fromkeys(
        sorted(KNOWN_KEYS | set(extra_keys)))
    for key, where in find_unread_config_keys(cfg, extra_keys):
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}'?" if close else '.'
        messages.append(f"Config key '{key}' (set in {where}) is read by "
                        f'nothing and has no effect{hint}')
    for message in messages:
        print_log(message, logger='current', level=logging.WARNING)
    return messages
