"""View > Theme (gui/theme.py) on the real window: Light and Dark restyle the widgets and the piano roll together,
System gives back the desktop's look, and the choice is remembered."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.roll_grid import KEY_WIDTH  # noqa: E402
from gui.theme import DARK_ROLL, LIGHT_ROLL  # noqa: E402


def _lightness(colour) -> int:
    return colour.lightness()


def _row_pixel(window, pitch: int):
    roll = window.piano_roll
    y = round(window.canvas.pitch_to_y(pitch) + window.canvas.row_height / 2) - roll.verticalScrollBar().value()
    return roll.viewport().grab().toImage().pixelColor(QPoint(KEY_WIDTH + 30, y))


def test_light_and_dark_restyle_the_window_and_the_roll_and_are_remembered(window_factory):
    app = QApplication.instance()
    style, palette = app.style().name(), QPalette(app.palette())
    window = window_factory()
    chooser = window.theme
    try:
        window.piano_roll.show_pitch_range(window.document.piece)
        assert chooser.actions["System"].isChecked() and window.canvas.colours == DARK_ROLL
        view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
        assert chooser.menu.menuAction() in view_menu.actions()
        chooser.actions["Light"].trigger()
        assert window.canvas.colours == LIGHT_ROLL
        assert window.overview.grab().toImage().pixelColor(QPoint(1, 1)).lightness() > 180   # its background
        assert app.style().name().lower() == "fusion" and _lightness(app.palette().color(QPalette.Window)) > 180
        assert _lightness(_row_pixel(window, 64)) > 200                    # a light roll
        chooser.actions["Dark"].trigger()
        assert _lightness(app.palette().color(QPalette.Window)) < 80 and _lightness(_row_pixel(window, 64)) < 80
        again = window_factory()                                          # the same settings: Dark comes back
        assert again.theme.actions["Dark"].isChecked() and again.canvas.colours == DARK_ROLL
        chooser.actions["Light"].trigger()
        assert window.canvas.colours == LIGHT_ROLL
    finally:
        chooser.set_theme("System")
    assert app.style().name() == style and app.palette().color(QPalette.Window) == palette.color(QPalette.Window)
