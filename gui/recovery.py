"""Crash recovery: edits are autosaved soon after they happen, and the pieces of windows that ended without
saving are offered back at the next start, each of them (see :mod:`gui.autosave` for the files)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from gui.autosave import Autosaver
from gui.document import Document
from gui.messages import Messages
from gui.piano_roll import PianoRoll


class CrashRecovery(QObject):
    """Starts this window's autosave slot, autosaves the document's edits, and offers back every orphaned
    autosave (the slot of a window that crashed or was killed); slots of live windows are left alone.

    The window connects the undo stack's ``indexChanged`` to :meth:`autosave_soon` through a slot of its own:
    the stack signals while it is being deleted, and only the window's slots are cut before its children go.

    Args:
        autosaver: this window's autosave writer.
        document: the piece autosaved, and replaced on a restore.
        piano_roll: scrolled to a restored piece.
        messages: where messages go.
        window: the window the questions belong to.

    Attributes:
        pending_restores: the orphaned autosaves not yet restored or declined, newest first (each
            ``{"piece", "source", "saved_at", "slot"}``).
        open_elsewhere: how to open an orphan once this window holds a restored piece (the app opens a new
            window); None keeps such an orphan for the next start.
    """

    def __init__(self, autosaver: Autosaver, document: Document, piano_roll: PianoRoll, messages: Messages,
                 window: QWidget) -> None:
        super().__init__(window)
        self.autosaver = autosaver
        self.document = document
        self.piano_roll = piano_roll
        self.messages = messages
        self.window = window
        self.open_elsewhere: Callable[[dict], None] | None = None
        autosaver.start_session()
        self.pending_restores: list[dict] = autosaver.orphans()
        self._restored_here = False

    @property
    def pending_restore(self) -> dict | None:
        """The newest orphaned autosave not yet dealt with, or None."""
        return self.pending_restores[0] if self.pending_restores else None

    def autosave_soon(self, _index: int = 0) -> None:
        """After an edit (or undo/redo), autosave the piece soon; back at the saved state, drop the autosave."""
        if self.document.dirty:
            self.autosaver.schedule(self.document.piece, str(self.document.path) if self.document.path else None)
        else:
            self.autosaver.discard()

    def restore_autosave(self, record: dict | None = None) -> bool:
        """Load an orphaned autosave (default: the newest) into this window; it stays unsaved. It moves into
        this window's own slot at once, and the orphan is deleted.

        Args:
            record: one of :attr:`pending_restores`.

        Returns:
            False when there is nothing to restore.
        """
        record = record or self.pending_restore
        if record is None:
            return False
        self._forget(record)
        self.document.reset(record["piece"], record["source"], dirty=True)
        self.piano_roll.show_pitch_range(record["piece"])
        self.autosaver.schedule(record["piece"], record["source"])
        self.autosaver.flush()                      # written here before the orphan goes
        self.autosaver.discard_orphan(record)
        self._restored_here = True
        self.messages.show_message("Restored the autosaved piece")
        return True

    def decline_restore(self, record: dict | None = None) -> None:
        """Forget an orphaned autosave (default: the newest); its file is deleted."""
        record = record or self.pending_restore
        if record is not None:
            self._forget(record)
            self.autosaver.discard_orphan(record)

    def _forget(self, record: dict) -> None:
        self.pending_restores = [other for other in self.pending_restores if other["slot"] != record["slot"]]

    def offer_restore(self) -> None:
        """Ask, for each orphaned autosave in turn, whether to restore it: the first one accepted comes back
        in this window, later ones through :attr:`open_elsewhere` (else they are kept for the next start)."""
        for record in list(self.pending_restores):
            answer = QMessageBox.question(self.window, "Restore unsaved work", self._question(record),
                                          QMessageBox.Yes | QMessageBox.No)
            if answer != QMessageBox.Yes:
                self.decline_restore(record)
            elif not self._restored_here:
                self.restore_autosave(record)
            elif self.open_elsewhere is not None:
                self._forget(record)
                self.open_elsewhere(record)
                self.autosaver.discard_orphan(record)
            else:
                self.messages.show_message("Another unsaved piece is kept: it is offered again at the next start")

    def _question(self, record: dict) -> str:
        source = record["source"]
        count = len(self.pending_restores)
        others = f" ({count} unsaved pieces)" if count > 1 else ""
        when = time.strftime("%H:%M %d %b", time.localtime(record["saved_at"])) if record["saved_at"] else ""
        return ("Composer did not close normally last time" + others + ". Restore the piece you were working on"
                + (f" ({Path(source).name})" if source else "") + (f", autosaved at {when}" if when else "")
                + "?")
