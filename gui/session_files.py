"""One temporary folder per app session, for the files the app writes only to hand over (a result dragged out of the
list as a ``.mid`` file), removed when the app quits; folders that crashed sessions left are removed at the next
start.

The folder is ``<temp>/composer-session-<pid>-<random>`` (the system's temporary folder, ``tempfile.gettempdir()``),
made the first time it is asked for. A session's folder is stale when the process that made it has ended (its pid is
gone, or is now another program's, told by the process's start time kept in the folder); folders of the older
``composer-drag-*`` kind (one per results list, never removed) are stale when nothing has touched them for
:data:`OLD_DRAG_AGE_S`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

PREFIX = "composer-session-"
OLD_PREFIX = "composer-drag-"
OLD_DRAG_AGE_S = 24 * 3600
MARKER = "owner"

_session: Path | None = None
_registered = False


def _start_time(pid: int) -> str:
    """The start time of process ``pid`` as ``/proc`` gives it ("" where there is no ``/proc``, or no process)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return fields[19] if len(fields) > 19 else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def session_dir(base: str | os.PathLike | None = None) -> Path:
    """This session's temporary folder, made on first use.

    Args:
        base: where to make it (tests); default the system's temporary folder.

    Returns:
        The folder (it exists).
    """
    global _session, _registered
    if not _registered:  # also removed at interpreter exit, should the app's quit not run (a script, a test)
        atexit.register(remove_session_dir)
        _registered = True
    if _session is None or not _session.is_dir():
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
        (folder / MARKER).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
        _session = folder
    return _session


def remove_session_dir() -> None:
    """Remove this session's folder and what is in it (at quit; harmless when there is none)."""
    global _session
    folder, _session = _session, None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _stale(folder: Path) -> bool:
    """Whether ``folder`` (a session folder or an old drag folder) belongs to no running app."""
    if folder.name.startswith(OLD_PREFIX):
        try:
            return time.time() - folder.stat().st_mtime > OLD_DRAG_AGE_S
        except OSError:
            return False
    if folder == _session:
        return False
    try:
        pid_text, _, started = (folder / MARKER).read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        pid_text = folder.name[len(PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit():
            return False
        pid, started = int(pid_text), ""
    if not _alive(pid):
        return True
    return bool(started) and _start_time(pid) not in ("", started)  # the pid now names another process


def clean_stale(base: str | os.PathLike | None = None) -> list[Path]:
    """Remove the temporary folders that ended sessions left (crashed, killed).

    Args:
        base: where to look (tests); default the system's temporary folder.

    Returns:
        The folders removed.
    """
    root = Path(base) if base is not None else Path(tempfile.gettempdir())
    removed = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith((PREFIX, OLD_PREFIX)) and p.is_dir()]
    except OSError:
        return removed
    for folder in candidates:
        if _stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
