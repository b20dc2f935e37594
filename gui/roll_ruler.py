"""The loop region on the piano roll's ruler: dragged out with the mouse, shaded, cleared by a double-click, the
ruler's context menu or Play > Clear loop region. View state: not undoable, not saved; cleared when the document
starts over (New, Open, a restored autosave), kept through edits and saves.

The canvas (:class:`~gui.piano_roll.RollCanvas`) passes its ruler's mouse events here; the painter shades
:meth:`RulerLoop.shown` (the region being dragged, else the set one); the transport plays it while Loop is on.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from gui.document import Document

DRAG_START_PIXELS = 4   # a press that moves less than this on the ruler is a click (the start marker only)


class RulerLoop(QObject):
    """The loop region and its gesture on the ruler.

    Args:
        document: when it starts over, the region is cleared.
        canvas: the widget repainted when the region changes (and the context menu's parent).

    Attributes:
        region: (start, end) ticks, or None.
        enabled: Loop is on (the region is shaded brighter while it is played).
        drag: the region being dragged, or None.
        clear_action: Clear loop region (enabled while there is one).

    Signals:
        changed(object): the region, or None when cleared.
    """

    changed = Signal(object)

    def __init__(self, document: Document, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.document, self.canvas = document, canvas
        self.region: tuple[int, int] | None = None
        self.enabled = False
        self.drag: tuple[int, int] | None = None
        self._press: tuple[int, int] | None = None   # (x, tick) where a drag on the ruler began
        self.clear_action = QAction("Clear loop &region", self)
        self.clear_action.setToolTip("Remove the loop region (or double-click the ruler)")
        self.clear_action.triggered.connect(lambda: self.set_region(None))
        self.clear_action.setEnabled(False)
        self._opened_piece = document.piece          # the piece the document last started over with
        document.pathChanged.connect(self._path_changed)

    def set_region(self, region: tuple[int, int] | None) -> None:
        """Set the region to (start, end) ticks (None, or an empty one, clears it)."""
        region = None if region is None or region[1] <= region[0] else (max(0, region[0]), region[1])
        self.drag = None
        if region != self.region:
            self.region = region
            self.clear_action.setEnabled(region is not None)
            self.changed.emit(region)
        self.canvas.update()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self.canvas.update()

    def shown(self) -> tuple[int, int] | None:
        """The region to shade: the one being dragged, else the set one."""
        return self.drag or self.region

    # -- the gesture on the ruler --------------------------------------------------------------
    def press(self, x: int, tick: int) -> None:
        """The left button went down on the ruler at ``x``, on ``tick`` (snapped)."""
        self._press = (x, tick)

    @property
    def dragging(self) -> bool:
        return self._press is not None

    def drag_to(self, x: int, tick: int, step: int) -> None:
        """The mouse is at ``x``, over ``tick``: the region runs from the press to the grid line (of ``step``
        ticks) nearest the mouse."""
        origin_x, start = self._press
        if abs(x - origin_x) < DRAG_START_PIXELS:
            return
        end = round(tick / step) * step
        self.drag = (min(start, end), max(start, end)) if end != start else None
        self.canvas.update()

    def release(self) -> bool:
        """The button came up: a dragged region is set. Returns whether the ruler had the gesture."""
        if self._press is None:
            return False
        self._press = None
        if self.drag is not None:
            self.set_region(self.drag)
        return True

    def context_menu(self, global_position: QPoint) -> bool:
        """Offer Clear loop region (when there is a region); returns whether a menu was shown."""
        if self.region is None:
            return False
        menu = QMenu(self.canvas)
        menu.addAction(self.clear_action)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        menu.popup(global_position)
        return True

    def _path_changed(self, _path: str) -> None:
        """A new path with an empty undo history and a piece of its own is the document starting over (a save
        keeps the piece): the old region means nothing in it."""
        document = self.document
        if document.undo_stack.count() == 0 and document.piece is not self._opened_piece:
            self.set_region(None)
        self._opened_piece = document.piece
