"""Safe checkpoint loading for torch >= 2.6 with mmengine 0.10.7.

torch >= 2.6 unpickles checkpoints with ``weights_only=True`` by default,
which refuses every class that is not on its allow-list. mmengine 0.10.7
calls plain ``torch.load`` and its own checkpoints carry a few such classes
(``HistoryBuffer`` in the message hub, NumPy arrays and scalars in it), so
``load_from`` / ``--resume`` break. Turning the safety off globally would let
any pickled code run; instead every checkpoint load allows exactly the types
an mmengine checkpoint contains and refuses anything else with a message
naming the checkpoint and the offending types.

Every source goes through ``CheckpointLoader.load_checkpoint`` (``load_from``,
``--resume``, ``init_cfg=dict(type='Pretrained')``, ``load_checkpoint``), and
its scheme loaders (http(s):// via ``torch.hub.load_state_dict_from_url``,
which defaults to ``weights_only=False``; torchvision://, modelzoo://,
open-mmlab://, openmmlab://, mmcls://, pavi://, s3://, petrel://, and any
scheme registered later) all end in ``torch.load``. While a loader runs,
``torch.load`` is therefore replaced by the allow-list load, whatever
``weights_only`` or ``pickle_module`` the loader passes.

The same load also refuses damaged files, naming them: a truncated or
otherwise unreadable zip archive, a pickle (metadata, optimiser settings,
message hub) that fails the CRC-32 torch wrote for it, and tensors that
differ from the checkpoint's integrity record
(:mod:`mmseg_uda.utils.checkpoint_integrity`).
"""
import contextlib
import io
import os
import os.path as osp
import pickle
import zipfile
from typing import IO, Callable, Iterator, List, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint_integrity import CorruptCheckpointError, verify_integrity


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


#: The real ``torch.load``, kept before :func:`weights_only_torch_load`
#: replaces the module attribute.
_TORCH_LOAD = torch.load
FileLike = Union[str, os.PathLike, IO[bytes]]


def safe_load(f: FileLike,
              map_location: Union[str, Callable, None] = 'cpu',
              source: Optional[str] = None,
              extra_globals: Optional[List[Callable]] = None) -> object:
    """``torch.load`` with ``weights_only=True`` and mmengine's types,
    refusing damaged files.

    Args:
        f (str | PathLike | file): A local file or a binary buffer.
        map_location: Passed to :func:`torch.load`.
        source (str, optional): What to name in the error message (the URL
            or scheme path the bytes came from). Default: ``f``.
        extra_globals (list, optional): Further classes/functions to allow
            for this call only.

    Returns:
        object: The unpickled checkpoint, verified against its integrity
        record if it has one.

    Raises:
        UnsafeCheckpointError: If it contains other, non-allowed types.
        CorruptCheckpointError: If it is truncated or damaged, or differs
            from its integrity record.
    """
    local = isinstance(f, (str, os.PathLike))
    name = source if source is not None else (str(f) if local else
                                              '<in-memory checkpoint>')
    # A URL's (or scheme path's) local copy, e.g. torch.hub's download.
    copy = local and source is not None and str(f) != source
    if copy:
        name = f'{name} (read from {f})'
    _check_archive(f, name, copy)
    allowed = SAFE_CHECKPOINT_GLOBALS + list(extra_globals or [])
    with torch.serialization.safe_globals(allowed):
        try:
            checkpoint = _TORCH_LOAD(
                f, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            unsafe = _unsafe_globals(f, allowed)
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {name}: it contains types '
                f'outside the safe allow-list: {unsafe or str(err)}. '
                'mmseg_uda loads checkpoints with weights_only=True and only '
                'allows the types mmengine itself writes. If you trust this '
                'file, load it yourself with torch.load(..., '
                'weights_only=False) and re-save its plain state_dict.'
            ) from err
        except (RuntimeError, EOFError) as err:
            text = str(err)
            if isinstance(err, RuntimeError) and not any(
                    sign in text
                    for sign in ('PytorchStreamReader', 'corrupt', 'EOF')):
                raise RuntimeError(
                    f'Cannot load checkpoint {name}: {text}') from err
            raise CorruptCheckpointError(
                _damaged(name, f'{type(err).__name__}: {text}'
                         if text else 'it ended early', copy, f)) from err
    verify_integrity(checkpoint, name)
    return checkpoint


#: First bytes of a zip archive (torch's format since 1.6).
_ZIP_MAGIC = b'PK\x03\x04'


def _damaged(name: str, detail: str, copy: bool, f: FileLike) -> str:
    """The message for a truncated or damaged checkpoint."""
    remedy = (f'delete or replace the local copy {f} (a download is '
              'fetched again)' if copy else 'copy or download it again')
    return (f'Cannot load checkpoint {name}: the file is truncated or '
            f'damaged ({detail}). It was cut short or changed after it was '
            'saved (an interrupted copy or download, a full disk, a writer '
            f'killed mid-write): {remedy}. For a training run, '
            'tools/train.py --resume falls back to the previous checkpoint '
            'by itself.')


def _check_archive(f: FileLike, name: str, copy: bool) -> None:
    """Refuse a zip checkpoint that cannot be opened or whose pickle fails
    its CRC-32.

    torch reads its archives without checking the CRC-32 it writes, and
    says only "PytorchStreamReader failed reading zip archive" for a
    truncated one. A recorded CRC of 0 (``torch.utils.serialization.
    config.save.compute_crc32=False``) is not checked. Other formats
    (torch < 1.6) are left to ``torch.load``.
    """
    handle = open(f, 'rb') if isinstance(f, (str, os.PathLike)) else f
    position = handle.tell()
    try:
        magic = handle.read(len(_ZIP_MAGIC))
        if not magic:
            raise CorruptCheckpointError(
                _damaged(name, 'it is empty', copy, f))
        if magic != _ZIP_MAGIC:
            return
        handle.seek(position)
        try:
            with zipfile.ZipFile(handle) as archive:
                for info in archive.infolist():
                    if info.filename.endswith('/data.pkl') and info.CRC:
                        archive.read(info)
        except (zipfile.BadZipFile, EOFError, ValueError) as err:
            what = ('its pickled part (data.pkl: metadata, optimiser '
                    'settings, message hub) fails the CRC-32 torch wrote for '
                    'it' if 'CRC' in str(err) else
                    f'its zip archive cannot be read: {err}')
            raise CorruptCheckpointError(_damaged(name, what, copy,
                                                  f)) from err
    finally:
        if handle is f:
            handle.seek(position)
        else:
            handle.close()


def safe_torch_load(filename: str,
                    map_location: Union[str, Callable, None] = 'cpu',
                    extra_globals: Optional[List[Callable]] = None) -> dict:
    """Load a local checkpoint file with :func:`safe_load`.

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
    return safe_load(
        filename, map_location=map_location, extra_globals=extra_globals)


def load_checkpoint_source(source: str,
                           map_location: Union[str, Callable,
                                               None] = 'cpu') -> object:
    """A local checkpoint file or any scheme path / URL, loaded safely.

    Args:
        source (str): A file, or anything mmengine's ``CheckpointLoader``
            knows (``http(s)://``, ``s3://``, ...).
        map_location: Passed to :func:`torch.load`.

    Returns:
        object: The checkpoint, verified against its integrity record.
    """
    if '://' in source:
        return CheckpointLoader.load_checkpoint(
            source, map_location=map_location)
    return safe_torch_load(source, map_location=map_location)


def _unsafe_globals(f: FileLike, allowed: List[Callable]) -> List[str]:
    """Names of the globals in checkpoint ``f`` that are not allowed."""
    names = {
        g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
        for g in allowed
    }
    try:
        if isinstance(f, io.IOBase):
            f.seek(0)
        found = torch.serialization.get_unsafe_globals_in_checkpoint(f)
    except Exception:  # e.g. legacy (non-zip) format: nothing more to say
        return []
    return [g for g in found if g not in names]


@contextlib.contextmanager
def weights_only_torch_load(source: str) -> Iterator[None]:
    """Make every ``torch.load`` in this block an allow-list load.

    Scheme loaders call ``torch.load`` themselves (some through
    ``torch.hub.load_state_dict_from_url``, which passes
    ``weights_only=False``); whatever they pass, the load keeps
    ``weights_only=True`` and names ``source`` when it refuses. A custom
    ``pickle_module`` is ignored, as it could run code.

    Args:
        source (str): The checkpoint path or URL being loaded.
    """

    def guarded(f: FileLike, map_location=None, *args, **kwargs) -> object:
        return safe_load(f, map_location=map_location, source=source)

    previous = torch.load
    torch.load = guarded
    try:
        yield
    finally:
        torch.load = previous


#: The checkpoint :class:`CheckpointLoader` loaded last, named by
#: :mod:`mmseg_uda.utils.weight_matching` in its load summary.
last_loaded_source: List[Optional[str]] = [None]
_LOAD_CHECKPOINT = CheckpointLoader.load_checkpoint.__func__


def _guarded_load_checkpoint(cls,
                             filename: str,
                             map_location=None,
                             logger: str = 'current') -> dict:
    """``CheckpointLoader.load_checkpoint`` with every scheme made safe."""
    with weights_only_torch_load(filename):
        checkpoint = _LOAD_CHECKPOINT(cls, filename, map_location, logger)
    last_loaded_source[0] = filename
    return checkpoint


CheckpointLoader.load_checkpoint = classmethod(_guarded_load_checkpoint)


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str,
                    map_location: Union[str, Callable, None]) -> dict:
    """mmengine's local-file scheme, loading with the safe allow-list."""
    filename = osp.expanduser(filename)
    return safe_torch_load(filename, map_location=map_location)
