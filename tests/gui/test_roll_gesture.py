"""A mouse edit in progress (gui/roll_gesture.py), on its own: how far a drag moves, resizes or draws notes."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QRectF  # noqa: E402

from composer.music.notes import Note  # noqa: E402
from gui.roll_gesture import BAND, DRAW, MOVE, RESIZE, Gesture  # noqa: E402

STEP = 120  # a 1/16 grid at 480 ticks per beat
ORIGIN = QPoint(100, 100)


def test_a_move_snaps_to_the_grid_and_stays_on_the_roll():
    notes = (Note(240, 480, 60), Note(480, 960, 126))
    gesture = Gesture(MOVE, 300, 60, ORIGIN, notes)
    gesture.drag_to(300 + 130, 62, ORIGIN, STEP)          # 130 ticks right snaps to one step; 2 up hits 127
    assert (gesture.tick_delta, gesture.pitch_delta) == (120, 1)
    assert gesture.dragged() == (Note(360, 600, 61), Note(600, 1080, 127))
    gesture.drag_to(0, 60, ORIGIN, STEP)                  # far left: the first note stops at tick 0
    assert gesture.tick_delta == -240 and gesture.dragged()[0].start == 0
    assert gesture.hidden_notes() == set(notes) and gesture.changed()
    assert gesture.edit_label() == "Move notes"


def test_a_resize_keeps_every_note_at_least_a_tick_long():
    gesture = Gesture(RESIZE, 480, 60, ORIGIN, (Note(0, 480, 60),))
    gesture.drag_to(480 + 250, 60, ORIGIN, STEP)
    assert gesture.dragged() == (Note(0, 720, 60),)
    gesture.drag_to(-1000, 60, ORIGIN, STEP)
    assert gesture.dragged() == (Note(0, 1, 60),) and gesture.edit_label() == "Resize note"


def test_a_drawn_note_ends_on_the_grid_line_at_or_after_the_mouse():
    gesture = Gesture(DRAW, 240, 64, ORIGIN, (Note(240, 360, 64),))
    gesture.drag_to(500, 70, ORIGIN, STEP)
    assert gesture.dragged() == (Note(240, 600, 64),)
    gesture.drag_to(0, 64, ORIGIN, STEP)                  # dragged back: still one step long
    assert gesture.dragged() == (Note(240, 360, 64),) and gesture.hidden_notes() == set()


def test_a_band_follows_the_mouse_and_is_normalized():
    gesture = Gesture(BAND, 0, 60, ORIGIN, current=ORIGIN)
    gesture.drag_to(0, 60, QPoint(40, 160), STEP)
    assert gesture.band() == QRectF(40, 100, 60, 60) and not gesture.changed()
