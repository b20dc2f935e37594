"""The chord lane's model and its undoable edits.

A lane shows a list of :class:`LaneChord` (a symbol over a span of ticks, estimated or not) for what the roll
shows: the document, or a previewed result. :class:`SetChordsCommand` replaces one such list on the document's
undo stack (a span edited, estimated chords shown), and, for an edit, puts the progression into the Compose
panel's chords field (undo puts the field's text back too).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from composer.music.chords import ChordSpan, parse_progression

if TYPE_CHECKING:
    from gui.chord_lane import ChordLane


@dataclass(frozen=True)
class LaneChord:
    """One chord of the lane.

    Attributes:
        start, end: the ticks it spans (end exclusive).
        symbol: its chord symbol (``"Am"``, ``"G7"``, ``"N"``).
        estimated: estimated from the notes and not edited since (drawn greyed, in italics).
    """

    start: int
    end: int
    symbol: str
    estimated: bool = False


def lane_chords(spans: list[ChordSpan] | tuple[ChordSpan, ...], estimated: bool = False) -> list[LaneChord]:
    """The lane's chords for ``spans`` (a result's chords, or estimated ones)."""
    return [LaneChord(s.start, s.end, s.chord.name, estimated) for s in spans]


def checked_symbol(text: str) -> str:
    """The chord symbol typed for a span, checked with :func:`composer.music.chords.parse_progression`.

    Args:
        text: what was typed: one chord symbol (``"Am"``, ``"bb7"``, ``"G/B"``, ``"N"``).

    Returns:
        The chord's standard name (``"Bb7"``).

    Raises:
        ValueError: not exactly one chord symbol, or a length given (the message is one line).
    """
    progression = parse_progression(text.strip())
    if len(progression) != 1:
        raise ValueError(f"type one chord symbol for the span, not {len(progression)} (example: Am)")
    chord, beats = progression[0]
    if beats is not None:
        raise ValueError("type the chord symbol alone (the span keeps its length), e.g. Am")
    return chord.name


def progression_text(chords: list[LaneChord], bar_ticks: int, ticks_per_beat: int) -> str:
    """The Compose panel's chords field for ``chords``: a symbol per bar, ``SYMBOL:BEATS`` for other lengths.

    Args:
        chords: the lane's chords, in time order.
        bar_ticks: a bar's length in ticks.
        ticks_per_beat: ticks per quarter note.

    Returns:
        Text such as ``"C G:2 D7:2 C"``.
    """
    words = []
    for chord in chords:
        length = chord.end - chord.start
        words.append(chord.symbol if length == bar_ticks else f"{chord.symbol}:{length / ticks_per_beat:g}")
    return " ".join(words)


class SetChordsCommand(QUndoCommand):
    """Replace the chords the lane keeps for one view (the document's, or a result's); undo puts them back.

    Args:
        lane: the chord lane.
        key: which view's chords (see :meth:`~gui.chord_lane.ChordLane.view_key`).
        new: the chords after the edit.
        text: what the Edit menu shows.
        fields: (before, after) texts of the panel's chords field, or None to leave the field alone.
    """

    def __init__(self, lane: ChordLane, key: Hashable, new: list[LaneChord], text: str,
                 fields: tuple[str, str] | None = None) -> None:
        super().__init__(text)
        self._lane = lane
        self._key = key
        self._old = lane.chords_for(key)
        self._new = list(new)
        self._fields = fields

    def redo(self) -> None:
        self._lane.set_chords(self._key, self._new)
        if self._fields is not None:
            self._lane.progressionEdited.emit(self._fields[1])

    def undo(self) -> None:
        self._lane.set_chords(self._key, self._old)
        if self._fields is not None:
            self._lane.progressionEdited.emit(self._fields[0])
