"""Fitting the window to the screen: the first window (or a remembered one from a bigger screen) is sized to the
screen's available area, and the Compose panel scrolls rather than pushing the window off a small screen
(a 1366x768 laptop, or a screen at 150 % scaling)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QFrame, QMainWindow, QScrollArea, QWidget

SCREEN_SHARE = 0.9   # the most of the available screen a window takes when it must be shrunk


def fit_to_screen(window: QMainWindow, available: QRect | None = None) -> None:
    """Keep ``window`` within :data:`SCREEN_SHARE` of the available screen area (width and height each), and
    centre it there when it is not inside that area (a maximized or full-screen window is left as it is).

    Args:
        window: the window, before or after it is shown.
        available: the area to fit (default: the available geometry of the window's screen, else the primary).
    """
    if window.isMaximized() or window.isFullScreen():
        return
    if available is None:
        screen = window.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
    window.resize(min(window.width(), int(available.width() * SCREEN_SHARE)),
                  min(window.height(), int(available.height() * SCREEN_SHARE)))
    if not available.contains(window.geometry()):
        window.move(available.left() + (available.width() - window.width()) // 2,
                    available.top() + (available.height() - window.height()) // 2)


def scrolling(panel: QWidget) -> QScrollArea:
    """``panel`` in a scroll area at least as wide as the panel needs (so it does not scroll sideways) that
    scrolls up and down when the screen is too short for it."""
    area = QScrollArea()
    area.setObjectName("compose_scroll")
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    scrollbar = area.verticalScrollBar().sizeHint().width()
    area.setMinimumWidth(panel.minimumSizeHint().width() + scrollbar)
    return area
