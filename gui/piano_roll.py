"""The piano roll: a view of the document's piece where notes are drawn, moved, resized and deleted.

:class:`PianoRoll` is a scroll area around a :class:`RollCanvas`. The canvas paints pitch rows (with
piano keys on the left and a bar ruler on top, both pinned while scrolling), bar and beat lines, the
notes coloured by voice, a rubber band and the playhead. Every mouse edit becomes one undoable step of
the :class:`~gui.document.Document`; while a gesture is in progress only a preview is drawn. The painting
is :class:`~gui.roll_painter.RollPainter`, a mouse edit in progress a :class:`~gui.roll_gesture.Gesture`,
and the grid's sizes and helpers live in :mod:`gui.roll_grid`.

Mouse:
    click on the bar ruler     sets where playback starts
    drag on the bar ruler      sets the loop region (snapped to the grid); double-click the ruler clears it
    left click on empty grid   draws a note (drag to set its length), snapped to the grid
    shift+drag on empty grid   rubber-band selection (or any drag with the Select tool)
    drag a note                moves the selected notes (time and pitch)
    drag a note's right edge   resizes the selected notes
    right click on a note      deletes it; Delete removes the selection
A note clicked, drawn or dragged to another pitch is auditioned (``auditionRequested``; the window plays it through the current output).
The velocity lane (:class:`~gui.velocity_lane.VelocityLane`) sits under the grid, in the scroll area's bottom
margin, and the chord lane (:class:`~gui.chord_lane.ChordLane`) above it, in the top margin, both scrolled and
zoomed with it; rows of pitches outside the piece's key are shaded (none without a key).
Keys: arrows move the selection (up/down a semitone, shift: an octave; left/right a grid step, shift: a
bar); the window's Ctrl+C/X/V copy, cut and paste notes (pasted at the playback start marker).
    ctrl+wheel                 zooms time around the mouse (shift+ctrl+wheel zooms pitch)
:meth:`PianoRoll.zoom_to_fit` shows the whole piece (time and pitch).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QScrollArea, QWidget

from composer.music.keys import scale_mask
from composer.music.notes import Note, Piece
from gui.actions import make_action
from gui.chord_lane import CHORD_LANE_HEIGHT, ChordLane
from gui.commands import with_notes_added, with_notes_removed, with_notes_replaced
from gui.document import Document
from gui.roll_gesture import BAND, DRAW, MOVE, RESIZE, Gesture, band_covers
from gui.roll_grid import (BASE_BEAT_WIDTH, BASE_ROW_HEIGHT, EDGE_GRAB, KEY_WIDTH, MAX_ZOOM, MIN_ZOOM, RULER_HEIGHT,
                           SNAP_CHOICES, Tool, bar_lines, pitch_name, voice_colour)
from gui.roll_painter import RollPainter
from gui.roll_ruler import RulerLoop
from gui.theme import DARK_ROLL, RollColours
from gui.velocity_lane import LANE_HEIGHT, VelocityLane

__all__ = ["SNAP_CHOICES", "PianoRoll", "RollCanvas", "Tool", "bar_lines", "pitch_name", "voice_colour"]


class RollCanvas(QWidget):
    """The painted, editable grid (see the module docstring for the mouse actions).

    Signals:
        selectionChanged(int): number of selected notes.
        hoverChanged(str): a description of what is under the mouse, for the status bar.
        playStartChanged(int): the tick playback starts from (click on the ruler).
        auditionRequested(object): a tuple of notes to let the user hear (a note clicked or drawn).
        viewChanged(): the zoom, size or shown piece changed (the velocity lane repaints).
        loopRegionChanged(object): the loop region, (start, end) ticks, or None when cleared.
        playheadChanged(object): the playhead's tick, or None when hidden.
        zoomedAt(float, float): a ctrl+wheel zoom around (the tick under the mouse, its x in the view), so the
            scroll area keeps that tick under the mouse.
    """

    selectionChanged = Signal(int)
    hoverChanged = Signal(str)
    playStartChanged = Signal(int)
    auditionRequested = Signal(object)
    viewChanged = Signal()
    loopRegionChanged = Signal(object)
    zoomedAt = Signal(float, float)
    playheadChanged = Signal(object)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.preview: Piece | None = None   # a read-only piece shown instead of the document's
        self.preview_new_from = 0           # the tick where the preview's new music starts
        self.changed_region: tuple[int, int] | None = None   # ticks a previewed regeneration wrote again
        self.view_width = 0                 # the scroll area's visible width: the canvas is never narrower
        self.zoom_x = 1.0
        self.zoom_y = 1.0
        self.snap_beats = SNAP_CHOICES["1/16"]
        self.tool = Tool.DRAW
        self.current_voice = 0
        self.playhead: int | None = None
        self.play_start = 0
        self.loop = RulerLoop(document, self)   # the loop region on the ruler (gui.roll_ruler)
        self.loop.changed.connect(self.loopRegionChanged)
        self.selection: set[Note] = set()
        self.clipboard: tuple[Note, ...] = ()
        self.gesture: Gesture | None = None   # the mouse edit in progress
        self.hidden_voices: frozenset[int] = frozenset()   # voices neither painted nor hit (gui.voice_mix)
        self.colours: RollColours = DARK_ROLL   # the theme's (gui.theme sets them)
        self._painter = RollPainter(self)
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

    def set_preview(self, piece: Piece | None, new_from: int = 0, changed: tuple[int, int] | None = None) -> None:
        """Show ``piece`` read-only instead of the document (None: back to the document).

        Args:
            piece: the piece to show.
            new_from: where its new music starts (the part before, a primer, is shaded).
            changed: the (start, end) ticks a regeneration wrote again, marked with a band; None for none.
        """
        self.preview = piece
        self.preview_new_from = new_from if piece is not None else 0
        self.changed_region = changed if piece is not None else None
        self.selection.clear()
        self.selectionChanged.emit(0)
        self._resize_to_content()
        self.update()

    def scale_mask(self) -> list[bool] | None:
        """For each MIDI pitch, whether it is in the shown piece's key; None when the key is unknown."""
        key = self.piece.key
        if not key:
            return None
        try:
            return scale_mask(key)
        except ValueError:
            return None

    def shown_notes(self) -> tuple[Note, ...]:
        """The shown piece's notes outside the hidden voices: what is painted and can be clicked or selected."""
        hidden = self.hidden_voices
        return tuple(n for n in self.piece.notes if n.voice not in hidden) if hidden else self.piece.notes

    def set_hidden_voices(self, voices: frozenset[int]) -> None:
        """Hide the notes of ``voices`` (their notes stay in the piece; hidden ones leave the selection)."""
        self.hidden_voices = frozenset(voices)
        self._select({n for n in self.selection if n.voice not in self.hidden_voices})
        self.viewChanged.emit()
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
        """Ticks the canvas spans: the piece plus room to draw (at least 16 bars), and at least the view's width."""
        bar = self.piece.ticks_per_bar
        view = -(-max(0, self.view_width - KEY_WIDTH) // self.pixels_per_tick)
        return max(self.piece.end + 4 * bar, 16 * bar, int(view))

    def set_view_width(self, width: int) -> None:
        """The width the scroll area shows: the canvas grows to fill it (on a resize, see :class:`PianoRoll`)."""
        if width != self.view_width:
            self.view_width = width
            self._resize_to_content()

    def _resize_to_content(self) -> None:
        width = round(self.tick_to_x(self.content_end())) + 1
        height = round(self.pitch_to_y(-1)) + 1
        self.setFixedSize(QSize(width, height))
        self.viewChanged.emit()

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
        self.playheadChanged.emit(tick)
        self.update()

    # -- hit testing -------------------------------------------------------------------------------
    def note_at(self, point: QPoint | QPointF) -> Note | None:
        """The topmost note under ``point`` (the latest starting one when notes overlap)."""
        for note in reversed(self.shown_notes()):
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
            if event.button() == Qt.LeftButton:
                self.set_play_start(self.snap(self.x_to_tick(point.x())))
                self.loop.press(point.x(), self.play_start)
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
            kind = RESIZE if self._near_right_edge(note, point) else MOVE
            self.gesture = Gesture(kind, tick, pitch, point, tuple(sorted(self.selection or {note})))
            self.auditionRequested.emit((note,))
        elif self.tool is Tool.SELECT or event.modifiers() & Qt.ShiftModifier:
            self.gesture = Gesture(BAND, tick, pitch, point, current=point)
        else:
            start = self.snap(tick)
            length = self.snap_ticks if self.snap_beats else max(1, self.piece.ticks_per_beat // 4)
            new = Note(start, start + length, pitch, voice=self.current_voice)
            self.gesture = Gesture(DRAW, start, pitch, point, (new,))
            self.auditionRequested.emit((new,))
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if self.loop.dragging:
            return self.loop.drag_to(point.x(), self.x_to_tick(point.x()), self.snap_ticks)
        if self.gesture is None:
            self._report_hover(point)
            return
        pitch_delta = self.gesture.pitch_delta
        self.gesture.drag_to(self.x_to_tick(point.x()), self.y_to_pitch(point.y()), point, self.snap_ticks)
        if self.gesture.kind == MOVE and self.gesture.pitch_delta != pitch_delta:
            self.auditionRequested.emit(self.gesture.dragged())   # hear the notes at their new pitch
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.loop.release():
            return
        gesture, self.gesture = self.gesture, None
        if gesture is None or event.button() != Qt.LeftButton:
            return
        if gesture.kind == BAND:
            band = gesture.band()
            self._select({n for n in self.shown_notes() if band_covers(band, self.note_rect(n))})
        elif gesture.kind == DRAW:
            new = gesture.dragged()
            self._apply_and_select(with_notes_added(self.piece, new), "Draw note", new)
        elif gesture.changed():
            new = gesture.dragged()
            self._apply_and_select(with_notes_replaced(self.piece, gesture.notes, new), gesture.edit_label(), new)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.position().y() < RULER_HEIGHT + self._scroll_offset().y():
            return self.loop.set_region(None)   # double-click the ruler: no loop region
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        on_ruler = event.pos().y() < RULER_HEIGHT + self._scroll_offset().y()
        if not (on_ruler and self.loop.context_menu(event.globalPos())):   # Clear loop region
            super().contextMenuEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not event.modifiers() & Qt.ControlModifier:
            event.ignore()  # the scroll area scrolls
            return
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        if event.modifiers() & Qt.ShiftModifier:
            self.set_zoom(zoom_y=self.zoom_y * factor)
        else:
            x = self.mapFromGlobal(event.globalPosition()).x()   # the lanes pass theirs on: where the mouse is
            tick, view_x = max(0.0, (x - KEY_WIDTH) / self.pixels_per_tick), x - self._scroll_offset().x()
            self.set_zoom(zoom_x=self.zoom_x * factor)
            self.zoomedAt.emit(tick, view_x)
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
    def _select(self, notes: set[Note]) -> None:
        self.selection = notes
        self.selectionChanged.emit(len(self.selection))

    def select(self, notes: set[Note]) -> None:
        """Make ``notes`` (of the shown piece) the selection."""
        self._select(set(notes))

    def _apply_and_select(self, piece: Piece, label: str, notes) -> None:
        """Make ``piece`` the document's (one undoable step named ``label``) and select ``notes`` in it."""
        self.document.apply(piece, label)
        self._select(set(notes) & set(self.document.piece.notes))

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
        self._apply_and_select(with_notes_replaced(self.piece, notes, moved), f"{label} notes", moved)
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
        self._apply_and_select(with_notes_added(self.piece, pasted), "Paste notes", pasted)
        self.update()
        return True

    def select_all(self) -> None:
        self._select(set(self.shown_notes()))
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
        visible = self.visibleRegion().boundingRect()
        self._painter.paint(painter, visible if not visible.isEmpty() else self.rect())
        painter.end()


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
        self.velocity_lane = VelocityLane(self.canvas, self.horizontalScrollBar().value, self)
        self.chord_lane = ChordLane(self.canvas, self.horizontalScrollBar().value, self)
        # the velocity lane sits in the bottom margin, under the grid; the chord lane in the top one, above it
        self.setViewportMargins(0, CHORD_LANE_HEIGHT, 0, LANE_HEIGHT)
        self.horizontalScrollBar().valueChanged.connect(self.velocity_lane.update)
        self.horizontalScrollBar().valueChanged.connect(self.chord_lane.update)
        self.chord_lane.hoverChanged.connect(self.canvas.hoverChanged)
        self.canvas.viewChanged.connect(self.velocity_lane.update)
        self.canvas.zoomedAt.connect(self.keep_tick_at)
        # the View menu's zoom actions (the window adds them, for their shortcuts)
        self.zoom_in_action = make_action(self, "Zoom &in", self.zoom_in, ["Ctrl+=", "Ctrl++"],
                                          "Zoom in on time (Ctrl+=, or Ctrl+wheel)")
        self.zoom_out_action = make_action(self, "Zoom &out", self.zoom_out, "Ctrl+-",
                                           "Zoom out (Ctrl+-, or Ctrl+wheel)")
        self.zoom_fit_action = make_action(self, "Zoom to &fit", self.zoom_to_fit, ["Ctrl+0", "F"],
                                           "Show the whole piece (Ctrl+0 or F)")
        self.zoom_actions = [self.zoom_in_action, self.zoom_out_action, self.zoom_fit_action]
        self.velocity_lane.hoverChanged.connect(self.canvas.hoverChanged)   # to the status bar, like the grid's

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Resize:
            self.canvas.set_view_width(self.viewport().width())  # the grid always fills the view
            view = self.viewport().geometry()
            self.velocity_lane.setGeometry(QRect(view.left(), view.bottom() + 1, view.width(), LANE_HEIGHT))
            self.chord_lane.setGeometry(QRect(view.left(), view.top() - CHORD_LANE_HEIGHT, view.width(),
                                              CHORD_LANE_HEIGHT))
        return super().viewportEvent(event)

    def show_pitch_range(self, piece: Piece) -> None:
        """Scroll so the piece's notes (or middle C) are in view, starting at bar 1."""
        pitches = [n.pitch for n in piece.notes] or [60]
        middle = (min(pitches) + max(pitches)) // 2
        y = self.canvas.pitch_to_y(middle) - self.viewport().height() / 2
        self.verticalScrollBar().setValue(max(0, round(y)))
        self.horizontalScrollBar().setValue(0)

    def fit_piece(self, piece: Piece) -> None:
        """Bring ``piece``'s notes (or middle C) into view, fitted to the visible width when it has notes."""
        self.show_pitch_range(piece)
        if piece.notes:
            self.fit_width(piece.end)

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

    def reset_zoom(self) -> None:
        """Back to zoom 1 in time and pitch (a new piece), scrolled to bar 1."""
        self.canvas.set_zoom(zoom_x=1.0, zoom_y=1.0)
        self.horizontalScrollBar().setValue(0)

    def keep_tick_at(self, tick: float, view_x: float) -> None:
        """Scroll so that ``tick`` is at ``view_x`` in the view (after a zoom around the mouse)."""
        bar = self.horizontalScrollBar()
        value = round(self.canvas.tick_to_x(tick) - view_x)
        if value > bar.maximum():   # the canvas has just grown: let the bar know its new range
            bar.setRange(0, max(0, self.canvas.width() - self.viewport().width()))
        bar.setValue(max(0, value))

    def zoom_to_fit(self) -> None:
        """Show the whole piece: its length across the view, its pitch range (with a row to spare each side) down
        it, within the zoom limits; an empty piece goes back to zoom 1."""
        piece = self.canvas.piece
        if not piece.notes:
            self.reset_zoom()
            return
        low, high = min(n.pitch for n in piece.notes), max(n.pitch for n in piece.notes)
        rows = high - low + 3
        height = self.viewport().height() - RULER_HEIGHT - 4
        if height > 20:
            self.canvas.set_zoom(zoom_y=height / (rows * BASE_ROW_HEIGHT))
        self.fit_width(piece.end)
        canvas = self.canvas
        middle = (canvas.pitch_to_y(high + 1) + canvas.pitch_to_y(low - 1) + canvas.row_height) / 2
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, canvas.height() - self.viewport().height()))
        bar.setValue(max(0, round(middle - RULER_HEIGHT / 2 - self.viewport().height() / 2)))

    def zoom_in(self) -> None:
        """Zoom time in (Ctrl+=), keeping the time at the left edge of the view where it is."""
        self._zoom_keeping_left_edge(1.25)

    def zoom_out(self) -> None:
        """Zoom time out (Ctrl+-), keeping the time at the left edge of the view where it is."""
        self._zoom_keeping_left_edge(0.8)

    def _zoom_keeping_left_edge(self, factor: float) -> None:
        canvas = self.canvas
        tick = self.horizontalScrollBar().value() / canvas.pixels_per_tick
        canvas.set_zoom(zoom_x=canvas.zoom_x * factor)
        self.keep_tick_at(tick, KEY_WIDTH)
