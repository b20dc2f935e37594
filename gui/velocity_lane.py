"""The velocity lane under the piano roll: one bar per note at its onset, as tall as its velocity.

Click or drag a bar up and down to set a note's velocity; drag across several bars to draw a ramp (a line
from where the button went down to where it is let go: each note's velocity is read off the line at its
onset). While a selection exists, only selected notes are edited. Each edit is one undoable step of the
document. The lane shares the roll's horizontal scroll and zoom (it maps ticks through the canvas); ctrl+wheel
over it zooms time like the roll. It paints in the canvas's colours (the theme's, :class:`gui.theme.RollColours`);
the bars keep their voices' colours.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from composer.music.notes import Note
from gui.commands import with_velocities
from gui.roll_grid import KEY_WIDTH, bar_lines, voice_colour
from gui.theme import RollColours

LANE_HEIGHT = 84      # px, the lane's height under the roll
TOP_MARGIN = 6        # px above a velocity-127 bar
BOTTOM_MARGIN = 4     # px under a velocity-1 bar
GRAB = 4              # px either side of an onset that picks its bar
BAR_WIDTH = 5         # px, a bar's width


class VelocityLane(QWidget):
    """Velocity bars of what a :class:`~gui.piano_roll.RollCanvas` shows, editable with the mouse.

    Args:
        canvas: the piano roll's canvas: its piece, selection, zoom and document.
        scroll_x: the roll's horizontal scroll position in pixels (a callable, read when painting).
        parent: Qt parent.

    Signals:
        hoverChanged(str): what is under the mouse, for the status bar.
    """

    hoverChanged = Signal(str)

    def __init__(self, canvas, scroll_x, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self._scroll_x = scroll_x
        self.origin: QPoint | None = None          # where the button went down
        self.pending: dict[Note, int] = {}         # the edit in progress: note -> velocity
        self.setFixedHeight(LANE_HEIGHT)
        self.setMouseTracking(True)
        self.setToolTip("Velocity: click or drag a bar to set a note's velocity,\n"
                        "drag across bars to draw a ramp (only the selected notes when some are selected)")
        canvas.document.pieceChanged.connect(lambda _piece: self.update())
        canvas.selectionChanged.connect(lambda _count: self.update())

    # -- geometry -----------------------------------------------------------------------------------
    def tick_to_x(self, tick: float) -> float:
        """The lane's x for ``tick`` (the canvas's, less the roll's scroll)."""
        return self.canvas.tick_to_x(tick) - self._scroll_x()

    def velocity_to_y(self, velocity: float) -> float:
        """The top of a bar of ``velocity``."""
        span = self.height() - TOP_MARGIN - BOTTOM_MARGIN
        return self.height() - BOTTOM_MARGIN - span * velocity / 127

    def y_to_velocity(self, y: float) -> int:
        span = self.height() - TOP_MARGIN - BOTTOM_MARGIN
        return min(127, max(1, round((self.height() - BOTTOM_MARGIN - y) * 127 / span)))

    def point_for(self, note: Note, velocity: int) -> QPoint:
        """The point on ``note``'s bar at the height of ``velocity`` (tests use it)."""
        return QPoint(round(self.tick_to_x(note.start) + 1), round(self.velocity_to_y(velocity)))

    def bar_rect(self, note: Note, velocity: int | None = None) -> QRectF:
        x, top = self.tick_to_x(note.start), self.velocity_to_y(note.velocity if velocity is None else velocity)
        return QRectF(x, top, BAR_WIDTH, self.height() - BOTTOM_MARGIN - top)

    # -- what an edit touches ------------------------------------------------------------------------
    def _editable(self, notes: list[Note]) -> list[Note]:
        """``notes``, or only the selected among them when any of them is selected."""
        selected = [n for n in notes if n in self.canvas.selection]
        return selected or notes

    def notes_between(self, x0: float, x1: float) -> list[Note]:
        """The notes whose onset lies between lane x ``x0`` and ``x1`` (widened by a grab margin)."""
        low, high = min(x0, x1) - GRAB, max(x0, x1) + GRAB
        return self._editable([n for n in self.canvas.shown_notes() if low <= self.tick_to_x(n.start) + 1 <= high])

    def ramp(self, start: QPoint, end: QPoint) -> dict[Note, int]:
        """The velocities a drag from ``start`` to ``end`` sets: a line through both, read at each onset; a
        drag that stays on one onset sets its notes to the height of ``end``."""
        v0, v1 = self.y_to_velocity(start.y()), self.y_to_velocity(end.y())
        notes = self.notes_between(start.x(), end.x())
        if abs(end.x() - start.x()) <= GRAB:
            return {n: v1 for n in notes}
        result = {}
        for note in notes:
            share = (self.tick_to_x(note.start) + 1 - start.x()) / (end.x() - start.x())
            result[note] = min(127, max(1, round(v0 + (v1 - v0) * min(1.0, max(0.0, share)))))
        return result

    # -- mouse ------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if event.button() != Qt.LeftButton or self.canvas.read_only or point.x() < KEY_WIDTH:
            return
        self.origin = point
        self.pending = self.ramp(point, point)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if self.origin is None:
            self._report_hover(point)
            return
        self.pending = self.ramp(self.origin, point)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.origin is None or event.button() != Qt.LeftButton:
            return
        origin, self.origin = self.origin, None
        point = event.position().toPoint()
        velocities, self.pending = self.ramp(origin, point), {}
        ramp = abs(point.x() - origin.x()) > GRAB and len(velocities) > 1
        label = "Draw velocity ramp" if ramp else ("Set velocity" if len(velocities) == 1 else "Set velocities")
        selected = set(self.canvas.selection)   # a copy: the canvas trims its own set when the piece changes
        self.canvas.document.apply(with_velocities(self.canvas.piece, velocities), label)
        kept = {dataclasses.replace(n, velocity=min(127, max(1, velocities.get(n, n.velocity)))) for n in selected}
        self.canvas.select(kept & set(self.canvas.piece.notes))   # the edited notes stay selected
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl+wheel zooms time, as over the roll."""
        if event.modifiers() & Qt.ControlModifier:
            self.canvas.wheelEvent(event)
        else:
            event.ignore()

    def _report_hover(self, point: QPoint) -> None:
        notes = self.notes_between(point.x(), point.x())
        text = f"velocity {notes[0].velocity}" if notes else f"velocity {self.y_to_velocity(point.y())}"
        self.hoverChanged.emit(text)

    # -- painting -----------------------------------------------------------------------------------
    @property
    def colours(self) -> RollColours:
        """The theme's colours: the canvas's (:mod:`gui.theme` sets them)."""
        return self.canvas.colours

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        colours = self.colours
        painter.fillRect(self.rect(), QColor(colours.lane_background))
        self._paint_grid(painter)
        self._paint_bars(painter)
        painter.fillRect(QRectF(0, 0, KEY_WIDTH, self.height()), QColor(colours.ruler))
        painter.setPen(QColor(colours.ruler_text))
        painter.drawText(QRectF(4, 0, KEY_WIDTH - 8, self.height()), Qt.AlignLeft | Qt.AlignVCenter, "Velocity")
        painter.setPen(QColor(colours.key_edge))
        painter.drawLine(QPointF(0, 0), QPointF(self.width(), 0))
        painter.end()

    def _paint_grid(self, painter: QPainter) -> None:
        piece = self.canvas.piece
        painter.setPen(QPen(QColor(self.colours.beat_line), 1))
        for tick, is_bar, _ in bar_lines(piece, self.canvas.content_end()):
            x = self.tick_to_x(tick)
            if is_bar and KEY_WIDTH <= x <= self.width():
                painter.drawLine(QPointF(x, TOP_MARGIN), QPointF(x, self.height()))
        painter.setPen(QPen(QColor(self.colours.lane_grid), 1, Qt.DashLine))
        for velocity in (32, 64, 96):
            y = self.velocity_to_y(velocity)
            painter.drawLine(QPointF(KEY_WIDTH, y), QPointF(self.width(), y))

    def _paint_bars(self, painter: QPainter) -> None:
        """One bar per note; at a shared onset (a chord, 4 parts) the taller bars go behind the shorter ones,
        so every height shows."""
        selection, edge = self.canvas.selection, QColor(self.colours.selected_edge)
        for note in sorted(self.canvas.shown_notes(), key=lambda n: -self.pending.get(n, n.velocity)):
            x = self.tick_to_x(note.start)
            if x < KEY_WIDTH - BAR_WIDTH or x > self.width():
                continue
            rect = self.bar_rect(note, self.pending.get(note))
            colour = voice_colour(note.voice)
            selected = note in selection or note in self.pending
            painter.setPen(QPen(edge if selected else colour.darker(160), 1))
            painter.setBrush(colour.lighter(150) if selected else colour)
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.drawLine(QPointF(x, rect.top()), QPointF(x + BAR_WIDTH * 2, rect.top()))
