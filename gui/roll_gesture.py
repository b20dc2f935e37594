"""A mouse edit in the piano roll while the button is down: what it does, and the notes it would leave.

The canvas starts a :class:`Gesture` on a press, moves it with the mouse (:meth:`Gesture.drag_to`), draws
:meth:`Gesture.dragged` as a preview, and on release applies that as one undoable step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRectF

from composer.music.notes import Note

MOVE, RESIZE, DRAW, BAND = "move", "resize", "draw", "band"


@dataclass
class Gesture:
    """A mouse gesture in progress: what it does, where it started, and the notes it drags.

    Attributes:
        kind: MOVE or RESIZE the selected notes, DRAW a new note, or a rubber BAND selection.
        origin_tick, origin_pitch, origin: where the button went down.
        notes: the notes dragged (the new note when drawing).
        tick_delta, pitch_delta: how far they are dragged (snapped to the grid).
        current: the mouse position of a band.
    """

    kind: str
    origin_tick: int
    origin_pitch: int
    origin: QPoint
    notes: tuple[Note, ...] = ()
    tick_delta: int = 0
    pitch_delta: int = 0
    current: QPoint | None = None

    def drag_to(self, tick: int, pitch: int, point: QPoint, step: int) -> None:
        """Follow the mouse to ``tick`` and ``pitch`` (at ``point``), snapping to a grid of ``step`` ticks.

        Moves keep the notes at or after tick 0 and within MIDI pitches; resizes keep every note at least a
        tick long; a drawn note ends on the grid line at or after the mouse, at least one step long.
        """
        snapped_delta = round((tick - self.origin_tick) / step) * step
        if self.kind == MOVE:
            self.tick_delta = max(-min(n.start for n in self.notes), snapped_delta)
            low, high = min(n.pitch for n in self.notes), max(n.pitch for n in self.notes)
            self.pitch_delta = max(-low, min(127 - high, pitch - self.origin_pitch))
        elif self.kind == DRAW:
            note = self.notes[0]
            end = -(-max(tick, note.start + 1) // step) * step        # the grid line at or after the mouse
            self.tick_delta = max(step, end - note.start) - note.duration
        elif self.kind == RESIZE:
            self.tick_delta = max(1 - min(n.duration for n in self.notes), snapped_delta)
        elif self.kind == BAND:
            self.current = point

    def dragged(self) -> tuple[Note, ...]:
        """The notes of the gesture as they would be if the mouse were released now."""
        if self.kind == MOVE:
            return tuple(dataclasses.replace(n, start=n.start + self.tick_delta, end=n.end + self.tick_delta,
                                             pitch=n.pitch + self.pitch_delta) for n in self.notes)
        return tuple(dataclasses.replace(n, end=n.end + self.tick_delta) for n in self.notes)

    def hidden_notes(self) -> set[Note]:
        """The piece's notes a move or resize is dragging (painted faint while the preview is drawn)."""
        return set(self.notes) if self.kind in (MOVE, RESIZE) else set()

    def changed(self) -> bool:
        return bool(self.tick_delta or self.pitch_delta)

    def band(self) -> QRectF:
        """The rubber band, in widget coordinates."""
        return QRectF(QPointF(self.origin), QPointF(self.current or self.origin)).normalized()

    def edit_label(self) -> str:
        """The undo step's name for a move or resize ("Move note", "Resize notes")."""
        label = "Move notes" if self.kind == MOVE else "Resize notes"
        return label[:-1] if len(self.notes) == 1 else label


def band_covers(band: QRectF, rect: QRectF) -> bool:
    """Whether a rubber ``band`` covers a note's ``rect``, rather than grazing it: the middle of the note's row
    is inside the band, and the band holds at least half the note's length (or the band lies within the note)."""
    middle = rect.center().y()
    if not band.top() <= middle <= band.bottom():
        return False
    overlap = min(band.right(), rect.right()) - max(band.left(), rect.left())
    return overlap > 0 and overlap >= min(rect.width(), band.width()) / 2
