"""Atomic file writes: a crash mid-write never leaves a truncated file.

mmengine's local backend writes checkpoints (and ``last_checkpoint``) with a
plain ``open(path, 'wb')``, so a run killed while saving destroys the
checkpoint it was overwriting. Importing ``mmseg_uda`` makes that backend
write to a temporary file in the same folder and ``os.replace`` it into
place, which is atomic on POSIX file systems.
"""
import os
import os.path as osp
import uuid
from pathlib import Path
from typing import Union

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
