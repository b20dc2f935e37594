"""The chord lane above the piano roll: chord symbols as labelled spans in time.

It shows the chords of what the roll shows: a previewed result's chords (the progression a chord model was
given, :attr:`gui.results_list.Variation.chord_spans`), or, on request (View ▸ Show estimated chords, or the
lane's context menu), chords estimated from the shown piece's notes, one per bar
(:func:`composer.music.chord_estimate.estimate_chords`), greyed and in italics until edited. Double-click a span
to type another symbol (Enter accepts, Esc cancels); a symbol :func:`composer.music.chords.parse_progression`
refuses is refused with a one-line message. Each edit is one undoable step of the document's undo stack
(:mod:`gui.chord_commands`) and puts the lane's progression into the Compose panel's chords field, so the next
generation follows it. The lane shares the roll's horizontal scroll and zoom; ctrl+wheel over it zooms time.
It paints in the canvas's colours (the theme's, :class:`gui.theme.RollColours`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from composer.music.chord_estimate import estimate_chords
from composer.music.metre import metre_of
from gui.actions import make_action
from gui.chord_commands import (
    LaneChord,
    SetChordsCommand,
    checked_symbol,
    lane_chords,
    progression_text,
)
from gui.roll_grid import KEY_WIDTH
from gui.theme import RollColours

CHORD_LANE_HEIGHT = 26   # px, the lane's height above the roll
DOCUMENT = "document"    # the view key of the document's own chords


class ChordLane(QWidget):
    """Chord spans over what a :class:`~gui.piano_roll.RollCanvas` shows, editable with a double-click.

    Args:
        canvas: the piano roll's canvas: its piece, zoom and document (whose undo stack takes the edits).
        scroll_x: the roll's horizontal scroll position in pixels (a callable, read when painting).
        parent: Qt parent.

    Signals:
        hoverChanged(str): what is under the mouse, for the status bar.
        progressionEdited(str): the progression after an edit (or its undo), for the panel's chords field.
        refused(str): a one-line reason a typed symbol was refused.
    """

    hoverChanged = Signal(str)
    progressionEdited = Signal(str)
    refused = Signal(str)

    def __init__(self, canvas, scroll_x: Callable[[], int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self._scroll_x = scroll_x
        self._chords: dict[Hashable, list[LaneChord]] = {}
        self._variation = None                 # the previewed result, or None for the document
        self._keep: dict[int, object] = {}     # the results whose chords are kept (their ids are keys)
        self.field_text: Callable[[], str] = lambda: ""   # the panel's chords field (set by link_chord_lane)
        self.editing: int | None = None        # the span being typed over
        self.editor = QLineEdit(self)
        self.editor.hide()
        self.editor.returnPressed.connect(self._commit_editor)
        self.editor.installEventFilter(self)
        self.estimate_action = make_action(self, "Show &estimated chords", self.show_estimated,
                                           tip="Estimate a chord per bar from the shown piece's notes and show "
                                               "them in the chord lane")
        self.setFixedHeight(CHORD_LANE_HEIGHT)
        self.setMouseTracking(True)
        self.setToolTip("Chords: double-click a chord to change it; right-click to estimate chords from the notes")
        canvas.viewChanged.connect(self.update)
        canvas.document.pieceChanged.connect(self._piece_changed)

    # -- the model -----------------------------------------------------------------------------------
    def view_key(self) -> Hashable:
        """Which chords are shown: the previewed result's (its id) or the document's."""
        return DOCUMENT if self._variation is None else id(self._variation)

    def chords_for(self, key: Hashable) -> list[LaneChord]:
        return list(self._chords.get(key, []))

    @property
    def chords(self) -> list[LaneChord]:
        """The chords shown now."""
        return self.chords_for(self.view_key())

    def set_chords(self, key: Hashable, chords: list[LaneChord]) -> None:
        """Keep ``chords`` for the view ``key`` (repainted when it is shown)."""
        self._chords[key] = list(chords)
        self.update()

    def show_variation(self, variation) -> None:
        """Show a previewed result's chords (its ``chord_spans``, when it has them), or the document's (None).

        A result that has just become the piece ("Use this one") leaves its chords to the document.
        """
        self._cancel_editor()
        previous, self._variation = self._variation, variation
        if variation is None and previous is not None and self.chords_for(id(previous)) \
                and previous.piece == self.canvas.document.piece:
            self._chords[DOCUMENT] = self.chords_for(id(previous))
        key = self.view_key()
        if variation is not None and key not in self._chords:
            self._keep[key] = variation
            self._chords[key] = lane_chords(getattr(variation, "chord_spans", ()) or ())
        self.update()

    def _piece_changed(self, _piece) -> None:
        """A piece started afresh (New, Open, a restored autosave: the history is empty) has no chords yet."""
        if self.canvas.document.undo_stack.count() == 0:
            self._cancel_editor()
            self._chords.pop(DOCUMENT, None)
        self.update()

    def show_estimated(self) -> None:
        """Estimate a chord per bar of the shown piece and show them, marked as estimated (one undoable step)."""
        chords = lane_chords(estimate_chords(self.canvas.piece), estimated=True)
        if not chords:
            self.refused.emit("No chords to estimate: the piece has no notes")
            return
        self.canvas.document.undo_stack.push(SetChordsCommand(self, self.view_key(), chords, "Estimate chords"))

    def edit_span(self, index: int, text: str) -> bool:
        """Give span ``index`` the symbol ``text`` (one undoable step; the progression goes to the panel).

        Args:
            index: the span's position in :attr:`chords`.
            text: the symbol typed.

        Returns:
            False when the symbol was refused (``refused`` says why) or there is no such span.
        """
        chords = self.chords
        if not 0 <= index < len(chords):
            return False
        try:
            symbol = checked_symbol(text)
        except ValueError as error:
            self.refused.emit(f"Chord not changed: {error}")
            return False
        chords[index] = LaneChord(chords[index].start, chords[index].end, symbol, False)
        piece = self.canvas.piece
        fields = (self.field_text(), progression_text(chords, metre_of(piece).bar_ticks, piece.ticks_per_beat))
        self.canvas.document.undo_stack.push(SetChordsCommand(self, self.view_key(), chords,
                                                              f"Change chord to {symbol}", fields))
        return True

    # -- geometry -----------------------------------------------------------------------------------
    def tick_to_x(self, tick: float) -> float:
        """The lane's x for ``tick`` (the canvas's, less the roll's scroll)."""
        return self.canvas.tick_to_x(tick) - self._scroll_x()

    def span_rect(self, chord: LaneChord) -> QRectF:
        left, right = self.tick_to_x(chord.start), self.tick_to_x(chord.end)
        return QRectF(left, 2, max(1.0, right - left), self.height() - 4)

    def span_at(self, x: float) -> int | None:
        """The index of the span under lane x ``x``, or None."""
        if x < KEY_WIDTH:
            return None
        return next((i for i, c in enumerate(self.chords) if self.tick_to_x(c.start) <= x < self.tick_to_x(c.end)),
                    None)

    def point_for(self, index: int) -> QPoint:
        """A point inside span ``index`` (tests use it)."""
        return self.span_rect(self.chords[index]).center().toPoint()

    # -- mouse and the editor -------------------------------------------------------------------------
    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.span_at(event.position().x())
        if event.button() == Qt.LeftButton and index is not None:
            self.open_editor(index)

    def open_editor(self, index: int) -> None:
        """Type over span ``index``'s symbol (Enter accepts, Esc or leaving the field cancels)."""
        self.editing = index
        rect = self.span_rect(self.chords[index]).toRect()
        self.editor.setGeometry(rect.left(), 1, max(60, rect.width()), self.height() - 2)
        self.editor.setText(self.chords[index].symbol)
        self.editor.selectAll()
        self.editor.show()
        self.editor.setFocus()

    def _commit_editor(self) -> None:
        if self.editing is not None and self.edit_span(self.editing, self.editor.text()):
            self._cancel_editor()

    def _cancel_editor(self) -> None:
        self.editing = None
        self.editor.hide()

    def eventFilter(self, watched, event) -> bool:
        """Esc in the editor cancels it (and not the window's Esc, which cancels a job)."""
        if watched is self.editor and event.type() in (QEvent.ShortcutOverride, QEvent.KeyPress) \
                and event.key() == Qt.Key_Escape:
            if event.type() == QEvent.KeyPress:
                self._cancel_editor()
            event.accept()
            return event.type() == QEvent.KeyPress
        return super().eventFilter(watched, event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.span_at(event.position().x())
        if index is not None:
            chord = self.chords[index]
            marked = " (estimated)" if chord.estimated else ""
            self.hoverChanged.emit(f"chord {chord.symbol}{marked}: double-click to change it")

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        menu.addAction(self.estimate_action)
        menu.exec(event.globalPos())

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl+wheel zooms time, as over the roll."""
        if event.modifiers() & Qt.ControlModifier:
            self.canvas.wheelEvent(event)
        else:
            event.ignore()

    # -- painting -----------------------------------------------------------------------------------
    @property
    def colours(self) -> RollColours:
        """The theme's colours: the canvas's (:mod:`gui.theme` sets them)."""
        return self.canvas.colours

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        colours = self.colours
        painter.fillRect(self.rect(), QColor(colours.chord_background))
        for chord in self.chords:
            self._paint_span(painter, chord, colours)
        painter.fillRect(QRectF(0, 0, KEY_WIDTH, self.height()), QColor(colours.ruler))
        painter.setPen(QColor(colours.ruler_text))
        painter.drawText(QRectF(4, 0, KEY_WIDTH - 8, self.height()), Qt.AlignLeft | Qt.AlignVCenter, "Chords")
        painter.setPen(QColor(colours.key_edge))
        painter.drawLine(QPointF(0, self.height() - 1), QPointF(self.width(), self.height() - 1))
        painter.end()

    def _paint_span(self, painter: QPainter, chord: LaneChord, colours: RollColours) -> None:
        rect = self.span_rect(chord)
        if rect.right() < KEY_WIDTH or rect.left() > self.width():
            return
        estimated = chord.estimated
        painter.setPen(QPen(QColor(colours.estimated_edge if estimated else colours.chord_edge), 1))
        painter.setBrush(QColor(colours.estimated_fill if estimated else colours.chord_fill))
        painter.drawRoundedRect(rect.adjusted(1.5, 0.5, -1.5, -0.5), 3, 3)
        font = QFont(painter.font())
        font.setItalic(estimated)
        font.setBold(not estimated)
        painter.setFont(font)
        painter.setPen(QColor(colours.estimated_text if estimated else colours.chord_text))
        painter.drawText(rect.adjusted(6, 0, -2, 0), Qt.AlignLeft | Qt.AlignVCenter, chord.symbol)


def link_chord_lane(lane: ChordLane, panel, messages) -> None:
    """Wire the lane to the Compose panel: a previewed result's chords are shown, edits go to the chords field.

    Args:
        lane: the chord lane.
        panel: the :class:`~gui.generate_panel.GeneratePanel` (``previewChanged``, ``chords_edit``).
        messages: where a refused symbol is said (``show_message``).
    """
    panel.previewChanged.connect(lane.show_variation)
    lane.progressionEdited.connect(panel.set_chords)
    lane.refused.connect(messages.show_message)
    lane.field_text = panel.chords_edit.text
