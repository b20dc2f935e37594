"""The open piece: a :class:`~composer.music.notes.Piece`, its file, and one undo stack.

Every change goes through :meth:`Document.apply` (an undoable :class:`~gui.commands.ReplacePieceCommand`)
except opening a file or restoring an autosave, which start a new history. Views listen to
``pieceChanged``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from composer.music.notes import Piece, TempoChange, TimeSignature, Voice
from gui.commands import ReplacePieceCommand

DEFAULT_TICKS_PER_BEAT = 480  # what DAWs use; new pieces are drawn on this grid


def empty_piece(ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT, qpm: float = 120.0) -> Piece:
    """A new, empty one-voice piece in 4/4."""
    return Piece(notes=(), ticks_per_beat=ticks_per_beat, voices=(Voice("Melody"),),
                 tempos=(TempoChange(0, qpm),), time_signatures=(TimeSignature(0, 4, 4),), name="Untitled")


class Document(QObject):
    """The current composition.

    Signals:
        pieceChanged(object): the piece (after any edit, undo, redo, open or restore).
        pathChanged(str): the file path ("" for an unsaved piece).
        dirtyChanged(bool): True when there are unsaved changes.
    """

    pieceChanged = Signal(object)
    pathChanged = Signal(str)
    dirtyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._piece = empty_piece()
        self._path: Path | None = None
        self._unsaved_start = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    # -- state -----------------------------------------------------------------------------------
    @property
    def piece(self) -> Piece:
        return self._piece

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def dirty(self) -> bool:
        return self._unsaved_start or not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        """A short name for the window title."""
        return self._path.name if self._path else (self._piece.name or "Untitled")

    # -- changes ---------------------------------------------------------------------------------
    def apply(self, new_piece: Piece, text: str) -> None:
        """Make ``new_piece`` the document's piece as one undoable step named ``text``."""
        if new_piece == self._piece:
            return
        self.undo_stack.push(ReplacePieceCommand(self, new_piece, text))

    def reset(self, piece: Piece, path: str | Path | None = None, dirty: bool = False) -> None:
        """Start over with ``piece`` (opening a file, a new piece, restoring an autosave): history is cleared.

        Args:
            piece: the new piece.
            path: its file, or None for an unsaved piece.
            dirty: mark it as having unsaved changes (a restored autosave).
        """
        self.undo_stack.clear()
        self._path = Path(path) if path else None
        self._set_piece(piece)
        self.pathChanged.emit(str(self._path or ""))
        self._unsaved_start = dirty  # an empty history is clean, but a restored piece is saved nowhere
        self.dirtyChanged.emit(self.dirty)

    def mark_saved(self, path: str | Path) -> None:
        """The piece was written to ``path``: it is now the document's file and is clean."""
        self._path = Path(path)
        self._unsaved_start = False
        self.undo_stack.setClean()
        self.pathChanged.emit(str(self._path))
        self.dirtyChanged.emit(False)

    def _clean_changed(self, clean: bool) -> None:
        self.dirtyChanged.emit(self._unsaved_start or not clean)

    def _set_piece(self, piece: Piece) -> None:
        """Set the piece and notify views (called by commands; use :meth:`apply` to edit)."""
        self._piece = piece
        self.pieceChanged.emit(piece)
