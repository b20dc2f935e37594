"""Autosave: the open piece is written to a private folder shortly after each change, and offered back
after a crash. Every running window has a slot of its own in the folder, so windows and app instances sharing
the folder never write over, or clean up, each other's work.

Files in the autosave folder, per slot (``ID`` is the pid of the app and a random part):

``autosave-ID.json``       the piece (every note, tempo, metre, voice, key: an exact copy), the file it came
                           from, and when it was saved; written atomically
                           (:func:`composer.core.atomic.write_atomically`), so a kill during the write leaves
                           the previous autosave whole.
``autosave-ID.json.lock``  the slot's lock (:mod:`composer.core.locks`: an flock the operating system drops
                           when its process ends, a ``kill -9`` included), held by its window from start to
                           exit. A clean exit removes both files of its own slot and nothing else.

At start-up every ``autosave-*.json`` whose lock nobody holds is an orphan: the window that wrote it ended
without saving, and the app offers it back. A slot whose lock is held belongs to a live window (in this
process or another) and is neither offered nor touched. ``autosave.json`` with ``session.lock`` (a pid), left by
an earlier version of the app, is offered the same way once that pid is gone.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from composer.core import locks
from composer.core.atomic import write_atomically
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice

SLOT_PREFIX = "autosave-"
SLOT_SUFFIX = ".json"
LEGACY_AUTOSAVE_NAME = "autosave.json"   # one autosave for every window (before slots): read, never written
LEGACY_LOCK_NAME = "session.lock"
FORMAT = "composer-autosave-1"
SLOT_WAIT_S = 2.0   # a starting app may be tidying a stale lock file this instant (see orphans())


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


def read_autosave(path: Path) -> dict | None:
    """The record of an autosave file, or None when it is missing, damaged or of another format.

    Args:
        path: an ``autosave-*.json`` file.

    Returns:
        ``{"piece": Piece, "source": str | None, "saved_at": float, "slot": Path}``, or None.
    """
    try:
        record = json.loads(path.read_text())
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return None
        return {"piece": piece_from_dict(record["piece"]), "source": record.get("source"),
                "saved_at": float(record.get("saved_at", 0)), "slot": path}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _legacy_orphan(folder: Path) -> Path | None:
    """``autosave.json`` of an earlier version of the app, when the app that wrote it is gone."""
    path = folder / LEGACY_AUTOSAVE_NAME
    if not path.is_file():
        return None
    try:
        owner = int((folder / LEGACY_LOCK_NAME).read_text().strip() or 0)
    except (OSError, ValueError):
        owner = 0
    return None if owner != os.getpid() and _pid_alive(owner) else path


class Autosaver(QObject):
    """Writes the piece to this window's own slot of ``folder`` ``delay_ms`` after the last change.

    Args:
        folder: the private autosave folder (created); windows and app instances may share it.
        delay_ms: quiet time before writing, so a drag does not write on every pixel.
        parent: the owning Qt object.

    Signals:
        saved(str): path of the autosave just written.
    """

    saved = Signal(str)

    def __init__(self, folder: str | os.PathLike, delay_ms: int = 1500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.slot_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._session = False
        self._claimed: set[Path] = set()    # orphans this window took over to offer them (their locks held)
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
        """This window's autosave file."""
        return self.folder / f"{SLOT_PREFIX}{self.slot_id}{SLOT_SUFFIX}"

    @property
    def lock_path(self) -> Path:
        """This window's slot lock."""
        return locks.lock_path(self.path)

    # -- session ---------------------------------------------------------------------------------
    def start_session(self) -> None:
        """Claim this window's slot: its lock is held until :meth:`end_session` (or the process ends).

        Raises:
            OSError: the autosave folder cannot be written.
        """
        if not self._session:
            self._session = locks.hold(self.path, SLOT_WAIT_S)
            if not self._session:   # a fresh random name held elsewhere: only a clash of 32 random bits
                self.slot_id = f"{os.getpid()}-{secrets.token_hex(8)}"
                self._session = locks.hold(self.path, SLOT_WAIT_S)

    def end_session(self) -> None:
        """A clean exit: this window's slot is removed, other windows' slots are left alone, and orphans this
        window claimed but did not restore or discard are let go (offered again next time)."""
        self._timer.stop()
        self._pending = None
        self.path.unlink(missing_ok=True)
        for slot in list(self._claimed):
            self._let_go(slot)
        if self._session:
            locks.release(self.path)
            self._session = False

    def discard(self) -> None:
        """Forget this window's autosave (the piece was saved, or it is back at its saved state)."""
        self._timer.stop()
        self._pending = None
        self.path.unlink(missing_ok=True)

    # -- orphans ---------------------------------------------------------------------------------
    def orphans(self) -> list[dict]:
        """The autosaves of windows that ended without saving (crashed or killed), newest first.

        Each is claimed (its lock held by this window) so that another app starting now does not offer it
        too; slots held by live windows are skipped untouched. Lock files left without an autosave by a
        killed window are removed; damaged autosaves are let go and left as they are.

        Returns:
            records as :func:`read_autosave` gives them.
        """
        found = []
        for slot in sorted(self.folder.glob(f"{SLOT_PREFIX}*{SLOT_SUFFIX}")) + self._legacy():
            if slot == self.path or slot in self._claimed or not locks.claim(slot):
                continue
            record = read_autosave(slot)
            if record is None:
                locks.release(slot)
                continue
            self._claimed.add(slot)
            found.append(record)
        self._tidy_stale_locks()
        return sorted(found, key=lambda record: -record["saved_at"])

    def _legacy(self) -> list[Path]:
        legacy = _legacy_orphan(self.folder)
        return [legacy] if legacy is not None else []

    def _tidy_stale_locks(self) -> None:
        """Remove lock files a killed window left with no autosave beside them (nobody holds them)."""
        for sidecar in self.folder.glob(f"{SLOT_PREFIX}*{SLOT_SUFFIX}{locks.LOCK_SUFFIX}"):
            slot = sidecar.with_name(sidecar.name[: -len(locks.LOCK_SUFFIX)])
            if slot != self.path and not slot.exists() and locks.claim(slot):
                locks.release(slot)   # removes the lock file

    def discard_orphan(self, record: dict) -> None:
        """Delete an orphan this window claimed (restored into a window, or declined by the user).

        Args:
            record: one of :meth:`orphans`' records.
        """
        slot = Path(record["slot"])
        if slot not in self._claimed:
            return
        slot.unlink(missing_ok=True)
        if slot.name == LEGACY_AUTOSAVE_NAME:
            (slot.parent / LEGACY_LOCK_NAME).unlink(missing_ok=True)
        self._let_go(slot)

    def _let_go(self, slot: Path) -> None:
        self._claimed.discard(slot)
        locks.release(slot)

    # -- writing ---------------------------------------------------------------------------------
    def schedule(self, piece: Piece, source: str | None) -> None:
        """Autosave ``piece`` after the quiet time (a newer call replaces a pending one)."""
        self._pending = (piece, source)
        self._timer.start()

    def flush(self) -> None:
        """Write the pending piece now (atomically), into this window's slot (claimed first if need be)."""
        if self._pending is None:
            return
        piece, source = self._pending
        self._pending = None
        self.start_session()
        record = {"format": FORMAT, "saved_at": time.time(), "source": source, "piece": piece_to_dict(piece)}
        data = json.dumps(record).encode()
        write_atomically(self.path, lambda handle: handle.write(data))
        self.saved.emit(str(self.path))
