"""The start-up splash: shown as soon as Qt is up, before the app imports its music libraries (PyTorch and the
models take seconds on a cold start), and closed when the window appears. It says what is happening, one line at a
time. Only Qt is imported here, so the splash costs a few milliseconds.

Qt's own QSplashScreen waits up to a second for its window to be exposed when it is shown, and again for the main
window in ``finish``: on Show the window is not yet mapped (Qt sends the Show event before it shows the platform
window), so on X11, Wayland and the offscreen platform the wait ran to its 1000 ms timeout and start-up took a second
longer (measured: 1.0 s of ``show()`` under ``QT_QPA_PLATFORM=offscreen``, Qt 6.11). :class:`Splash` skips both waits;
:func:`show_splash` waits for the exposure once the window really is shown (a few milliseconds), so the splash is
painted before the imports hold the GUI thread.

Use in ``composer-gui``::

    splash = show_splash()                 # right after the QApplication
    splash.showMessage("Loading the models...")
    window = build_window(args)            # the heavy imports; the model files load in the background
    window.show()
    splash.finish(window)
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen, QWidget

SIZE = (440, 150)
BACKGROUND = "#1f2630"
TEXT = "#e8eaed"
FIRST_LINE = "Starting: loading the music libraries..."
EXPOSE_WAIT_S = 0.5   # at most, for the window system to map the splash (a few ms on a local display)


def _picture() -> QPixmap:
    """The splash's picture: the app's name on a dark band (no image file needed)."""
    pixmap = QPixmap(*SIZE)
    pixmap.fill(QColor(BACKGROUND))
    painter = QPainter(pixmap)
    font = QFont()
    font.setPointSize(22)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor(TEXT))
    painter.drawText(pixmap.rect().adjusted(0, 0, 0, -40), Qt.AlignmentFlag.AlignCenter, "Composer")
    painter.end()
    return pixmap


class Splash(QSplashScreen):
    """The splash screen; :meth:`say` shows a line of progress at once (the event loop is not running yet)."""

    def __init__(self) -> None:
        super().__init__(_picture())
        self.last_message = ""

    def say(self, text: str) -> None:
        """Show ``text`` under the name, painted now.

        Args:
            text: one line, e.g. "Loading the models...".
        """
        self.last_message = text
        self.showMessage(text, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter, QColor(TEXT))
        QApplication.processEvents()

    def event(self, event: QEvent) -> bool:
        """As QSplashScreen's, without its wait of up to a second for the window to be exposed on Show."""
        if event.type() == QEvent.Type.Show:
            return QWidget.event(self, event)
        return super().event(event)

    def finish(self, window: QWidget) -> None:
        """Close the splash (the window is shown); QSplashScreen's own waits up to a second for it to be exposed.

        Args:
            window: the main window, now shown.
        """
        del window
        self.close()


def show_splash() -> Splash:
    """Show the splash with its first line (a QApplication must exist).

    Returns:
        The splash; call its ``finish(window)`` once the window is shown.
    """
    splash = Splash()
    splash.show()
    handle = splash.windowHandle()
    deadline = time.monotonic() + EXPOSE_WAIT_S
    while handle is not None and not handle.isExposed() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    splash.say(FIRST_LINE)
    return splash
