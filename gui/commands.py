"""Undoable edits of a :class:`~gui.document.Document`.

A :class:`~composer.music.notes.Piece` is immutable, so every edit is "replace the piece with a new one": the
command keeps the piece before and after, and undo/redo swap them. That makes every command exact and
cheap (pieces share their notes) and keeps music logic out of the GUI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from composer.music.keys import key_name, parse_key
from composer.music.metre import metre_of, pickup_signatures
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, clean

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


def with_velocities(piece: Piece, velocities: dict[Note, int]) -> Piece:
    """``piece`` with the velocity of each note of ``velocities`` set (clamped to MIDI's 1..127).

    Args:
        piece: the piece edited.
        velocities: note of the piece -> its new velocity.

    Returns:
        The edited piece (``piece`` itself when nothing changes).
    """
    changed = {note: min(127, max(1, int(v))) for note, v in velocities.items()}
    changed = {note: v for note, v in changed.items() if v != note.velocity}
    if not changed:
        return piece
    notes = tuple(dataclasses.replace(n, velocity=changed[n]) if n in changed else n for n in piece.notes)
    return piece.replace(notes=notes)


def with_tempo(piece: Piece, qpm: float) -> Piece:
    """``piece`` with its opening tempo set to ``qpm`` quarter notes per minute (later changes are kept).

    Raises:
        ValueError: ``qpm`` is not positive.
    """
    if not qpm > 0:
        raise ValueError(f"a tempo must be positive, not {qpm}")
    rest = tuple(t for t in piece.tempos if t.tick > 0)
    return piece.replace(tempos=(TempoChange(0, float(qpm)),) + rest)


def piece_time_signature(piece: Piece) -> TimeSignature:
    """The piece's own time signature: the opening one, or, after a pickup bar, the one the tune is in."""
    if not piece.time_signatures:
        return TimeSignature(0, 4, 4)
    return piece.time_signatures[1] if metre_of(piece).phase else piece.time_signatures[0]


def with_time_signature(piece: Piece, numerator: int, denominator: int) -> Piece:
    """``piece`` in ``numerator``/``denominator``: its opening time signature replaced, or, when it opens with a
    pickup, the tune's (the pickup keeps its length while it is shorter than the new bar); later changes are kept.

    Raises:
        ValueError: not a metre MIDI can write (numerator 1..64, denominator a power of two up to 64).
    """
    if not 1 <= numerator <= 64 or denominator not in (1, 2, 4, 8, 16, 32, 64):
        raise ValueError(f"not a time signature: {numerator}/{denominator}")
    signature = TimeSignature(0, numerator, denominator)
    phase = metre_of(piece).phase
    opening = (signature,)
    if phase and phase < signature.ticks_per_bar(piece.ticks_per_beat):
        opening = pickup_signatures(signature, phase, piece.ticks_per_beat)
    rest = tuple(s for s in piece.time_signatures if s.tick > phase)
    return piece.replace(time_signatures=opening + rest)


def with_key(piece: Piece, key: str | None) -> Piece:
    """``piece`` in key ``key`` (a name :func:`composer.music.keys.parse_key` reads, stored in its canonical
    spelling), or with no key (None or "").

    Raises:
        ValueError: ``key`` is not a key name.
    """
    if not key:
        return piece.replace(key=None)
    return piece.replace(key=key_name(*parse_key(key)))


# -- the Edit menu's note operations (Duplicate, Transpose, Quantize) ------------------------------
def duplicate_offset(notes: Iterable[Note], grid: int = 1) -> int:
    """How far :func:`with_duplicate` moves the copy: the notes' span (first start to last end), rounded up to
    a whole number of ``grid`` steps so the copy keeps its place on the grid (0 for no notes)."""
    notes = tuple(notes)
    if not notes:
        return 0
    span = max(n.end for n in notes) - min(n.start for n in notes)
    step = max(1, grid)
    return -(-span // step) * step


def with_duplicate(piece: Piece, notes: Iterable[Note], grid: int = 1) -> tuple[Piece, tuple[Note, ...]]:
    """``piece`` with a copy of ``notes`` placed right after them (see :func:`duplicate_offset`).

    Args:
        piece: the piece edited.
        notes: notes of the piece to copy.
        grid: the roll's grid in ticks; the copy moves by a whole number of steps.

    Returns:
        (the edited piece, the copies).
    """
    notes = tuple(notes)
    offset = duplicate_offset(notes, grid)
    copies = tuple(dataclasses.replace(n, start=n.start + offset, end=n.end + offset) for n in notes)
    return with_notes_added(piece, copies), copies


def with_transposed(piece: Piece, notes: Iterable[Note], semitones: int) -> tuple[Piece, tuple[Note, ...]] | None:
    """``piece`` with ``notes`` moved by ``semitones``.

    Args:
        piece: the piece edited.
        notes: notes of the piece to move.
        semitones: how far (negative: down).

    Returns:
        (the edited piece, the moved notes), or None when a note would leave MIDI's pitches 0..127 (the chord
        keeps its shape rather than being squashed at the edge).
    """
    notes = tuple(notes)
    pitches = [n.pitch + semitones for n in notes]
    if not notes or min(pitches) < 0 or max(pitches) > 127:
        return None
    moved = tuple(dataclasses.replace(n, pitch=n.pitch + semitones) for n in notes)
    return with_notes_replaced(piece, notes, moved), moved


def quantized_note(note: Note, grid: int) -> Note:
    """``note`` with its start and end moved to the nearest line of a ``grid``-tick grid (from tick 0); a note
    shorter than half a step keeps one step."""
    step = max(1, grid)
    start = round(note.start / step) * step
    end = max(start + step, round(note.end / step) * step)
    return dataclasses.replace(note, start=start, end=end)


def with_quantized(piece: Piece, notes: Iterable[Note], grid: int) -> tuple[Piece, tuple[Note, ...]]:
    """``piece`` with ``notes``' starts and ends on the ``grid`` (see :func:`quantized_note`).

    Returns:
        (the edited piece, the quantized notes); the piece itself when every note is already on the grid.
    """
    notes = tuple(notes)
    moved = tuple(quantized_note(n, grid) for n in notes)
    if moved == notes:
        return piece, notes
    return with_notes_replaced(piece, notes, moved), moved
