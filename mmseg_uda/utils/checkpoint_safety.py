"""Safe checkpoint loading for torch >= 2.6 with mmengine 0.10.7.

torch >= 2.6 unpickles checkpoints with ``weights_only=True`` by default,
which refuses every class that is not on its allow-list. mmengine 0.10.7
calls plain ``torch.load`` and its own checkpoints carry a few such classes
(``HistoryBuffer`` in the message hub, NumPy arrays and scalars in it), so
``load_from`` / ``--resume`` break. Turning the safety off globally would let
any pickled code run; instead the local-file loader is replaced by one that
allows exactly the types an mmengine checkpoint contains and refuses anything
else with a message naming the file and the offending types.
"""
import os.path as osp
import pickle
from typing import Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


def _numpy_globals() -> List[Callable]:
    """NumPy reconstruction functions and dtype classes used by pickles."""
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    found = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # Since numpy 1.25 each dtype is pickled as an instance of its own class
    # (``numpy.dtypes.Float64DType`` ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return found


def _history_buffer_getattr(obj: type, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` while unpickling.

    ``HistoryBuffer.__getstate__`` stores its statistics methods, which pickle
    as ``getattr(HistoryBuffer, 'mean')``. Allowing the real ``getattr``
    would open every attribute of every allowed class; this one only
    resolves HistoryBuffer's registered statistics.
    """
    if obj is HistoryBuffer and (name in HistoryBuffer._statistics_methods
                                 or name in ('min', 'max', 'current',
                                             'mean')):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


#: Everything besides tensors and builtins that an mmengine checkpoint holds.
SAFE_CHECKPOINT_GLOBALS: List = [
    HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
] + _numpy_globals()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """Raised for a checkpoint holding types outside the allow-list."""


def safe_torch_load(filename: str,
                    map_location: Union[str, Callable, None] = 'cpu',
                    extra_globals: Optional[List[Callable]] = None) -> dict:
    """Load a checkpoint with ``weights_only=True`` and mmengine's types.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: Passed to :func:`torch.load`.
        extra_globals (list, optional): Further classes/functions to allow
            for this call only.

    Returns:
        dict: The unpickled checkpoint.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        UnsafeCheckpointError: If it contains other, non-allowed types.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    allowed = SAFE_CHECKPOINT_GLOBALS + list(extra_globals or [])
    with torch.serialization.safe_globals(allowed):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            unsafe = _unsafe_globals(filename, allowed)
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename}: it contains types '
                f'outside the safe allow-list: {unsafe or str(err)}. '
                'mmseg_uda loads checkpoints with weights_only=True and only '
                'allows the types mmengine itself writes. If you trust this '
                'file, load it yourself with torch.load(..., '
                'weights_only=False) and re-save its plain state_dict.'
            ) from err


def _unsafe_globals(filename: str, allowed: List[Callable]) -> List[str]:
    """Names of the globals in ``filename`` that are not allowed."""
    names = {
        g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
        for g in allowed
    }
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # e.g. legacy (non-zip) format: nothing more to say
        return []
    return [g for g in found if g not in names]


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str,
                    map_location: Union[str, Callable, None]) -> dict:
    """mmengine's local-file scheme, loading with the safe allow-list."""
    filename = osp.expanduser(filename)
    return safe_torch_load(filename, map_location=map_location)
