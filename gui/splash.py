"""The start-up splash: shown as soon as Qt is up, before the app imports its music libraries (PyTorch and the
models take seconds on a cold start), and closed when the window appears. It says what is happening, one line at a
time. Only Qt is imported here, so the splash costs a few milliseconds.

Use in ``composer-gui``::

    splash = show_splash()                 # right after the QApplication
    splash.showMessage("Loading the models...")
    window = build_window(args)            # the heavy imports and the model files
    window.show()
    splash.finish(window)
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

SIZE = (440, 150)
BACKGROUND = "#1f2630"
TEXT = "#e8eaed"
FIRST_LINE = "Starting: loading the music libraries..."


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


def show_splash() -> Splash:
    """Show the splash with its first line (a QApplication must exist).

    Returns:
        The splash; call its ``finish(window)`` once the window is shown.
    """
    splash = Splash()
    splash.show()
    splash.say(FIRST_LINE)
    return splash
