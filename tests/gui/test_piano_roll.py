"""The piano roll edits the document with the mouse: draw, move, resize, delete, select; all undoable."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from composer.music.notes import Note, Piece, TimeSignature, Voice
from gui.document import Document
from gui.piano_roll import PianoRoll, Tool, bar_lines, pitch_name
from qt_mouse import click, drag


@pytest.fixture
def roll(qtbot):
    document = Document()
    roll = PianoRoll(document)
    roll.resize(900, 600)
    qtbot.addWidget(roll)
    roll.show()
    roll.show_pitch_range(document.piece)  # middle C in view
    return roll


def _put(roll, *notes: Note) -> None:
    document = roll.canvas.document
    document.reset(document.piece.replace(notes=notes))


def test_click_draws_a_snapped_sixteenth_and_undo_removes_it(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    click(canvas, canvas.point_at(tpb + tpb // 4 + 30, 60))          # a bit after the 2nd sixteenth of beat 2
    assert document.piece.notes == (Note(tpb + tpb // 4, tpb + tpb // 2, 60),)
    assert document.undo_stack.undoText() == "Draw note"
    document.undo_stack.undo()
    assert document.piece.notes == ()
    document.undo_stack.redo()
    assert len(document.piece.notes) == 1


def test_drawing_with_a_drag_sets_the_length(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    drag(canvas, canvas.point_at(10, 62), canvas.point_at(2 * tpb - 10, 62))
    assert document.piece.notes == (Note(0, 2 * tpb, 62),)


def test_drag_moves_a_note_in_time_and_pitch(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    _put(roll, Note(0, tpb, 60), Note(2 * tpb, 3 * tpb, 64))
    drag(canvas, canvas.point_at(tpb // 2, 60), canvas.point_at(tpb // 2 + tpb, 63))
    assert document.piece.notes == (Note(tpb, 2 * tpb, 63), Note(2 * tpb, 3 * tpb, 64))
    assert document.undo_stack.undoText() == "Move note"
    document.undo_stack.undo()
    assert document.piece.notes == (Note(0, tpb, 60), Note(2 * tpb, 3 * tpb, 64))


def test_drag_right_edge_resizes(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    _put(roll, Note(0, tpb, 60))
    edge = canvas.point_at(tpb, 60) - QPoint(2, 0)
    drag(canvas, edge, edge + QPoint(round(canvas.tick_to_x(tpb) - canvas.tick_to_x(0)), 0))
    assert document.piece.notes == (Note(0, 2 * tpb, 60),)
    assert document.undo_stack.undoText() == "Resize note"


def test_right_click_and_delete_key_remove_notes(roll, qtbot):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    _put(roll, Note(0, tpb, 60), Note(tpb, 2 * tpb, 62), Note(2 * tpb, 3 * tpb, 64))
    click(canvas, canvas.point_at(tpb // 2, 60), Qt.RightButton)
    assert [n.pitch for n in document.piece.notes] == [62, 64]
    click(canvas, canvas.point_at(tpb + tpb // 2, 62))                # select the second note
    assert canvas.selection == {Note(tpb, 2 * tpb, 62)}
    qtbot.keyClick(canvas, Qt.Key_Delete)
    assert [n.pitch for n in document.piece.notes] == [64]
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert [n.pitch for n in document.piece.notes] == [60, 62, 64]


def test_rubber_band_selects_and_region_reports_time_and_voices(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    notes = (Note(0, tpb, 60, voice=0), Note(tpb, 2 * tpb, 55, voice=1), Note(4 * tpb, 5 * tpb, 60, voice=0))
    document.reset(document.piece.replace(notes=notes, voices=(Voice("S"), Voice("A"))))
    drag(canvas, canvas.point_at(tpb // 4, 62), canvas.point_at(2 * tpb - tpb // 4, 54), Qt.ShiftModifier)
    assert canvas.selection == set(notes[:2])
    assert canvas.selected_region() == (0, 2 * tpb, [0, 1])
    assert document.undo_stack.count() == 0                           # selecting is not an edit
    canvas.tool = Tool.SELECT
    drag(canvas, canvas.point_at(3 * tpb, 61), canvas.point_at(6 * tpb, 59))
    assert canvas.selection == {notes[2]}


def test_moving_a_selection_moves_all_selected_notes_as_one_step(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    _put(roll, Note(0, tpb, 60), Note(tpb, 2 * tpb, 62))
    canvas.select_all()
    drag(canvas, canvas.point_at(tpb // 2, 60), canvas.point_at(tpb // 2 + 2 * tpb, 62))
    assert document.piece.notes == (Note(2 * tpb, 3 * tpb, 62), Note(3 * tpb, 4 * tpb, 64))
    assert document.undo_stack.count() == 1


def test_preview_is_read_only(roll):
    canvas, document = roll.canvas, roll.canvas.document
    preview = Piece(notes=(Note(0, 12, 70),), ticks_per_beat=12)
    canvas.set_preview(preview)
    assert canvas.piece is preview
    click(canvas, canvas.point_at(24, 60))
    assert document.piece.notes == () and canvas.piece is preview
    canvas.set_preview(None)
    assert canvas.piece is document.piece


def test_ctrl_wheel_zooms_and_canvas_grows(roll):
    canvas = roll.canvas
    width, zoom = canvas.width(), canvas.zoom_x
    point = QPointF(canvas.point_at(0, 60))
    event = QWheelEvent(point, canvas.mapToGlobal(point), QPoint(0, 0), QPoint(0, 120), Qt.NoButton,
                        Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)
    assert canvas.zoom_x > zoom and canvas.width() > width
    roll.zoom_out()
    roll.zoom_out()
    assert canvas.zoom_x < zoom


def test_bar_lines_follow_time_signature_changes():
    piece = Piece(notes=(), ticks_per_beat=4,
                  time_signatures=(TimeSignature(0, 3, 4), TimeSignature(24, 2, 4)))
    bars = [(tick, number) for tick, is_bar, number in bar_lines(piece, 32) if is_bar]
    assert bars == [(0, 1), (12, 2), (24, 3)]
    beats = [tick for tick, is_bar, _ in bar_lines(piece, 32) if not is_bar]
    assert beats == [4, 8, 16, 20, 28]
    assert pitch_name(60) == "C4" and pitch_name(61) == "C#4"


def test_playhead_is_painted(roll):
    canvas = roll.canvas
    canvas.set_playhead(480)
    image = roll.grab().toImage()
    x = round(canvas.tick_to_x(480))
    colour = image.pixelColor(x, 200)
    assert (colour.red(), colour.green()) == (255, 213)


def test_voices_are_painted_in_their_own_colours(roll):
    from composer.music.midi_io import read_midi
    from gui.piano_roll import voice_colour

    chorale = read_midi(Path(__file__).resolve().parents[2] / "midi_data" / "bach_chorales_satb" / "bwv250.mid")
    roll.canvas.document.reset(chorale)
    roll.show_pitch_range(chorale)
    roll.fit_width(chorale.ticks_per_bar * 2)
    image = roll.canvas.grab().toImage()
    seen = {}
    for voice in range(4):
        note = next(n for n in chorale.voice_notes(voice) if n.duration >= chorale.ticks_per_beat // 2)
        rect = roll.canvas.note_rect(note)
        if roll.canvas.visibleRegion().boundingRect().contains(rect.center().toPoint()):
            seen[voice] = image.pixelColor(rect.center().toPoint()).name()
    assert len(seen) >= 3
    for voice, colour in seen.items():
        assert colour == voice_colour(voice).name()
    assert len(set(seen.values())) == len(seen)


def test_arrow_keys_transpose_and_nudge_the_selection(roll, qtbot):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    _put(roll, Note(0, tpb, 60), Note(tpb, 2 * tpb, 64), Note(2 * tpb, 3 * tpb, 67))
    canvas.selection = {Note(0, tpb, 60), Note(tpb, 2 * tpb, 64)}
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key_Up)
    qtbot.keyClick(canvas, Qt.Key_Up, Qt.ShiftModifier)
    qtbot.keyClick(canvas, Qt.Key_Right)
    step = tpb // 4
    assert document.piece.notes == (Note(step, tpb + step, 73), Note(tpb + step, 2 * tpb + step, 77),
                                    Note(2 * tpb, 3 * tpb, 67))
    assert document.undo_stack.count() == 3
    qtbot.keyClick(canvas, Qt.Key_Left, Qt.ShiftModifier)                 # a bar back would go before 0
    assert document.undo_stack.count() == 3
    for _ in range(3):
        document.undo_stack.undo()
    assert [n.pitch for n in document.piece.notes] == [60, 64, 67]


def test_copy_and_paste_at_the_ruler_marker(roll):
    canvas, document = roll.canvas, roll.canvas.document
    tpb = document.piece.ticks_per_beat
    _put(roll, Note(tpb, 2 * tpb, 60), Note(2 * tpb, 3 * tpb, 62))
    canvas.select_all()
    assert canvas.copy_selection() == (Note(0, tpb, 60), Note(tpb, 2 * tpb, 62))
    canvas.set_play_start(8 * tpb)
    assert canvas.paste()
    assert document.piece.notes[2:] == (Note(8 * tpb, 9 * tpb, 60), Note(9 * tpb, 10 * tpb, 62))
    assert canvas.selection == set(document.piece.notes[2:])
    canvas.cut_selection()
    assert len(document.piece.notes) == 2 and document.undo_stack.undoText() == "Delete notes"


def test_bar_lines_of_a_stretch_are_numbered_as_in_the_whole_piece():
    tpb = 4
    piece = Piece((), tpb, time_signatures=(TimeSignature(0, 1, 4), TimeSignature(4, 3, 4), TimeSignature(40, 4, 4)))
    whole = bar_lines(piece, 200)
    for first, last in ((0, 200), (13, 30), (37, 90), (41, 41), (150, 199)):
        part = set(bar_lines(piece, 200, first, last))
        assert part <= set(whole)                                                  # the same numbers
        containing = max((line for line in whole if line[1] and line[0] <= first), key=lambda line: line[0])
        assert {line for line in whole if first <= line[0] <= last} | {containing} <= part
