"""Mouse gestures for the piano-roll tests (QTest's mouseMove does not carry the held button)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def _send(widget, kind, point: QPoint, button, buttons, modifiers=Qt.NoModifier) -> None:
    local = QPointF(point)
    event = QMouseEvent(kind, local, widget.mapToGlobal(local), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def click(widget, point: QPoint, button=Qt.LeftButton, modifiers=Qt.NoModifier) -> None:
    _send(widget, QEvent.MouseButtonPress, point, button, button, modifiers)
    _send(widget, QEvent.MouseButtonRelease, point, button, Qt.NoButton, modifiers)


def drag(widget, start: QPoint, end: QPoint, modifiers=Qt.NoModifier, steps: int = 4) -> None:
    """Press at ``start``, move in ``steps`` to ``end`` with the left button held, release."""
    _send(widget, QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton, modifiers)
    for i in range(1, steps + 1):
        point = QPoint(start.x() + (end.x() - start.x()) * i // steps, start.y() + (end.y() - start.y()) * i // steps)
        _send(widget, QEvent.MouseMove, point, Qt.NoButton, Qt.LeftButton, modifiers)
    _send(widget, QEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.NoButton, modifiers)
