"""Painting the piano roll: pitch rows (those outside the piece's key shaded), the primer's shade, the band over
a regenerated region, the loop region (on the ruler, and faintly over the grid while Loop is on), bar and beat
lines, the notes coloured by voice, the gesture's preview, the playhead, a hint on an empty piece, and the ruler
and piano keys pinned to the visible edges."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from composer.music.notes import Note
from gui.roll_gesture import BAND
from gui.roll_grid import KEY_WIDTH, RULER_HEIGHT, bar_lines, is_black_key, pitch_name, voice_colour
from gui.theme import DARK_ROLL, RollColours

if TYPE_CHECKING:
    from gui.piano_roll import RollCanvas

CHANGED = QColor(255, 213, 79, 38)        # the band over a regenerated region
CHANGED_EDGE = QColor(255, 213, 79, 160)
LOOP_ON = QColor(79, 195, 247, 150)       # the loop region on the ruler while Loop is on
LOOP_OFF = QColor(160, 166, 175, 90)      # ... while Loop is off (it is kept, not played)
LOOP_GRID = QColor(79, 195, 247, 22)      # the loop region over the grid while Loop is on
HINT_FLAGS = Qt.AlignCenter | Qt.TextWordWrap
HINT_POINTS = 11
EMPTY_HINT = ("Click to draw notes, open a MIDI file (Ctrl+O) or drop one here,\n"
              "or write melodies with Generate (Ctrl+G)")


class RollPainter:
    """Paints a :class:`~gui.piano_roll.RollCanvas` (what it shows, its zoom, selection, gesture, playhead).

    Args:
        canvas: the canvas painted; its geometry (``tick_to_x``, ``pitch_to_y``...) places everything.
    """

    def __init__(self, canvas: RollCanvas) -> None:
        self.canvas = canvas

    @property
    def colours(self) -> RollColours:
        """The theme's colours for the roll (:mod:`gui.theme`)."""
        return self.canvas.colours

    def paint(self, painter: QPainter, visible: QRect) -> None:
        """Paint the ``visible`` part of the canvas, back to front."""
        painter.setRenderHint(QPainter.Antialiasing, False)
        self._paint_rows(painter, visible)
        self._paint_primer(painter, visible)
        self._paint_changed_region(painter, visible)
        self._paint_loop_over_grid(painter, visible)
        self._paint_grid(painter, visible)
        self._paint_notes(painter, visible)
        self._paint_gesture(painter)
        self._paint_playhead(painter, visible)
        self._paint_empty_hint(painter, visible)
        self._paint_ruler(painter, visible)
        self._paint_keys(painter, visible)
        painter.fillRect(QRect(visible.left(), visible.top(), KEY_WIDTH, RULER_HEIGHT), QColor(self.colours.ruler))

    def _visible_pitches(self, visible: QRect) -> range:
        high = self.canvas.y_to_pitch(visible.top())
        low = self.canvas.y_to_pitch(visible.bottom())
        return range(low, high + 1)

    def _paint_rows(self, painter: QPainter, visible: QRect) -> None:
        """The pitch rows, black keys darker; with a key, the rows of pitches outside its scale shaded."""
        canvas = self.canvas
        painter.fillRect(visible, QColor(self.colours.background))
        mask = canvas.scale_mask()
        for pitch in self._visible_pitches(visible):
            colour = row_colour(pitch, mask, self.colours)
            y = canvas.pitch_to_y(pitch)
            painter.fillRect(QRectF(visible.left(), y, visible.width(), canvas.row_height), colour)
            if pitch % 12 == 0:
                painter.setPen(QColor(self.colours.octave_line))
                bottom = y + canvas.row_height
                painter.drawLine(QPointF(visible.left(), bottom), QPointF(visible.right(), bottom))

    def _paint_empty_hint(self, painter: QPainter, visible: QRect) -> None:
        """What to do with an empty piece, in the middle of the view (wrapped to fit it)."""
        if self.canvas.piece.notes or self.canvas.gesture is not None:
            return
        painter.setPen(QColor(self.colours.hint))
        _set_font_size(painter, HINT_POINTS)
        painter.drawText(self._hint_area(visible), HINT_FLAGS, EMPTY_HINT)

    @staticmethod
    def _hint_area(visible: QRect) -> QRectF:
        """The visible grid, right of the keys and under the ruler."""
        return QRectF(visible.left() + KEY_WIDTH, visible.top() + RULER_HEIGHT, visible.width() - KEY_WIDTH,
                      visible.height() - RULER_HEIGHT)

    def empty_hint_rect(self, visible: QRect) -> QRectF:
        """Where the empty-piece hint's text goes when ``visible`` is the part of the canvas in view."""
        font = QFont(self.canvas.font())
        font.setPointSizeF(HINT_POINTS)
        area = self._hint_area(visible)
        return QFontMetricsF(font).boundingRect(area, HINT_FLAGS, EMPTY_HINT)

    def _paint_changed_region(self, painter: QPainter, visible: QRect) -> None:
        """Shade the ticks a previewed regeneration wrote again, edged with two lines."""
        canvas = self.canvas
        if not canvas.read_only or canvas.changed_region is None:
            return
        x0, x1 = (canvas.tick_to_x(tick) for tick in canvas.changed_region)
        painter.fillRect(QRectF(x0, visible.top(), x1 - x0, visible.height()), CHANGED)
        painter.setPen(QPen(CHANGED_EDGE, 1))
        for x in (x0, x1):
            painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def loop_span(self) -> tuple[float, float] | None:
        """The x range of the loop region shown (the one being dragged, else the set one), or None."""
        region = self.canvas.loop.shown()
        if region is None:
            return None
        return self.canvas.tick_to_x(region[0]), self.canvas.tick_to_x(region[1])

    def _paint_loop_over_grid(self, painter: QPainter, visible: QRect) -> None:
        span = self.loop_span()
        if span is not None and (self.canvas.loop.enabled or self.canvas.loop.drag):
            painter.fillRect(QRectF(span[0], visible.top(), span[1] - span[0], visible.height()), LOOP_GRID)

    def _paint_primer(self, painter: QPainter, visible: QRect) -> None:
        """Shade the primer of a previewed continuation and mark where the new music starts."""
        canvas = self.canvas
        if not canvas.read_only or canvas.preview_new_from <= 0:
            return
        x = canvas.tick_to_x(canvas.preview_new_from)
        painter.fillRect(QRectF(KEY_WIDTH, visible.top(), x - KEY_WIDTH, visible.height()),
                         QColor(self.colours.primer_shade))
        painter.setPen(QPen(QColor("#8fd18f"), 2, Qt.DashLine))
        painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def _paint_grid(self, painter: QPainter, visible: QRect) -> None:
        canvas, piece = self.canvas, self.canvas.piece
        first, last = canvas.x_to_tick(visible.left()), canvas.x_to_tick(visible.right()) + 1
        beat_pixels = canvas.pixels_per_tick * piece.ticks_per_beat
        for tick, is_bar, _ in bar_lines(piece, canvas.content_end(), first, last):   # the bars in view
            if tick < first - piece.ticks_per_bar or tick > last:
                continue
            if not is_bar and beat_pixels < 12:
                continue
            painter.setPen(QPen(QColor(self.colours.bar_line if is_bar else self.colours.beat_line), 1))
            x = canvas.tick_to_x(tick)
            painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def _paint_notes(self, painter: QPainter, visible: QRect) -> None:
        canvas = self.canvas
        hidden = canvas.gesture.hidden_notes() if canvas.gesture else set()
        region = QRectF(visible)
        for note in self.notes_in_view(visible):   # hidden voices are left out
            rect = canvas.note_rect(note)
            if not rect.intersects(region):
                continue
            primer = canvas.read_only and note.start < canvas.preview_new_from
            self._paint_note(painter, note, rect, selected=note in canvas.selection, ghost=note in hidden or primer)

    def notes_in_view(self, visible: QRect) -> list[Note]:
        """The shown notes that may reach into ``visible`` in time and pitch: the notes are sorted by start, so a
        bisection skips those starting after it, and those starting longer ago than the longest note lasts."""
        canvas = self.canvas
        notes = canvas.shown_notes()
        if not notes:
            return []
        first, last = canvas.x_to_tick(visible.left()), canvas.x_to_tick(visible.right()) + 1
        longest = max(n.end - n.start for n in notes)
        low, high = bisect_left(notes, first - longest, key=_start), bisect_right(notes, last, key=_start)
        pitches = self._visible_pitches(visible)
        return [n for n in notes[low:high] if n.end >= first and n.pitch in pitches]

    def _paint_note(self, painter: QPainter, note: Note, rect: QRectF, selected: bool, ghost: bool = False) -> None:
        colour = voice_colour(note.voice)
        fill = QColor(colour)
        if ghost:
            fill.setAlpha(90)
        elif selected:
            fill = colour.lighter(150)
        edge = QColor(self.colours.selected_edge) if selected else colour.darker(160)
        painter.setPen(QPen(edge, 1.5 if selected else 1))
        painter.setBrush(fill)
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))

    def _paint_gesture(self, painter: QPainter) -> None:
        gesture = self.canvas.gesture
        if gesture is None:
            return
        if gesture.kind == BAND and gesture.current is not None:
            painter.setPen(QPen(QColor("#9ecbff"), 1, Qt.DashLine))
            painter.setBrush(QColor(120, 170, 255, 40))
            painter.drawRect(QRect(gesture.origin, gesture.current).normalized())
            return
        for note in gesture.dragged():
            self._paint_note(painter, note, self.canvas.note_rect(note), selected=True)

    def _paint_playhead(self, painter: QPainter, visible: QRect) -> None:
        if self.canvas.playhead is None:
            return
        x = self.canvas.tick_to_x(self.canvas.playhead)
        painter.setPen(QPen(QColor(self.colours.playhead), 2))
        painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))

    def _paint_ruler(self, painter: QPainter, visible: QRect) -> None:
        canvas = self.canvas
        ruler = QRect(visible.left(), visible.top(), visible.width(), RULER_HEIGHT)
        painter.fillRect(ruler, QColor(self.colours.ruler))
        span = self.loop_span()
        if span is not None:
            colour = LOOP_ON if self.canvas.loop.enabled or self.canvas.loop.drag else LOOP_OFF
            painter.fillRect(QRectF(span[0], ruler.top(), span[1] - span[0], ruler.height()), colour)
        _set_font_size(painter, 8)
        bar_pixels = canvas.pixels_per_tick * canvas.piece.ticks_per_bar
        every = 1 if bar_pixels >= 28 else (2 if bar_pixels >= 14 else 4)
        first, last = canvas.x_to_tick(visible.left() - 40), canvas.x_to_tick(visible.right()) + 1
        for tick, is_bar, number in bar_lines(canvas.piece, canvas.content_end(), first, last):   # the bars in view
            x = canvas.tick_to_x(tick)
            if x < visible.left() - 40 or x > visible.right():
                continue
            painter.setPen(QColor(self.colours.ruler_text))
            if is_bar:
                painter.drawLine(QPointF(x, ruler.top() + 8), QPointF(x, ruler.bottom()))
                if (number - 1) % every == 0:
                    painter.drawText(QPointF(x + 3, ruler.top() + 14), str(number))
            else:
                painter.drawLine(QPointF(x, ruler.bottom() - 4), QPointF(x, ruler.bottom()))
        self._paint_ruler_marks(painter, ruler)

    def _paint_ruler_marks(self, painter: QPainter, ruler: QRect) -> None:
        """The playhead across the ruler, and the triangle marking where playback (and pasting) starts."""
        canvas = self.canvas
        if canvas.playhead is not None:
            x = canvas.tick_to_x(canvas.playhead)
            painter.setPen(QPen(QColor(self.colours.playhead), 2))
            painter.drawLine(QPointF(x, ruler.top()), QPointF(x, ruler.bottom()))
        x = canvas.tick_to_x(canvas.play_start)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(self.colours.playhead))
        painter.drawPolygon([QPointF(x - 5, ruler.bottom() - 7), QPointF(x + 5, ruler.bottom() - 7),
                             QPointF(x, ruler.bottom())])

    def _paint_keys(self, painter: QPainter, visible: QRect) -> None:
        canvas, left = self.canvas, visible.left()
        height = canvas.row_height
        _set_font_size(painter, 7)
        for pitch in self._visible_pitches(visible):
            y = canvas.pitch_to_y(pitch)
            painter.fillRect(QRectF(left, y, KEY_WIDTH, height), QColor(self.colours.key_white))
            if is_black_key(pitch):
                painter.fillRect(QRectF(left, y, KEY_WIDTH * 0.62, height), QColor(self.colours.key_black))
            else:
                painter.setPen(QColor(self.colours.key_line))
                painter.drawLine(QPointF(left, y + height), QPointF(left + KEY_WIDTH, y + height))
            if pitch % 12 == 0 and height >= 8:
                painter.setPen(QColor(self.colours.key_text))
                painter.drawText(QRectF(left, y, KEY_WIDTH - 3, height), Qt.AlignRight | Qt.AlignVCenter,
                                 pitch_name(pitch))
        painter.setPen(QColor(self.colours.key_edge))
        painter.drawLine(QPointF(left + KEY_WIDTH, visible.top()), QPointF(left + KEY_WIDTH, visible.bottom()))


def _start(note: Note) -> int:
    return note.start


def row_colour(pitch: int, mask: list[bool] | None, colours: RollColours = DARK_ROLL) -> QColor:
    """The fill of ``pitch``'s row: black keys darker than white ones, and, when a key's scale ``mask`` is
    given, rows outside the scale shaded darker still (a DAW's scale highlight), in the theme's ``colours``."""
    if mask is not None and not mask[pitch]:
        return QColor(colours.out_of_scale)
    if mask is not None:
        return QColor(colours.scale_black if is_black_key(pitch) else colours.scale_white)
    return QColor(colours.row_black if is_black_key(pitch) else colours.row_white)


def _set_font_size(painter: QPainter, points: float) -> None:
    font = QFont(painter.font())
    font.setPointSizeF(points)
    painter.setFont(font)
