"""View > Theme (gui/theme.py) on the real window: Light and Dark restyle the widgets and the piano roll together,
System gives back the desktop's look, and the choice is remembered."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from composer.music.notes import Note  # noqa: E402
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


def _lane_pixels(window) -> tuple[str, str]:
    """The velocity lane's and the chord lane's background, right of the keys and above any bar or chord box
    (a velocity-127 bar starts 6 px down, a chord box 2 px down)."""
    roll = window.piano_roll
    velocity = roll.velocity_lane.grab().toImage().pixelColor(QPoint(KEY_WIDTH + 30, 3)).name()
    chords = roll.chord_lane.grab().toImage().pixelColor(QPoint(KEY_WIDTH + 30, 0)).name()
    return velocity, chords


def test_the_velocity_and_chord_lanes_follow_the_theme(window_factory):
    window = window_factory()
    chooser, roll = window.theme, window.piano_roll
    try:
        piece = window.document.piece
        bar = piece.ticks_per_bar
        notes = tuple(Note(i * bar, (i + 1) * bar, pitch, 80) for i, pitch in enumerate((60, 64)))
        window.document.apply(piece.replace(notes=notes), "Draw notes")
        roll.horizontalScrollBar().setValue(0)
        lane = roll.chord_lane
        lane.estimate_action.trigger()                                     # the chord lane shows chords
        box = lane.span_rect(lane.chords[0])
        inside = QPoint(round(box.right()) - 6, round(box.top()) + 3)      # in the first chord's box

        def box_fill() -> str:
            return lane.grab().toImage().pixelColor(inside).name()

        assert _lane_pixels(window) == (DARK_ROLL.lane_background, DARK_ROLL.chord_background)   # System
        assert box_fill() == DARK_ROLL.estimated_fill
        chooser.actions["Light"].trigger()
        assert _lane_pixels(window) == (LIGHT_ROLL.lane_background, LIGHT_ROLL.chord_background)
        assert all(QColor(c).lightness() > 200 for c in _lane_pixels(window))     # light under a light roll
        assert box_fill() == LIGHT_ROLL.estimated_fill
        chooser.actions["Dark"].trigger()
        assert _lane_pixels(window) == (DARK_ROLL.lane_background, DARK_ROLL.chord_background)
        assert all(QColor(c).lightness() < 60 for c in _lane_pixels(window))
        assert box_fill() == DARK_ROLL.estimated_fill
    finally:
        chooser.set_theme("System")
