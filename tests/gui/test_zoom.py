"""Zoom on the real window: ctrl+wheel around the mouse, Zoom to fit, and the overview strip (gui/piano_roll.py,
gui/overview.py), with a real 4-part chorale."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.roll_grid import KEY_WIDTH, RULER_HEIGHT  # noqa: E402
from qt_mouse import click, drag  # noqa: E402


def _wheel(widget, point: QPoint, up: bool, modifiers=Qt.ControlModifier) -> None:
    position = QPointF(point)
    event = QWheelEvent(position, widget.mapToGlobal(position), QPoint(0, 0), QPoint(0, 120 if up else -120),
                        Qt.NoButton, modifiers, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def _tick_at_view_x(roll, view_x: float) -> float:
    canvas = roll.canvas
    return (roll.horizontalScrollBar().value() + view_x - KEY_WIDTH) / canvas.pixels_per_tick


@pytest.fixture
def chorale_window(window_factory, chorale_file):
    window = window_factory()
    window.resize(1200, 800)
    assert window.open_file(chorale_file)
    return window


def test_ctrl_wheel_zooms_around_the_mouse_keeping_the_time_under_it(chorale_window):
    roll, canvas = chorale_window.piano_roll, chorale_window.canvas
    roll.reset_zoom()
    roll.horizontalScrollBar().setValue(300)
    view_x = 500.0
    tick = _tick_at_view_x(roll, view_x)
    point = QPoint(round(roll.horizontalScrollBar().value() + view_x), round(canvas.pitch_to_y(60)))
    for up in (True, True, True, False):
        zoom = canvas.zoom_x
        _wheel(canvas, point, up)
        assert canvas.zoom_x != zoom
        assert abs(_tick_at_view_x(roll, view_x) - tick) <= 1 / canvas.pixels_per_tick + 1   # within a pixel
        point = QPoint(round(roll.horizontalScrollBar().value() + view_x), point.y())
    assert roll.horizontalScrollBar().value() > 300                # zoomed in around x=500: the view moved right


def test_ctrl_wheel_over_the_velocity_lane_zooms_around_the_mouse_too(chorale_window):
    roll = chorale_window.piano_roll
    roll.horizontalScrollBar().setValue(200)
    view_x = 400.0
    tick = _tick_at_view_x(roll, view_x)
    _wheel(roll.velocity_lane, QPoint(round(view_x), 10), up=True)
    assert abs(_tick_at_view_x(roll, view_x) - tick) <= 1 / roll.canvas.pixels_per_tick + 1


def test_zoom_to_fit_shows_the_whole_piece(chorale_window, qtbot):
    window = chorale_window
    roll, canvas, piece = window.piano_roll, window.canvas, window.document.piece
    for _ in range(6):
        roll.zoom_in()
    roll.horizontalScrollBar().setValue(roll.horizontalScrollBar().maximum())
    roll.verticalScrollBar().setValue(0)
    window.piano_roll.zoom_fit_action.trigger()
    view = roll.viewport()
    left, top = roll.horizontalScrollBar().value(), roll.verticalScrollBar().value()
    assert canvas.tick_to_x(0) - left >= KEY_WIDTH - 1 and canvas.tick_to_x(piece.end) - left <= view.width()
    high, low = max(n.pitch for n in piece.notes), min(n.pitch for n in piece.notes)
    assert canvas.pitch_to_y(high) - top >= RULER_HEIGHT                       # under the ruler
    assert canvas.pitch_to_y(low) + canvas.row_height - top <= view.height()   # above the bottom
    assert canvas.tick_to_x(piece.end) - left > 0.8 * view.width()           # and fills the view, not tiny
    assert canvas.pitch_to_y(low) - canvas.pitch_to_y(high) > 0.6 * (view.height() - RULER_HEIGHT)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    fit = window.piano_roll.zoom_fit_action
    assert fit in view_menu.actions() and fit in window.actions()


def test_the_overview_shows_the_view_and_moves_it(chorale_window):
    window = chorale_window
    roll, overview = window.piano_roll, window.overview
    roll.reset_zoom()
    for _ in range(2):
        roll.zoom_in()
    bar = roll.horizontalScrollBar()
    bar.setValue(0)
    assert overview.isVisible() and overview.height() <= 40
    assert overview.window_rect().left() <= 5                        # the view is at the start of the piece
    span = overview.span()
    click(overview, QPoint(round(overview.tick_to_x(span * 0.75)), overview.height() // 2))
    first, last = overview.visible_ticks()
    assert first < span * 0.75 < last and bar.value() > 0           # the place clicked is in view, centred
    rect = overview.window_rect()
    before = bar.value()
    drag(overview, rect.center().toPoint(), rect.center().toPoint() - QPoint(round(rect.width()), 0))
    assert bar.value() < before                                      # dragged left: the view moved back
    moved = overview.visible_ticks()[0]
    assert abs(moved - (first - overview.x_to_tick(rect.width()) + overview.x_to_tick(0))) < span * 0.02


def test_zoom_in_and_out_from_the_keyboard_keep_the_left_edge_of_the_view(chorale_window):
    roll = chorale_window.piano_roll
    roll.reset_zoom()
    roll.horizontalScrollBar().setValue(400)
    tick = _tick_at_view_x(roll, KEY_WIDTH)
    for action in (roll.zoom_in_action, roll.zoom_in_action, roll.zoom_out_action):
        action.trigger()
        assert abs(_tick_at_view_x(roll, KEY_WIDTH) - tick) <= 1 / roll.canvas.pixels_per_tick + 1


def test_the_overview_draws_the_voices_heard_in_their_colours(chorale_window):
    from gui.roll_grid import voice_colour

    window = chorale_window
    overview = window.overview

    def colours() -> set[str]:   # of the miniature, under the visible window's translucent rectangle
        overview.grab()
        image = overview._miniature(overview.span()).toImage()
        return {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(image.height())}

    soprano, bass = voice_colour(0).name(), voice_colour(3).name()
    assert {soprano, bass} <= colours()
    window.canvas.set_hidden_voices(frozenset({0}))                 # hidden in the roll: not in the overview
    shown = colours()
    assert soprano not in shown and bass in shown
