"""Atomic file writes: a crash mid-write never leaves a truncated file.

mmengine's local backend writes checkpoints (and ``last_checkpoint``) with a
plain ``open(path, 'wb')``, so a run killed while saving destroys the
checkpoint it was overwriting. Importing ``mmseg_uda`` makes that backend
write to a temporary file in the same folder and ``os.replace`` it into
place, which is atomic on POSIX file systems.
"""
import os
import os.path as osp
import re
import uuid
from pathlib import Path
from typing import List, Union

import mmengine
from mmengine.fileio.backends import LocalBackend


def atomic_write_bytes(data: bytes, path: Union[str, Path]) -> None:
    """Write ``data`` to ``path`` atomically, creating parent folders.

    Args:
        data (bytes): The content.
        path (str | Path): The destination file.
    """
    path = str(path)
    folder, name = osp.split(osp.abspath(path))
    mmengine.mkdir_or_exist(folder)
    # A hidden, unique name in the destination folder: os.replace is then a
    # rename within one file system, and a plain open (unlike mkstemp's
    # 0600) gives the file the user's umask permissions.
    tmp = osp.join(folder, f'.{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp')
    try:
        with open(tmp, 'xb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _atomic_put(self: LocalBackend, obj: bytes,
                filepath: Union[str, Path]) -> None:
    atomic_write_bytes(obj, filepath)


LocalBackend.put = _atomic_put


#: Names :func:`atomic_write_bytes` gives its temporary files.
TEMPORARY_NAME = re.compile(r'^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$')


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a file of this process is not being written now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder: str,
                             recursive: bool = False) -> List[str]:
    """Delete temporary files a killed :func:`atomic_write_bytes` left.

    A file is stale when the process that wrote it (its pid is part of the
    name) no longer runs.

    Args:
        folder (str): Where to look.
        recursive (bool): Also look in sub-folders. Default: False.

    Returns:
        list[str]: The removed files.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    walk = os.walk(folder) if recursive else [(folder, [], os.listdir(folder))]
    for root, _, names in walk:
        for name in names:
            match = TEMPORARY_NAME.match(name)
            path = osp.join(root, name)
            if match and osp.isfile(path) and not _process_alive(
                    int(match.group(1))):
                try:
                    os.remove(path)
                except FileNotFoundError:  # removed concurrently
                    continue
                removed.append(path)
    return removed
