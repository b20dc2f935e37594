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

    Raises:
        OSError: the file cannot be written (a full disk, ...); the old file, if any, is left as it was. An
            error in writing or renaming the temporary file names ``path`` (also one a writer such as ``torch.save``
            reported as another error).
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
    except BaseException as error:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        cause = _os_error_in(error)
        if cause is not None and cause.filename in (None, temp_name):
            raise OSError(cause.errno, cause.strerror, str(path)) from error   # name the file being written
        raise


def _os_error_in(error: BaseException) -> OSError | None:
    """The OS error (with an errno) behind a failed write: ``error`` itself, or one it was raised while handling
    (``torch.save`` turns a full disk into a RuntimeError about the zip archive); None when there is none."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and error.errno is not None:
            return error
        if not isinstance(error, (RuntimeError, ValueError, OSError)):
            return None
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


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
