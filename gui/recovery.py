"""Crash recovery: edits are autosaved soon after they happen, and the piece of a session that ended
without saving is offered back at the next start (see :mod:`gui.autosave` for the files)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from gui.autosave import Autosaver
from gui.document import Document
from gui.messages import Messages
from gui.piano_roll import PianoRoll


class CrashRecovery(QObject):
    """Starts the autosave session, autosaves the document's edits, and restores a crashed session's piece.

    The window connects the undo stack's ``indexChanged`` to :meth:`autosave_soon` through a slot of its own:
    the stack signals while it is being deleted, and only the window's slots are cut before its children go.

    Args:
        autosaver: the private autosave folder's writer.
        document: the piece autosaved, and replaced on a restore.
        piano_roll: scrolled to a restored piece.
        messages: where messages go.
        window: the window the question belongs to.

    Attributes:
        pending_restore: what the last session left unsaved (``{"piece", "source", ...}``), or None.
    """

    def __init__(self, autosaver: Autosaver, document: Document, piano_roll: PianoRoll, messages: Messages,
                 window: QWidget) -> None:
        super().__init__(window)
        self.autosaver = autosaver
        self.document = document
        self.piano_roll = piano_roll
        self.messages = messages
        self.window = window
        self.pending_restore: dict | None = autosaver.recoverable()
        autosaver.start_session()

    def autosave_soon(self, _index: int = 0) -> None:
        """After an edit (or undo/redo), autosave the piece soon; back at the saved state, drop the autosave."""
        if self.document.dirty:
            self.autosaver.schedule(self.document.piece, str(self.document.path) if self.document.path else None)
        else:
            self.autosaver.discard()

    def restore_autosave(self) -> bool:
        """Load the piece a crashed session left (``pending_restore``); it stays unsaved."""
        record, self.pending_restore = self.pending_restore, None
        if record is None:
            return False
        self.document.reset(record["piece"], record["source"], dirty=True)
        self.piano_roll.show_pitch_range(record["piece"])
        self.autosaver.schedule(record["piece"], record["source"])
        self.messages.show_message("Restored the autosaved piece")
        return True

    def decline_restore(self) -> None:
        """Forget the crashed session's piece (its autosave is deleted)."""
        self.pending_restore = None
        self.autosaver.discard()

    def offer_restore(self) -> None:
        """Ask whether to restore the autosave of a session that ended without saving."""
        if self.pending_restore is None:
            return
        source = self.pending_restore["source"]
        text = ("Composer did not close normally last time. Restore the piece you were working on"
                + (f" ({Path(source).name})" if source else "") + "?")
        answer = QMessageBox.question(self.window, "Restore unsaved work", text, QMessageBox.Yes | QMessageBox.No)
        if answer == QMessageBox.Yes:
            self.restore_autosave()
        else:
            self.decline_restore()
