"""The piano roll: a view of the document's piece where notes are drawn, moved, resized and deleted.

:class:`PianoRoll` is a scroll area around a :class:`RollCanvas`. The canvas paints pitch rows (with
piano keys on the left and a bar ruler on top, both pinned while scrolling), bar and beat lines, the
notes coloured by voice, a rubber band and the playhead. Every mouse edit becomes one undoable step of
the :class:`~gui.document.Document`; while a gesture is in progress only a preview is drawn.

Mouse:
    click on the bar ruler     sets where playback starts
    left click on empty grid   draws a note (drag to set its length), snapped to the grid
    shift+drag on empty grid   rubber-band selection (or any drag with the Select tool)
    drag a note                moves the selected notes (time and pitch)
    drag a note's right edge   resizes the selected notes
    right click on a note      deletes it; Delete removes the selection
Keys: arrows move the selection (up/down a semitone, shift: an octave; left/right a grid step, shift: a
bar); the window's Ctrl+C/X/V copy, cut and paste notes (pasted at the playback start marker).
    ctrl+wheel                 zooms time (shift+ctrl+wheel zooms pitch)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QScrollArea, QWidget

from composer.music.notes import Note, Piece
from gui.commands import with_notes_added, with_notes_removed, with_notes_replaced
from gui.document import Document

KEY_WIDTH = 58        # px, the piano keys on the left
RULER_HEIGHT = 22     # px, the bar numbers on top
EDGE_GRAB = 6         # px near a note's right edge that resize instead of move
BASE_BEAT_WIDTH = 40  # px per beat at zoom 1
BASE_ROW_HEIGHT = 13  # px per pitch at zoom 1
MIN_ZOOM, MAX_ZOOM = 0.125, 8.0

VOICE_COLOURS = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")
_BLACK_KEYS = {1, 3, 6, 8, 10}
_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Snap choices: label -> length in quarter-note beats (0 means off: one tick)
SNAP_CHOICES: dict[str, float] = {
    "1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/32": 0.125, "1/8 triplet": 1 / 3, "1/16 triplet": 1 / 6, "Off": 0.0,
}


def voice_colour(voice: int) -> QColor:
    """The colour of a voice (cycling through a palette that tells 8 voices apart)."""
    return QColor(VOICE_COLOURS[voice % len(VOICE_COLOURS)])


def pitch_name(pitch: int) -> str:
    """``60`` -> ``"C4"``."""
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def bar_lines(piece: Piece, end_tick: int) -> list[tuple[int, bool, int]]:
    """Bar and beat lines up to ``end_tick``, following the piece's time signatures.

    Returns:
        (tick, is_bar_line, bar_number starting at 1) for each line.
    """
    lines = []
    signatures = list(piece.time_signatures)
    bar_number = 1
    for index, signature in enumerate(signatures):
        segment_end = signatures[index + 1].tick if index + 1 < len(signatures) else end_tick
        bar = signature.ticks_per_bar(piece.ticks_per_beat)
        beat = max(1, piece.ticks_per_beat * 4 // signature.denominator)
        tick = signature.tick
        while tick < segment_end:
            lines.append((tick, True, bar_number))
            beat_tick = tick + beat
            while beat_tick < min(tick + bar, segment_end):
                lines.append((beat_tick, False, bar_number))
                beat_tick += beat
            tick += bar
            bar_number += 1
    return lines


class Tool(Enum):
    DRAW = "Draw"
    SELECT = "Select"


@dataclass
class _Gesture:
    """A mouse gesture in progress: what it does, where it started, and the notes it drags."""

    kind: str                  # "move", "resize", "draw", "band"
    origin_tick: int
    origin_pitch: int
    origin: QPoint
    notes: tuple[Note, ...] = ()
    tick_delta: int = 0
    pitch_delta: int = 0
    current: QPoint | None = None


class RollCanvas(QWidget):
    """The painted, editable grid (see the module docstring for the mouse actions).

    Signals:
        selectionChanged(int): number of selected notes.
        hoverChanged(str): a description of what is under the mouse, for the status bar.
        playStartChanged(int): the tick playback starts from (click on the ruler).
    """

    selectionChanged = Signal(int)
    hoverChanged = Signal(str)
    playStartChanged = Signal(int)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.preview: Piece | None = None   # a read-only piece shown instead of the document's
        self.preview_new_from = 0           # the tick where the preview's new music starts
        self.zoom_x = 1.0
        self.zoom_y = 1.0
        self.snap_beats = SNAP_CHOICES["1/16"]
        self.tool = Tool.DRAW
        self.current_voice = 0
        self.playhead: int | None = None
        self.play_start = 0
        self.selection: set[Note] = set()
        self.clipboard: tuple[Note, ...] = ()
        self._gesture: _Gesture | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setToolTip("Click to draw a note, drag a note to move it, drag its right edge to resize,\n"
                        "right-click to delete, shift+drag to select, ctrl+wheel to zoom")
        document.pieceChanged.connect(self._piece_changed)
        self._resize_to_content()

    # -- what is shown -----------------------------------------------------------------------------
    @property
    def piece(self) -> Piece:
        return self.preview if self.preview is not None else self.document.piece

    @property
    def read_only(self) -> bool:
        return self.preview is not None

    def set_preview(self, piece: Piece | None, new_from: int = 0) -> None:
        """Show ``piece`` read-only instead of the document (None: back to the document).

        Args:
            piece: the piece to show.
            new_from: where its new music starts (the part before, a primer, is shaded).
        """
        self.preview = piece
        self.preview_new_from = new_from if piece is not None else 0
        self.selection.clear()
        self.selectionChanged.emit(0)
        self._resize_to_content()
        self.update()

    def _piece_changed(self, piece: Piece) -> None:
        self.selection &= set(piece.notes)
        self.selectionChanged.emit(len(self.selection))
        self._resize_to_content()
        self.update()

    # -- geometry ----------------------------------------------------------------------------------
    @property
    def pixels_per_tick(self) -> float:
        return BASE_BEAT_WIDTH * self.zoom_x / self.piece.ticks_per_beat

    @property
    def row_height(self) -> float:
        return BASE_ROW_HEIGHT * self.zoom_y

    def tick_to_x(self, tick: float) -> float:
        return KEY_WIDTH + tick * self.pixels_per_tick

    def x_to_tick(self, x: float) -> int:
        return max(0, int((x - KEY_WIDTH) / self.pixels_per_tick))

    def pitch_to_y(self, pitch: int) -> float:
        """Top of the pitch's row."""
        return RULER_HEIGHT + (127 - pitch) * self.row_height

    def y_to_pitch(self, y: float) -> int:
        return max(0, min(127, 127 - int((y - RULER_HEIGHT) // self.row_height)))

    def note_rect(self, note: Note) -> QRectF:
        x0, x1 = self.tick_to_x(note.start), self.tick_to_x(note.end)
        return QRectF(x0, self.pitch_to_y(note.pitch), max(3.0, x1 - x0), self.row_height)

    def point_at(self, tick: float, pitch: int) -> QPoint:
        """The widget point in the middle of ``pitch``'s row at ``tick`` (tests and keyboard use it)."""
        return QPoint(round(self.tick_to_x(tick)), round(self.pitch_to_y(pitch) + self.row_height / 2))

    @property
    def snap_ticks(self) -> int:
        return max(1, round(self.snap_beats * self.piece.ticks_per_beat)) if self.snap_beats else 1

    def snap(self, tick: int) -> int:
        step = self.snap_ticks
        return (tick // step) * step

    def content_end(self) -> int:
        """Ticks the canvas spans: the piece plus room to draw (at least 16 bars)."""
        bar = self.piece.ticks_per_bar
        return max(self.piece.end + 4 * bar, 16 * bar)

    def _resize_to_content(self) -> None:
        width = round(self.tick_to_x(self.content_end())) + 1
        height = round(self.pitch_to_y(-1)) + 1
        self.setFixedSize(QSize(width, height))

    def set_zoom(self, zoom_x: float | None = None, zoom_y: float | None = None) -> None:
        if zoom_x is not None:
            self.zoom_x = min(MAX_ZOOM, max(MIN_ZOOM, zoom_x))
        if zoom_y is not None:
            self.zoom_y = min(4.0, max(0.5, zoom_y))
        self._resize_to_content()
        self.update()

    def set_play_start(self, tick: int) -> None:
        """Where playback starts (a click on the ruler sets it)."""
        self.play_start = max(0, tick)
        self.playStartChanged.emit(self.play_start)
        self.update()

    def set_playhead(self, tick: int | None) -> None:
        self.playhead = tick
        self.update()

    # -- hit testing -------------------------------------------------------------------------------
    def note_at(self, point: QPoint | QPointF) -> Note | None:
        """The topmost note under ``point`` (the latest starting one when notes overlap)."""
        for note in reversed(self.piece.notes):
            if self.note_rect(note).contains(QPointF(point)):
                return note
        return None

    def _near_right_edge(self, note: Note, point: QPoint) -> bool:
        rect = self.note_rect(note)
        return rect.right() - point.x() <= EDGE_GRAB and rect.width() > EDGE_GRAB

    # -- mouse -------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        point = event.position().toPoint()
        offset = self._scroll_offset()
        if point.x() < KEY_WIDTH + offset.x():
            return
        if point.y() < RULER_HEIGHT + offset.y():
            self.set_play_start(self.snap(self.x_to_tick(point.x())))
            return
        if self.read_only:
            return
        note = self.note_at(point)
        tick, pitch = self.x_to_tick(point.x()), self.y_to_pitch(point.y())
        if event.button() == Qt.RightButton:
            if note is not None:
                self.delete_notes([note])
            return
        if event.button() != Qt.LeftButton:
            return
        if note is not None:
            if event.modifiers() & Qt.ControlModifier:
                self.selection ^= {note}
            elif note not in self.selection:
                self.selection = {note}
            self.selectionChanged.emit(len(self.selection))
            kind = "resize" if self._near_right_edge(note, point) else "move"
            self._gesture = _Gesture(kind, tick, pitch, point, tuple(sorted(self.selection or {note})))
        elif self.tool is Tool.SELECT or event.modifiers() & Qt.ShiftModifier:
            self._gesture = _Gesture("band", tick, pitch, point, current=point)
        else:
            start = self.snap(tick)
            length = self.snap_ticks if self.snap_beats else max(1, self.piece.ticks_per_beat // 4)
            new = Note(start, start + length, pitch, voice=self.current_voice)
            self._gesture = _Gesture("draw", start, pitch, point, (new,))
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        gesture = self._gesture
        if gesture is None:
            self._report_hover(point)
            return
        tick, pitch = self.x_to_tick(point.x()), self.y_to_pitch(point.y())
        raw_delta = tick - gesture.origin_tick
        step = self.snap_ticks
        snapped_delta = round(raw_delta / step) * step
        if gesture.kind == "move":
            earliest = min(n.start for n in gesture.notes)
            gesture.tick_delta = max(-earliest, snapped_delta)
            low = min(n.pitch for n in gesture.notes)
            high = max(n.pitch for n in gesture.notes)
            gesture.pitch_delta = max(-low, min(127 - high, pitch - gesture.origin_pitch))
        elif gesture.kind == "draw":
            note = gesture.notes[0]
            end = -(-max(tick, note.start + 1) // step) * step        # the grid line at or after the mouse
            gesture.tick_delta = max(step, end - note.start) - note.duration
        elif gesture.kind == "resize":
            shortest = min(n.duration for n in gesture.notes)
            gesture.tick_delta = max(1 - shortest, snapped_delta)
        elif gesture.kind == "band":
            gesture.current = point
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        gesture, self._gesture = self._gesture, None
        if gesture is None or event.button() != Qt.LeftButton:
            return
        if gesture.kind == "band":
            band = QRectF(QPointF(gesture.origin), QPointF(gesture.current or gesture.origin)).normalized()
            self.selection = {n for n in self.piece.notes if self.note_rect(n).intersects(band)}
            self.selectionChanged.emit(len(self.selection))
        elif gesture.kind == "draw":
            new = self._dragged(gesture)
            self.document.apply(with_notes_added(self.piece, new), "Draw note")
            self.selection = set(new) & set(self.document.piece.notes)
            self.selectionChanged.emit(len(self.selection))
        elif gesture.tick_delta or gesture.pitch_delta:
            new = self._dragged(gesture)
            label = "Move notes" if gesture.kind == "move" else "Resize notes"
            if len(new) == 1:
                label = label[:-1]
            self.document.apply(with_notes_replaced(self.piece, gesture.notes, new), label)
            self.selection = set(new) & set(self.document.piece.notes)
            self.selectionChanged.emit(len(self.selection))
        self.update()

    def _dragged(self, gesture: _Gesture) -> tuple[Note, ...]:
        """The notes of a gesture as they would be if the mouse were released now."""
        if gesture.kind == "move":
            return tuple(dataclasses.replace(n, start=n.start + gesture.tick_delta, end=n.end + gesture.tick_delta,
                                             pitch=n.pitch + gesture.pitch_delta) for n in gesture.notes)
        return tuple(dataclasses.replace(n, end=n.end + gesture.tick_delta) for n in gesture.notes)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not event.modifiers() & Qt.ControlModifier:
            event.ignore()  # the scroll area scrolls
            return
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        if event.modifiers() & Qt.ShiftModifier:
            self.set_zoom(zoom_y=self.zoom_y * factor)
        else:
            self.set_zoom(zoom_x=self.zoom_x * factor)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, shift = event.key(), bool(event.modifiers() & Qt.ShiftModifier)
        if key in (Qt.Key_Delete, Qt.Key_Backspace) and self.selection and not self.read_only:
            self.delete_notes(sorted(self.selection))
        elif key == Qt.Key_A and event.modifiers() & Qt.ControlModifier:
            self.select_all()
        elif key in (Qt.Key_Up, Qt.Key_Down) and self.selection and not self.read_only:
            self.shift_selection(0, (12 if shift else 1) * (1 if key == Qt.Key_Up else -1))
        elif key in (Qt.Key_Left, Qt.Key_Right) and self.selection and not self.read_only:
            step = self.piece.ticks_per_bar if shift else self.snap_ticks
            self.shift_selection(step * (1 if key == Qt.Key_Right else -1), 0)
        else:
            super().keyPressEvent(event)

    def _report_hover(self, point: QPoint) -> None:
        note = self.note_at(point)
        if note is not None:
            beats = note.duration / self.piece.ticks_per_beat
            text = f"{pitch_name(note.pitch)}, voice {note.voice + 1}, {beats:g} beats, velocity {note.velocity}"
        else:
            bar = self.piece.ticks_per_bar
            tick = self.x_to_tick(point.x())
            text = f"bar {tick // bar + 1}, {pitch_name(self.y_to_pitch(point.y()))}"
        self.hoverChanged.emit(text)

    # -- edits -------------------------------------------------------------------------------------
    def delete_notes(self, notes: list[Note]) -> None:
        """Remove ``notes`` as one undoable step."""
        if not notes or self.read_only:
            return
        self.document.apply(with_notes_removed(self.piece, notes), "Delete note" if len(notes) == 1 else "Delete notes")
        self.selection -= set(notes)
        self.selectionChanged.emit(len(self.selection))

    def shift_selection(self, ticks: int, semitones: int) -> bool:
        """Move the selected notes by ``ticks`` and ``semitones`` as one undoable step (arrow keys).

        Returns:
            False when the move would leave the grid (before tick 0, outside MIDI pitches): nothing changes.
        """
        notes = sorted(self.selection)
        if not notes or self.read_only:
            return False
        if min(n.start for n in notes) + ticks < 0 or not (0 <= min(n.pitch for n in notes) + semitones
                                                            and max(n.pitch for n in notes) + semitones <= 127):
            return False
        moved = [dataclasses.replace(n, start=n.start + ticks, end=n.end + ticks, pitch=n.pitch + semitones)
                 for n in notes]
        label = "Transpose" if semitones else "Move"
        self.document.apply(with_notes_replaced(self.piece, notes, moved), f"{label} notes")
        self.selection = set(moved) & set(self.document.piece.notes)
        self.selectionChanged.emit(len(self.selection))
        self.update()
        return True

    def copy_selection(self) -> tuple[Note, ...]:
        """The selected notes, moved to start at tick 0 (kept for :meth:`paste`)."""
        if not self.selection:
            return ()
        origin = min(n.start for n in self.selection)
        self.clipboard = tuple(dataclasses.replace(n, start=n.start - origin, end=n.end - origin)
                               for n in sorted(self.selection))
        return self.clipboard

    def cut_selection(self) -> None:
        if self.copy_selection() and not self.read_only:
            self.delete_notes(sorted(self.selection))

    def paste(self, at_tick: int | None = None) -> bool:
        """Paste the copied notes at ``at_tick`` (default: the playback start marker) as one step."""
        if not self.clipboard or self.read_only:
            return False
        at = self.play_start if at_tick is None else at_tick
        pasted = [dataclasses.replace(n, start=n.start + at, end=n.end + at) for n in self.clipboard]
        self.document.apply(with_notes_added(self.piece, pasted), "Paste notes")
        self.selection = set(pasted) & set(self.document.piece.notes)
        self.selectionChanged.emit(len(self.selection))
        self.update()
        return True

    def select_all(self) -> None:
        self.selection = set(self.piece.notes)
        self.selectionChanged.emit(len(self.selection))
        self.update()

    def selected_region(self) -> tuple[int, int, list[int]] | None:
        """(start tick, end tick, voices) spanned by the selected notes, or None without a selection."""
        if not self.selection:
            return None
        return (min(n.start for n in self.selection), max(n.end for n in self.selection),
                sorted({n.voice for n in self.selection}))

    # -- painting ----------------------------------------------------------------------------------
    def _scroll_offset(self) -> QPoint:
        """Top-left of the visible part, where the keys and the ruler are pinned."""
        visible = self.visibleRegion().boundingRect()
        return visible.topLeft() if not visible.isEmpty() else QPoint(0, 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing, False)
        visible = self.visibleRegion().boundingRect()
        if visible.isEmpty():
            visible = self.rect()
        self._paint_rows(painter, visible)
        self._paint_primer(painter, visible)
        self._paint_grid(painter, visible)
        self._paint_notes(painter, visible)
        self._paint_gesture(painter)
        self._paint_playhead(painter, visible)
        self._paint_empty_hint(painter, visible)
        self._paint_ruler(painter, visible)
        self._paint_keys(painter, visible)
        painter.setPen(QColor("#555"))
        painter.fillRect(QRect(visible.left(), visible.top(), KEY_WIDTH, RULER_HEIGHT), QColor("#2b2b2b"))
        painter.end()

    def _visible_pitches(self, visible: QRect) -> range:
        high = self.y_to_pitch(visible.top())
        low = self.y_to_pitch(visible.bottom())
        return range(low, high + 1)

    def _paint_rows(self, painter: QPainter, visible: QRect) -> None:
        painter.fillRect(visible, QColor("#1e1f22"))
        for pitch in self._visible_pitches(visible):
            colour = QColor("#26282c") if pitch % 12 in _BLACK_KEYS else QColor("#2e3035")
            y = self.pitch_to_y(pitch)
            painter.fillRect(QRectF(visible.left(), y, visible.width(), self.row_height), colour)
            if pitch % 12 == 0:
                painter.setPen(QColor("#44474d"))
                painter.drawLine(QPointF(visible.left(), y + self.row_height), QPointF(visible.right(), y + self.row_height))

    def _paint_empty_hint(self, painter: QPainter, visible: QRect) -> None:
        """What to do with an empty piece, in the middle of the view."""
        if self.piece.notes or self._gesture is not None:
            return
        area = QRectF(visible.left() + KEY_WIDTH, visible.top() + RULER_HEIGHT, visible.width() - KEY_WIDTH,
                      visible.height() - RULER_HEIGHT)
        painter.setPen(QColor("#8a9099"))
        font = QFont(painter.font())
        font.setPointSizeF(11)
        painter.setFont(font)
        painter.drawText(area, Qt.AlignCenter, "Click to draw notes, open a MIDI file (Ctrl+O) or drop one here,\n"
                                               "or write melodies with Generate (Ctrl+G)")

    def _paint_primer(self, painter: QPainter, visible: QRect) -> None:
        """Shade the primer of a previewed continuation and mark where the new music starts."""
        if not self.read_only or self.preview_new_from <= 0:
            return
        x = self.tick_to_x(self.preview_new_from)
        painter.fillRect(QRectF(KEY_WIDTH, visible.top(), x - KEY_WIDTH, visible.height()), QColor(0, 0, 0, 70))
        painter.setPen(QPen(QColor("#8fd18f"), 2, Qt.DashLine))
        painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def _paint_grid(self, painter: QPainter, visible: QRect) -> None:
        first, last = self.x_to_tick(visible.left()), self.x_to_tick(visible.right()) + 1
        beat_pixels = self.pixels_per_tick * self.piece.ticks_per_beat
        for tick, is_bar, _ in bar_lines(self.piece, self.content_end()):
            if tick < first - self.piece.ticks_per_bar or tick > last:
                continue
            if not is_bar and beat_pixels < 12:
                continue
            painter.setPen(QPen(QColor("#5c6068") if is_bar else QColor("#3a3d43"), 1))
            x = self.tick_to_x(tick)
            painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def _paint_notes(self, painter: QPainter, visible: QRect) -> None:
        hidden = set(self._gesture.notes) if self._gesture and self._gesture.kind in ("move", "resize") else set()
        region = QRectF(visible)
        for note in self.piece.notes:
            rect = self.note_rect(note)
            if not rect.intersects(region):
                continue
            primer = self.read_only and note.start < self.preview_new_from
            self._paint_note(painter, note, rect, selected=note in self.selection, ghost=note in hidden or primer)

    def _paint_note(self, painter: QPainter, note: Note, rect: QRectF, selected: bool, ghost: bool = False) -> None:
        colour = voice_colour(note.voice)
        fill = QColor(colour)
        if ghost:
            fill.setAlpha(90)
        elif selected:
            fill = colour.lighter(150)
        painter.setPen(QPen(QColor("#ffffff") if selected else colour.darker(160), 1.5 if selected else 1))
        painter.setBrush(fill)
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))

    def _paint_gesture(self, painter: QPainter) -> None:
        gesture = self._gesture
        if gesture is None:
            return
        if gesture.kind == "band" and gesture.current is not None:
            painter.setPen(QPen(QColor("#9ecbff"), 1, Qt.DashLine))
            painter.setBrush(QColor(120, 170, 255, 40))
            painter.drawRect(QRect(gesture.origin, gesture.current).normalized())
            return
        for note in self._dragged(gesture):
            self._paint_note(painter, note, self.note_rect(note), selected=True)

    def _paint_playhead(self, painter: QPainter, visible: QRect) -> None:
        if self.playhead is None:
            return
        x = self.tick_to_x(self.playhead)
        painter.setPen(QPen(QColor("#ffd54f"), 2))
        painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def _paint_ruler(self, painter: QPainter, visible: QRect) -> None:
        ruler = QRect(visible.left(), visible.top(), visible.width(), RULER_HEIGHT)
        painter.fillRect(ruler, QColor("#2b2b2b"))
        font = QFont(painter.font())
        font.setPointSizeF(8)
        painter.setFont(font)
        bar_pixels = self.pixels_per_tick * self.piece.ticks_per_bar
        every = 1 if bar_pixels >= 28 else (2 if bar_pixels >= 14 else 4)
        for tick, is_bar, number in bar_lines(self.piece, self.content_end()):
            x = self.tick_to_x(tick)
            if x < visible.left() - 40 or x > visible.right():
                continue
            painter.setPen(QColor("#9aa0a6"))
            if is_bar:
                painter.drawLine(QPointF(x, ruler.top() + 8), QPointF(x, ruler.bottom()))
                if (number - 1) % every == 0:
                    painter.drawText(QPointF(x + 3, ruler.top() + 14), str(number))
            else:
                painter.drawLine(QPointF(x, ruler.bottom() - 4), QPointF(x, ruler.bottom()))
        if self.playhead is not None:
            x = self.tick_to_x(self.playhead)
            painter.setPen(QPen(QColor("#ffd54f"), 2))
            painter.drawLine(QPointF(x, ruler.top()), QPointF(x, ruler.bottom()))
        x = self.tick_to_x(self.play_start)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor("#ffd54f"))
        painter.drawPolygon([QPointF(x - 5, ruler.bottom() - 7), QPointF(x + 5, ruler.bottom() - 7),
                             QPointF(x, ruler.bottom())])

    def _paint_keys(self, painter: QPainter, visible: QRect) -> None:
        left = visible.left()
        font = QFont(painter.font())
        font.setPointSizeF(7)
        painter.setFont(font)
        for pitch in self._visible_pitches(visible):
            y = self.pitch_to_y(pitch)
            black = pitch % 12 in _BLACK_KEYS
            rect = QRectF(left, y, KEY_WIDTH if not black else KEY_WIDTH * 0.62, self.row_height)
            if not black:
                painter.fillRect(QRectF(left, y, KEY_WIDTH, self.row_height), QColor("#e8e8e8"))
                painter.setPen(QColor("#9a9a9a"))
                painter.drawLine(QPointF(left, y + self.row_height), QPointF(left + KEY_WIDTH, y + self.row_height))
            else:
                painter.fillRect(QRectF(left, y, KEY_WIDTH, self.row_height), QColor("#e8e8e8"))
                painter.fillRect(rect, QColor("#1a1a1a"))
            if pitch % 12 == 0 and self.row_height >= 8:
                painter.setPen(QColor("#333"))
                painter.drawText(QRectF(left, y, KEY_WIDTH - 3, self.row_height), Qt.AlignRight | Qt.AlignVCenter,
                                 pitch_name(pitch))
        painter.setPen(QColor("#555"))
        painter.drawLine(QPointF(left + KEY_WIDTH, visible.top()), QPointF(left + KEY_WIDTH, visible.bottom()))


class PianoRoll(QScrollArea):
    """The scrollable piano roll. ``canvas`` does the work; this adds scrolling and pinned margins."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = RollCanvas(document, self)
        self.setWidget(self.canvas)
        self.setWidgetResizable(False)
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        # The keys and ruler are pinned to the visible edge, so a scroll must repaint, not shift pixels.
        self.horizontalScrollBar().valueChanged.connect(self.canvas.update)
        self.verticalScrollBar().valueChanged.connect(self.canvas.update)

    def show_pitch_range(self, piece: Piece) -> None:
        """Scroll so the piece's notes (or middle C) are in view, starting at bar 1."""
        pitches = [n.pitch for n in piece.notes] or [60]
        middle = (min(pitches) + max(pitches)) // 2
        y = self.canvas.pitch_to_y(middle) - self.viewport().height() / 2
        self.verticalScrollBar().setValue(max(0, round(y)))
        self.horizontalScrollBar().setValue(0)

    def follow(self, tick: int) -> None:
        """Keep the playhead at ``tick`` in view while playing."""
        x = round(self.canvas.tick_to_x(tick))
        bar = self.horizontalScrollBar()
        width = self.viewport().width()
        if not bar.value() + KEY_WIDTH <= x <= bar.value() + width - 20:
            bar.setValue(max(0, x - KEY_WIDTH - width // 8))

    def fit_width(self, end_tick: int) -> None:
        """Zoom time so that ticks 0..``end_tick`` fill the visible width (within the zoom limits)."""
        width = self.viewport().width() - KEY_WIDTH - 16
        if end_tick <= 0 or width <= 50:
            return
        canvas = self.canvas
        beats = end_tick / canvas.piece.ticks_per_beat
        canvas.set_zoom(zoom_x=width / (beats * BASE_BEAT_WIDTH))
        self.horizontalScrollBar().setValue(0)

    def zoom_in(self) -> None:
        self.canvas.set_zoom(zoom_x=self.canvas.zoom_x * 1.25)

    def zoom_out(self) -> None:
        self.canvas.set_zoom(zoom_x=self.canvas.zoom_x * 0.8)
