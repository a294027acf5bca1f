"""Integrity records: a checkpoint changed after it was saved never loads.

torch writes a CRC-32 for every record of its zip format but never checks
it (its zip reader is built without CRC checks), so bytes that change on
disk, in a copy or in a download load as different weights without a word.
Every checkpoint mmseg_uda saves (mmengine's ``save_checkpoint``, hence
``SafeCheckpointHook``; the model converters; CAG's anchor files) therefore
carries ``meta['integrity']``: the SHA-256 of every tensor it holds (model,
optimiser state, anchors, ...), named by its place in the checkpoint, e.g.
``state_dict.backbone.conv1.weight``. The digests are taken from the very
tensors handed to ``torch.save`` right before it writes their bytes, and
live inside the file, so they survive copying the ``.pth`` alone and
loading it from a URL, and a mismatch names the tensor that differs.

:func:`verify_integrity` (called by every load, in
:func:`mmseg_uda.utils.checkpoint_safety.safe_load`) recomputes them from
the loaded tensors and refuses any difference; a checkpoint without a
record (another tool's, an older mmseg_uda's) loads with one line saying
that it was not verified. The pickled rest of the file (metadata,
optimiser settings, message hub) is checked by the loader against the
CRC-32 torch wrote for it.
"""
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple, Union

import mmengine.runner as mmengine_runner_package
import mmengine.runner.checkpoint as mmengine_checkpoint
import mmengine.runner.runner as mmengine_runner
import torch
from mmengine.logging import print_log
from torch import Tensor

from .atomic_write import atomic_write_bytes

#: Key of the record in the checkpoint's ``meta``.
INTEGRITY_KEY = 'integrity'
ALGORITHM = 'sha256'
#: Hash threads (hashlib releases the GIL on large buffers).
_HASH_THREADS = max(1, min(4, os.cpu_count() or 1))


class CorruptCheckpointError(RuntimeError):
    """Raised for a checkpoint that is truncated, damaged or changed."""


def tensor_digest(tensor: Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and element bytes.

    The bytes are the tensor's elements in C order as they lie in memory,
    which is what ``torch.save`` writes and ``torch.load`` restores.

    Args:
        tensor (Tensor): Any strided tensor, on any device.

    Returns:
        str: The hex digest.
    """
    data = tensor.detach()
    if data.layout != torch.strided:
        data = data.to_dense()
    data = data.cpu().resolve_conj().resolve_neg().contiguous()
    digest = sha256(f'{data.dtype}{tuple(data.shape)}'.encode())
    if data.numel():
        digest.update(memoryview(data.reshape(-1).view(torch.uint8).numpy()))
    return digest.hexdigest()


def named_tensors(checkpoint: object) -> List[Tuple[str, Tensor]]:
    """Every tensor of a checkpoint with a name telling where it sits.

    Dicts, lists and tuples are descended in their (pickled, hence
    preserved) order; names join the keys with dots
    (``optimizer.state.0.momentum_buffer``). A name that occurs twice gets
    ``#2``, ``#3``, ... in that order.

    Args:
        checkpoint (object): A checkpoint (usually a dict).

    Returns:
        list[tuple[str, Tensor]]: Names and tensors.
    """
    found: List[Tuple[str, Tensor]] = []
    seen: Dict[str, int] = {}
    for path, tensor in _walk(checkpoint, ()):
        name = '.'.join(str(p) for p in path) or '<checkpoint>'
        seen[name] = seen.get(name, 0) + 1
        found.append((name if seen[name] == 1 else f'{name}#{seen[name]}',
                      tensor))
    return found


def _walk(obj: object, path: Tuple) -> Iterator[Tuple[Tuple, Tensor]]:
    if torch.is_tensor(obj):
        yield path, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if path == ('meta', ) and key == INTEGRITY_KEY:
                continue
            yield from _walk(value, path + (key, ))
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            yield from _walk(value, path + (index, ))


def tensor_digests(named: List[Tuple[str, Tensor]]) -> Dict[str, str]:
    """Name -> SHA-256 of the tensors of :func:`named_tensors`."""
    tensors = [t for _, t in named]
    if len(tensors) > 1 and _HASH_THREADS > 1:
        with ThreadPoolExecutor(_HASH_THREADS) as pool:
            digests = list(pool.map(tensor_digest, tensors))
    else:
        digests = [tensor_digest(t) for t in tensors]
    return {name: digest for (name, _), digest in zip(named, digests)}


def with_integrity_record(checkpoint: dict) -> dict:
    """``checkpoint`` with ``meta['integrity']`` describing its tensors.

    ``meta`` is replaced by a copy holding the record (the caller's dict
    is not changed); the other entries are the caller's objects, so the
    digests describe exactly what is serialised next.

    Args:
        checkpoint (dict): What is about to be saved.

    Returns:
        dict: A shallow copy of ``checkpoint`` with the record.
    """
    meta = checkpoint.get('meta')
    if meta is not None and not isinstance(meta, dict):
        raise TypeError('a checkpoint with an integrity record needs a dict '
                        f'meta, got {type(meta).__name__}')
    record = dict(
        algorithm=ALGORITHM,
        tensors=tensor_digests(named_tensors(checkpoint)))
    return dict(checkpoint, meta=dict(meta or {}, **{INTEGRITY_KEY: record}))


def checkpoint_bytes(checkpoint: dict) -> bytes:
    """``torch.save`` of ``checkpoint`` with its integrity record."""
    buffer = io.BytesIO()
    torch.save(with_integrity_record(checkpoint), buffer)
    return buffer.getvalue()


def save_checkpoint_file(checkpoint: dict, path: Union[str, Path]) -> None:
    """Save ``checkpoint`` with its integrity record, atomically.

    Args:
        checkpoint (dict): Tensors and plain types (``weights_only``
            loadable).
        path (str | Path): The file; its folder is created if needed.
    """
    atomic_write_bytes(checkpoint_bytes(checkpoint), path)


def integrity_record(checkpoint: object) -> Optional[dict]:
    """The checkpoint's record, or None if it has none."""
    if not isinstance(checkpoint, dict):
        return None
    meta = checkpoint.get('meta')
    if not isinstance(meta, dict):
        return None
    return meta.get(INTEGRITY_KEY)


#: Sources already reported as unverified (one line each per process).
_REPORTED_UNVERIFIED: Set[str] = set()


def verify_integrity(checkpoint: object, source: str) -> bool:
    """Check a loaded checkpoint against its integrity record.

    Args:
        checkpoint (object): What ``torch.load`` returned.
        source (str): The file or URL, for messages.

    Returns:
        bool: True if verified; False (after one line saying so) for a
        checkpoint without record.

    Raises:
        CorruptCheckpointError: If a tensor differs from its digest, or
            tensors are missing from or added to the recorded ones.
    """
    record = integrity_record(checkpoint)
    if record is None:
        if source not in _REPORTED_UNVERIFIED:
            _REPORTED_UNVERIFIED.add(source)
            print_log(
                f'Checkpoint {source} has no integrity record (saved by '
                'another tool or an older mmseg_uda): its tensors were not '
                'verified',
                logger='current',
                level=logging.WARNING)
        return False
    recorded = record.get('tensors') if isinstance(record, dict) else None
    if (not isinstance(record, dict) or record.get('algorithm') != ALGORITHM
            or not isinstance(recorded, dict)):
        raise CorruptCheckpointError(
            f'Refusing to load checkpoint {source}: its integrity record '
            f'(meta[{INTEGRITY_KEY!r}]) is unreadable (expected '
            f'algorithm={ALGORITHM!r} and a tensors dict); the file is '
            'damaged.')
    named_list = named_tensors(checkpoint)
    named = dict(named_list)
    found = tensor_digests(named_list)
    changed = [n for n, d in recorded.items() if n in found and found[n] != d]
    missing = [n for n in recorded if n not in found]
    added = [n for n in found if n not in recorded]
    if not (changed or missing or added):
        return True
    parts = []
    if changed:
        parts.append(
            f'{len(changed)} of its {len(recorded)} tensors '
            f'{"differs" if len(changed) == 1 else "differ"} from the SHA-256 '
            'recorded when it was saved: ' + ', '.join(
                f'{n} ({str(named[n].dtype).replace("torch.", "")}, '
                f'shape {tuple(named[n].shape)})' for n in changed[:5]) +
            (f' and {len(changed) - 5} more' if len(changed) > 5 else ''))
    if missing:
        parts.append(f'{len(missing)} recorded tensors are missing: ' +
                     _some(missing))
    if added:
        parts.append(f'{len(added)} tensors are not in the record: ' +
                     _some(added))
    raise CorruptCheckpointError(
        f'Refusing to load checkpoint {source}: ' + '; '.join(parts) +
        '. The file was damaged or modified after it was saved (storage, '
        'copy or download): use an intact copy (train.py --resume falls '
        'back to the previous checkpoint by itself). If you changed it on '
        f'purpose, remove meta[{INTEGRITY_KEY!r}] (it then loads '
        'unverified) or re-save it with '
        'mmseg_uda.utils.checkpoint_integrity.save_checkpoint_file.')


def _some(names: List[str], limit: int = 5) -> str:
    more = len(names) - limit
    return ', '.join(names[:limit]) + (f' and {more} more' if more > 0 else
                                       '')


_SAVE_CHECKPOINT = mmengine_checkpoint.save_checkpoint


def _save_checkpoint_with_record(checkpoint: dict, filename: str,
                                 *args, **kwargs) -> None:
    """mmengine's ``save_checkpoint`` writing the integrity record."""
    _SAVE_CHECKPOINT(with_integrity_record(checkpoint), filename, *args,
                     **kwargs)


# Runner.save_checkpoint (hence every CheckpointHook) calls the name it
# imported into mmengine.runner.runner; CheckpointHook's published models
# import it from mmengine.runner.
for _module in (mmengine_checkpoint, mmengine_runner,
                mmengine_runner_package):
    _module.save_checkpoint = _save_checkpoint_with_record
