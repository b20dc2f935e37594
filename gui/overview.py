"""The overview: a strip above the piano roll with a miniature of the whole piece and the visible window as a
rectangle. Click to bring that place into view; drag the rectangle to scroll.

The miniature shows the shown piece (the document, or a previewed result) without its hidden voices, each note a
line in its voice's colour, its pitch range filling the strip's height; the loop region and the playhead are
marked too. It follows the roll's scrolling, zoom and piece, and paints in the roll's colours (the theme's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.roll_grid import KEY_WIDTH, voice_colour

if TYPE_CHECKING:
    from gui.main_window import MainWindow
    from gui.piano_roll import PianoRoll

OVERVIEW_HEIGHT = 30
MARGIN = 4
WINDOW_FILL = QColor(128, 128, 128, 40)
LOOP = QColor(79, 195, 247, 60)


class Overview(QWidget):
    """The miniature of the piece with the visible window (see the module docstring).

    Args:
        roll: the piano roll it shows and scrolls.
    """

    def __init__(self, roll: PianoRoll, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roll = roll
        self.canvas = roll.canvas
        self._grab: float | None = None   # ticks between the window's start and the mouse, while dragging it
        self._cache: tuple[tuple, QPixmap] | None = None   # the miniature and what it was drawn for
        self.setFixedHeight(OVERVIEW_HEIGHT)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip("The whole piece: the rectangle is what the piano roll shows (click or drag to move it)")
        self.setCursor(Qt.PointingHandCursor)
        bar = roll.horizontalScrollBar()
        bar.valueChanged.connect(self.update)
        bar.rangeChanged.connect(self.update)
        self.canvas.viewChanged.connect(self.update)
        self.canvas.loopRegionChanged.connect(self.update)
        self.canvas.playheadChanged.connect(self.update)

    # -- geometry ----------------------------------------------------------------------------------
    def visible_ticks(self) -> tuple[float, float]:
        """The ticks the piano roll shows now (right of its keys)."""
        scroll = self.roll.horizontalScrollBar().value()
        per_tick = self.canvas.pixels_per_tick
        return scroll / per_tick, (scroll + self.roll.viewport().width() - KEY_WIDTH) / per_tick

    def span(self) -> float:
        """Ticks the strip spans: the piece to its last bar line, and at least what is in view."""
        piece = self.canvas.piece
        bar = piece.ticks_per_bar
        return max(float(-(-piece.end // bar) * bar), self.visible_ticks()[1], float(bar))

    def tick_to_x(self, tick: float) -> float:
        return MARGIN + tick / self.span() * (self.width() - 2 * MARGIN)

    def x_to_tick(self, x: float) -> float:
        return max(0.0, (x - MARGIN) / max(1.0, self.width() - 2 * MARGIN) * self.span())

    def window_rect(self) -> QRectF:
        """The visible window, as drawn on the strip."""
        first, last = self.visible_ticks()
        x0, x1 = self.tick_to_x(first), self.tick_to_x(last)
        return QRectF(x0, 1, max(4.0, x1 - x0), self.height() - 2)

    def show_from(self, tick: float) -> None:
        """Scroll the piano roll so its view starts at ``tick``."""
        bar = self.roll.horizontalScrollBar()
        bar.setValue(max(0, min(bar.maximum(), round(tick * self.canvas.pixels_per_tick))))

    # -- mouse -------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.LeftButton:
            return
        first, last = self.visible_ticks()
        tick = self.x_to_tick(event.position().x())
        if not self.window_rect().contains(event.position()):
            self.show_from(tick - (last - first) / 2)   # centre the view on the place clicked
            first = self.visible_ticks()[0]
        self._grab = tick - first

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._grab is not None:
            self.show_from(self.x_to_tick(event.position().x()) - self._grab)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._grab = None

    # -- painting ----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        region = self.canvas.loop.region
        if region is not None:
            x0, x1 = self.tick_to_x(region[0]), self.tick_to_x(region[1])
            painter.fillRect(QRectF(x0, 0, x1 - x0, self.height()), LOOP)
        painter.drawPixmap(0, 0, self._miniature(self.span()))
        if self.canvas.playhead is not None:
            x = self.tick_to_x(self.canvas.playhead)
            painter.setPen(QPen(QColor(self.canvas.colours.playhead), 1))
            painter.drawLine(round(x), 0, round(x), self.height())
        painter.setPen(QPen(QColor(self.canvas.colours.ruler_text), 1))
        painter.setBrush(WINDOW_FILL)
        painter.drawRect(self.window_rect().adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()


    def _miniature(self, span: float) -> QPixmap:
        """The background and the notes, drawn once for each piece, hidden voices, size, colours and span (the
        strip repaints on every scroll and playhead move)."""
        canvas = self.canvas
        key = (canvas.piece, canvas.hidden_voices, self.width(), self.height(), canvas.colours, span)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        pixmap = QPixmap(max(1, self.width()), max(1, self.height()))
        pixmap.fill(QColor(canvas.colours.ruler))
        notes = canvas.shown_notes()
        if notes:
            painter = QPainter(pixmap)
            low, high = min(n.pitch for n in notes) - 1, max(n.pitch for n in notes) + 1
            scale, rows = (self.width() - 2 * MARGIN) / span, (self.height() - 2 * MARGIN) / (high - low)
            rects: dict[int, list[QRectF]] = {}
            for note in notes:
                rects.setdefault(note.voice, []).append(QRectF(MARGIN + note.start * scale,
                                                               MARGIN + (high - note.pitch) * rows - 1,
                                                               max(1.0, note.duration * scale), 2))
            painter.setPen(Qt.NoPen)
            for voice, shapes in rects.items():   # one call per voice
                painter.setBrush(voice_colour(voice))
                painter.drawRects(shapes)
            painter.end()
        self._cache = (key, pixmap)
        return pixmap


def attach_overview(window: MainWindow) -> Overview:
    """Put an overview of the window's piano roll right above it (under the voice legend)."""
    overview = Overview(window.piano_roll)
    layout = window.centralWidget().layout()
    layout.insertWidget(layout.indexOf(window.piano_roll), overview)
    return overview
