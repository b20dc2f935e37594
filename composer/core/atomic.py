"""Atomic file writes: the destination is either the old file or the complete new one, never half."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through a temporary file in the same folder, then rename it into place.

    The new file gets the permissions a plain ``open(path, "wb")`` would give it (umask applied).

    Args:
        path: destination file; its folder is created if missing.
        write: called with the open binary handle of the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


STALE_SECONDS = 60.0  # a temporary file untouched this long belongs to a write that was killed


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files left beside ``path`` by writes that died (a kill, a power cut).

    A temporary file still being written by another process is fresh, and is left alone.
    """
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - temp.stat().st_mtime > STALE_SECONDS:
                temp.unlink()
        except OSError:
            pass
