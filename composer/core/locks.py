"""Advisory locks on output files, so that two processes never write one file at once.

A lock is an ``fcntl.flock`` on a sidecar file beside the file it guards (``model.pt`` -> ``model.pt.lock``),
holding the pid of its owner. The operating system drops a flock lock when its process ends, a crash or a
``kill -9`` included, so a lock can never outlive its owner.

The sidecar is removed when the lock is released. Removing a lock file races with a process that opened it just
before: that process may then lock the removed file while a third locks a new one. So every taker checks, once it
holds the lock, that the path still names the file it locked, and starts again if not. A sidecar left by a killed
process is harmless: it holds no lock, and the next taker reuses and removes it.

Within one process a lock is re-entrant (the CLI takes a training's lock before preparing its data, the training
loop takes it again). On Windows, which has no ``fcntl``, nothing is locked (the project targets Linux first).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:   # Windows: no advisory locks; every lock is granted (see the module docstring)
    fcntl = None

LOCK_SUFFIX = ".lock"
_HELD: dict[str, list] = {}          # resolved lock path -> [file descriptor, how many holders in this process]
_HELD_GUARD = threading.Lock()


class OutputLockedError(Exception):
    """A file is being written by another process, which holds its lock.

    Attributes:
        path: the file.
        pid: the process holding the lock (None when it could not be read).
        writer: what the other process is, in the message ("training").
        flag: the option that names the file, in the message ("--out").
    """

    def __init__(self, path: Path, pid: int | None, writer: str = "training", flag: str = "--out") -> None:
        self.path, self.pid = Path(path), pid
        owner = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"{self.path} is being written by another {writer} ({owner}); wait for it or choose "
                         f"another {flag}")


def lock_path(path: str | os.PathLike) -> Path:
    """The sidecar lock file of ``path``: ``model.pt`` -> ``model.pt.lock``."""
    path = Path(path)
    return path.with_name(path.name + LOCK_SUFFIX)


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, writer: str = "training", flag: str = "--out") -> Iterator[None]:
    """Hold the lock of ``path`` for the ``with`` block, or fail at once when another process holds it.

    Args:
        path: the file to be written; its folder is created if missing.
        writer, flag: how the refusal's message names the other process and the option (see
            :class:`OutputLockedError`).

    Raises:
        OutputLockedError: another process holds the lock.
        OSError: the lock file cannot be created (an unwritable folder, ...).
    """
    if not _acquire(Path(path), wait_s=0.0):
        raise OutputLockedError(Path(path), _owner(lock_path(path)), writer, flag)
    try:
        yield
    finally:
        _release(Path(path))


@contextlib.contextmanager
def try_lock(path: str | os.PathLike, wait_s: float = 5.0) -> Iterator[bool]:
    """Hold the lock of ``path`` for the ``with`` block if it can be had within ``wait_s`` seconds.

    For work that may be skipped (a cache update): the block is told whether it holds the lock, and an
    error taking it (an unwritable folder) counts as not holding it.

    Args:
        path: the file to be written.
        wait_s: how long to wait for another holder to finish.

    Returns:
        (as the ``with`` target) True when the lock is held, False when it is not.
    """
    try:
        held = _acquire(Path(path), wait_s)
    except OSError:
        held = False
    try:
        yield held
    finally:
        if held:
            _release(Path(path))


def hold(path: str | os.PathLike, wait_s: float = 0.0) -> bool:
    """Take the lock of ``path`` until :func:`release` (for a lock held longer than a ``with`` block: a
    window's autosave slot). Re-entrant within this process, like :func:`output_lock`.

    Args:
        path: the file guarded.
        wait_s: how long to wait for another holder to let go.

    Returns:
        True once held; False when another process held it all along.

    Raises:
        OSError: the lock file cannot be created.
    """
    return _acquire(Path(path), wait_s)


def claim(path: str | os.PathLike) -> bool:
    """Take the lock of ``path`` only if nobody holds it, this process included (not re-entrant): for taking
    over what a dead process left (an orphaned autosave), which a live holder in this process, another
    window, still owns.

    Args:
        path: the file guarded.

    Returns:
        True when the lock was free and is now held (let go with :func:`release`); False when it is held,
        here or elsewhere, or cannot be taken (an unwritable folder).
    """
    if fcntl is None:
        return True
    sidecar = lock_path(path)
    try:
        key = str(sidecar.resolve())
        with _HELD_GUARD:
            if key in _HELD:
                return False
        fd = _lock_once(sidecar)
    except OSError:
        return False
    if fd is None:
        return False
    with _HELD_GUARD:
        _HELD[key] = [fd, 1]
    return True


def release(path: str | os.PathLike) -> None:
    """Let go of one :func:`hold` or :func:`claim` of the lock of ``path`` (the last one removes the lock file)."""
    _release(Path(path))


def _acquire(path: Path, wait_s: float) -> bool:
    """Take the lock of ``path`` (re-entrant within this process), trying for up to ``wait_s`` seconds.

    Returns:
        True once held; False when another process held it all along.

    Raises:
        OSError: the lock file cannot be created.
    """
    if fcntl is None:
        return True
    sidecar = lock_path(path)
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    key = str(sidecar.resolve())
    with _HELD_GUARD:
        if key in _HELD:
            _HELD[key][1] += 1
            return True
    deadline = time.monotonic() + wait_s
    while True:
        fd = _lock_once(sidecar)
        if fd is not None:
            with _HELD_GUARD:
                _HELD[key] = [fd, 1]
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _lock_once(sidecar: Path) -> int | None:
    """An open, locked descriptor of ``sidecar`` holding this pid, or None when another process holds it."""
    while True:
        fd = os.open(sidecar, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            current = os.stat(sidecar)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(current, os.fstat(fd)):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)   # we locked a file its holder removed as it let go: take the new one


def _release(path: Path) -> None:
    """Let go of one hold of the lock of ``path``; the last one removes the lock file and unlocks it."""
    if fcntl is None:
        return
    sidecar = lock_path(path)
    key = str(sidecar.resolve())
    with _HELD_GUARD:
        entry = _HELD.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _HELD[key]
    with contextlib.suppress(OSError):
        os.unlink(sidecar)   # while still locked: see the module docstring for why this is safe
    os.close(entry[0])


def _owner(sidecar: Path) -> int | None:
    """The pid written in a lock file (None when unreadable: e.g. its holder has not written it yet)."""
    for _ in range(10):
        try:
            text = sidecar.read_text().strip()
        except OSError:
            return None
        if text.isdigit():
            return int(text)
        time.sleep(0.02)
    return None
