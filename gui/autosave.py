"""Autosave: the open piece is written to a private folder shortly after each change, and offered back
after a crash.

Files in the autosave folder:

``autosave.json``  the piece (every note, tempo, metre, voice, key: an exact copy), the file it came
                   from, and when it was saved; written atomically (:func:`composer.core.atomic.write_atomically`),
                   so a kill during the write leaves the previous autosave whole.
``session.lock``   the process id of the running app. A clean exit removes both files. An
                   ``autosave.json`` found at start-up while no live app holds the lock means the last
                   session ended without saving: the app offers to restore it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from composer.core.atomic import write_atomically
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice

AUTOSAVE_NAME = "autosave.json"
LOCK_NAME = "session.lock"
FORMAT = "composer-autosave-1"


def default_autosave_dir() -> Path:
    """Where autosaves live for this user (the platform's app-data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".composer")
    return Path(base) / "autosave"


# -- the piece as plain JSON (exact: every field of every note) -------------------------------------
def piece_to_dict(piece: Piece) -> dict:
    return {
        "notes": [[n.start, n.end, n.pitch, n.velocity, n.voice] for n in piece.notes],
        "ticks_per_beat": piece.ticks_per_beat,
        "voices": [asdict(v) for v in piece.voices],
        "tempos": [[t.tick, t.qpm] for t in piece.tempos],
        "time_signatures": [[s.tick, s.numerator, s.denominator] for s in piece.time_signatures],
        "key": piece.key,
        "name": piece.name,
    }


def piece_from_dict(data: dict) -> Piece:
    """Inverse of :func:`piece_to_dict`. Raises ValueError/KeyError/TypeError on a damaged record."""
    return Piece(
        notes=tuple(Note(*map(int, n)) for n in data["notes"]),
        ticks_per_beat=int(data["ticks_per_beat"]),
        voices=tuple(Voice(str(v["name"]), int(v["program"]), bool(v["is_drum"])) for v in data["voices"]),
        tempos=tuple(TempoChange(int(t), float(q)) for t, q in data["tempos"]),
        time_signatures=tuple(TimeSignature(int(t), int(n), int(d)) for t, n, d in data["time_signatures"]),
        key=data["key"],
        name=str(data["name"]),
    )


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Autosaver(QObject):
    """Writes the piece to ``folder`` ``delay_ms`` after the last change.

    Args:
        folder: private autosave folder (created).
        delay_ms: quiet time before writing, so a drag does not write on every pixel.

    Signals:
        saved(str): path of the autosave just written.
    """

    saved = Signal(str)

    def __init__(self, folder: str | os.PathLike, delay_ms: int = 1500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._pending: tuple[Piece, str | None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)

    def set_delay(self, delay_ms: int) -> None:
        """Change the quiet time before an autosave is written."""
        self._timer.setInterval(delay_ms)

    @property
    def path(self) -> Path:
        return self.folder / AUTOSAVE_NAME

    @property
    def lock_path(self) -> Path:
        return self.folder / LOCK_NAME

    # -- session ---------------------------------------------------------------------------------
    def recoverable(self) -> dict | None:
        """The autosave a previous session left behind (crashed or killed), or None.

        Returns:
            ``{"piece": Piece, "source": str | None, "saved_at": float}``; None when there is none,
            when another running app owns it, or when it cannot be read.
        """
        if not self.path.is_file():
            return None
        try:
            owner = int(self.lock_path.read_text().strip() or 0)
        except (OSError, ValueError):
            owner = 0
        if owner not in (0, os.getpid()) and _pid_alive(owner):
            return None
        try:
            record = json.loads(self.path.read_text())
            if record.get("format") != FORMAT:
                return None
            return {"piece": piece_from_dict(record["piece"]), "source": record.get("source"),
                    "saved_at": float(record.get("saved_at", 0))}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def start_session(self) -> None:
        """Claim the folder for this process."""
        write_atomically(self.lock_path, lambda handle: handle.write(str(os.getpid()).encode()))

    def end_session(self) -> None:
        """A clean exit: nothing to recover next time."""
        self._timer.stop()
        self._pending = None
        for path in (self.path, self.lock_path):
            path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Forget the current autosave (the piece was saved, or the user declined a restore)."""
        self._timer.stop()
        self._pending = None
        self.path.unlink(missing_ok=True)

    # -- writing ---------------------------------------------------------------------------------
    def schedule(self, piece: Piece, source: str | None) -> None:
        """Autosave ``piece`` after the quiet time (a newer call replaces a pending one)."""
        self._pending = (piece, source)
        self._timer.start()

    def flush(self) -> None:
        """Write the pending piece now (atomically)."""
        if self._pending is None:
            return
        piece, source = self._pending
        self._pending = None
        record = {"format": FORMAT, "saved_at": time.time(), "source": source, "piece": piece_to_dict(piece)}
        data = json.dumps(record).encode()
        write_atomically(self.path, lambda handle: handle.write(data))
        self.saved.emit(str(self.path))
