"""Undoable edits of a :class:`~gui.document.Document`.

A :class:`~composer.music.notes.Piece` is immutable, so every edit is "replace the piece with a new one": the
command keeps the piece before and after, and undo/redo swap them. That makes every command exact and
cheap (pieces share their notes) and keeps music logic out of the GUI.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Iterable

from PySide6.QtGui import QUndoCommand

from composer.music.notes import Note, Piece, clean

if TYPE_CHECKING:
    from gui.document import Document


class ReplacePieceCommand(QUndoCommand):
    """Replace the document's piece; undo puts the old one back.

    Args:
        document: the document to edit.
        new_piece: the piece after the edit.
        text: what the Edit menu shows ("Undo <text>").
    """

    def __init__(self, document: Document, new_piece: Piece, text: str) -> None:
        super().__init__(text)
        self._document = document
        self._old = document.piece
        self._new = new_piece

    def redo(self) -> None:
        self._document._set_piece(self._new)

    def undo(self) -> None:
        self._document._set_piece(self._old)


# -- pure helpers that build the edited pieces ----------------------------------------------------
def with_notes_added(piece: Piece, notes: Iterable[Note]) -> Piece:
    """``piece`` with ``notes`` added (voices are created as needed).

    A note dropped onto another of the same pitch and voice cuts it short (:func:`composer.music.notes.clean`),
    as in a DAW, so the piece never holds two overlapping notes of one key.
    """
    added = tuple(notes)
    voices = piece.voices
    highest = max((n.voice for n in added), default=-1)
    if highest >= len(voices):
        voices = voices + tuple(dataclasses.replace(voices[-1], name=f"Voice {i + 1}")
                                for i in range(len(voices), highest + 1))
    return clean(piece.replace(notes=piece.notes + added, voices=voices))


def with_notes_removed(piece: Piece, notes: Iterable[Note]) -> Piece:
    """``piece`` without ``notes`` (one occurrence of each)."""
    remaining = list(piece.notes)
    for note in notes:
        remaining.remove(note)
    return piece.replace(notes=tuple(remaining))


def with_notes_replaced(piece: Piece, old: Iterable[Note], new: Iterable[Note]) -> Piece:
    """``piece`` with the notes ``old`` replaced by ``new`` (a move or a resize)."""
    return with_notes_added(with_notes_removed(piece, old), new)
