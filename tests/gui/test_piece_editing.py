"""The velocity lane, the piece's tempo/time/key boxes, the scale shading and note auditioning, on the real window."""

from __future__ import annotations

import mido
from PySide6.QtCore import QPoint, Qt

from composer.music.midi_io import read_midi
from composer.music.notes import Note
from gui.roll_grid import KEY_WIDTH
from tests.gui.qt_mouse import click, drag
from tests.gui.recording_player import RecordingPlayer

VELOCITY = 90


def three_notes(window) -> tuple[Note, ...]:
    """Put three notes a beat apart (velocity 90) into the window's piece and return them."""
    piece = window.document.piece
    beat = piece.ticks_per_beat
    notes = tuple(Note(i * beat, (i + 1) * beat, 60 + 2 * i, VELOCITY) for i in range(3))
    window.document.apply(piece.replace(notes=notes), "Draw notes")
    window.piano_roll.horizontalScrollBar().setValue(0)
    return window.document.piece.notes


def velocities(window) -> list[int]:
    return [n.velocity for n in window.document.piece.notes]


def test_clicking_the_lane_sets_a_velocity_undoably(window):
    notes = three_notes(window)
    lane = window.piano_roll.velocity_lane
    assert lane.isVisible() and lane.width() > KEY_WIDTH + 100
    steps = window.document.undo_stack.count()
    click(lane, lane.point_for(notes[1], 40))
    assert abs(velocities(window)[1] - 40) <= 1
    assert velocities(window)[0] == velocities(window)[2] == VELOCITY
    assert window.document.undo_stack.count() == steps + 1
    window.document.undo_stack.undo()
    assert velocities(window) == [VELOCITY] * 3
    window.document.undo_stack.redo()
    assert abs(velocities(window)[1] - 40) <= 1


def test_a_drag_across_bars_draws_a_ramp_in_one_step(window):
    notes = three_notes(window)
    lane = window.piano_roll.velocity_lane
    steps = window.document.undo_stack.count()
    drag(lane, lane.point_for(notes[0], 20), lane.point_for(notes[2], 120), steps=6)
    low, middle, high = velocities(window)
    assert abs(low - 20) <= 2 and abs(high - 120) <= 2 and abs(middle - 70) <= 3
    assert window.document.undo_stack.count() == steps + 1
    assert window.document.undo_stack.undoText() == "Draw velocity ramp"
    window.document.undo_stack.undo()
    assert velocities(window) == [VELOCITY] * 3
    window.document.undo_stack.redo()
    assert velocities(window) == [low, middle, high]


def test_a_ramp_edits_only_the_selected_notes_and_the_lane_follows_the_zoom(window):
    notes = three_notes(window)
    lane = window.piano_roll.velocity_lane
    window.canvas.selection = {notes[1]}
    window.canvas.selectionChanged.emit(1)
    drag(lane, lane.point_for(notes[0], 10), lane.point_for(notes[2], 110))
    assert velocities(window)[0] == velocities(window)[2] == VELOCITY
    assert velocities(window)[1] != VELOCITY
    assert window.canvas.selection == {window.document.piece.notes[1]}         # still selected after the edit
    image = lane.grab().toImage()
    bottom = lane.height() - 8
    fill = [image.pixelColor(QPoint(lane.point_for(n, 1).x() + 1, bottom)).name() for n in window.document.piece.notes]
    assert fill[0] == fill[2] != fill[1]                                     # the selected note's bar is lit
    before = lane.point_for(window.document.piece.notes[2], 64).x()
    window.piano_roll.zoom_in()
    assert lane.point_for(window.document.piece.notes[2], 64).x() > before   # the lane zooms with the roll
    before = lane.point_for(window.document.piece.notes[2], 64).x()
    window.piano_roll.horizontalScrollBar().setValue(30)
    assert window.piano_roll.horizontalScrollBar().value() == 30
    assert lane.point_for(window.document.piece.notes[2], 64).x() == before - 30   # and scrolls with it


def test_tempo_time_signature_and_key_edits_are_undoable_and_saved(window, qtbot, tmp_path):
    header = window.roll_controls.header
    stack = window.document.undo_stack
    header.bpm_spin.setValue(96)
    header.metre_combo.lineEdit().selectAll()
    qtbot.keyClicks(header.metre_combo.lineEdit(), "3/4")
    qtbot.keyClick(header.metre_combo.lineEdit(), Qt.Key_Return)
    assert header.set_key("Em")
    piece = window.document.piece
    assert piece.qpm == 96 and (piece.time_signatures[0].numerator, piece.time_signatures[0].denominator) == (3, 4)
    assert piece.key == "Em" and header.key_combo.currentText() == "Em"
    assert not header.set_key("H minor") and window.document.piece.key == "Em"   # not a key: nothing changes
    for _ in range(3):
        stack.undo()
    piece = window.document.piece
    assert piece.qpm == 120 and piece.time_signatures[0].numerator == 4 and piece.key is None
    assert header.bpm_spin.value() == 120 and header.metre_combo.currentText() == "4/4"
    assert header.key_combo.currentText() == "No key"
    for _ in range(3):
        stack.redo()
    three_notes(window)
    path = tmp_path / "edited.mid"
    assert window.save_to(path)
    meta = {m.type: m for track in mido.MidiFile(path).tracks for m in track if m.is_meta}
    assert round(mido.tempo2bpm(meta["set_tempo"].tempo)) == 96
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (3, 4)
    assert meta["key_signature"].key == "Em"
    back = read_midi(path)
    assert round(back.qpm) == 96 and back.key == "Em"


def test_a_pickup_keeps_its_length_when_the_time_signature_changes(window, folk_file):
    assert window.open_file(folk_file)
    piece = window.document.piece
    pickup = piece.time_signatures[0]
    tpb = piece.ticks_per_beat
    assert len(piece.time_signatures) > 1
    assert pickup.ticks_per_bar(tpb) < piece.time_signatures[1].ticks_per_bar(tpb)   # a pickup bar
    header = window.roll_controls.header
    tune = piece.time_signatures[1]
    assert header.metre_combo.currentText() == f"{tune.numerator}/{tune.denominator}"   # the tune's, not 1/4
    assert header.set_time_signature("3/4")
    signatures = window.document.piece.time_signatures
    assert signatures[0] == pickup and (signatures[1].tick, signatures[1].numerator, signatures[1].denominator) == (
        pickup.ticks_per_bar(piece.ticks_per_beat), 3, 4)
    assert not header.set_time_signature("3/5") and window.document.piece.time_signatures == signatures
    window.document.undo_stack.undo()
    assert window.document.piece.time_signatures == piece.time_signatures


def row_pixel(window, pitch: int):
    """The colour of ``pitch``'s row, just right of the keys, as the roll shows it."""
    roll, canvas = window.piano_roll, window.canvas
    roll.verticalScrollBar().setValue(round(canvas.pitch_to_y(pitch) - roll.viewport().height() / 2))
    y = round(canvas.pitch_to_y(pitch) + canvas.row_height / 2) - roll.verticalScrollBar().value()
    return roll.viewport().grab().toImage().pixelColor(QPoint(KEY_WIDTH + 4, y)).name()


def test_the_key_s_scale_is_shaded_on_the_roll_and_not_without_a_key(window):
    header = window.roll_controls.header
    assert window.canvas.scale_mask() is None
    assert row_pixel(window, 77) == row_pixel(window, 76)          # F5 and E5: both white keys, no key
    header.set_key("G")
    assert window.canvas.scale_mask()[78] and not window.canvas.scale_mask()[77]
    assert row_pixel(window, 77) != row_pixel(window, 76)          # F natural is outside G major
    assert row_pixel(window, 79) == row_pixel(window, 76)          # G and E are in it
    header.set_key("No key")
    assert window.canvas.scale_mask() is None
    assert row_pixel(window, 77) == row_pixel(window, 76)


def test_drawing_or_clicking_a_note_auditions_it(window_factory):
    player = RecordingPlayer()
    window = window_factory(player=player)
    canvas = window.canvas
    canvas.snap_beats = 0.25
    window.piano_roll.horizontalScrollBar().setValue(0)
    point = canvas.point_at(canvas.piece.ticks_per_beat * 2, 64)
    point.setX(point.x() + 2)
    window.piano_roll.verticalScrollBar().setValue(round(canvas.pitch_to_y(64)) - 100)
    click(canvas, point)
    assert len(window.document.piece.notes) == 1
    piece, start = player.calls[-1][0], player.calls[-1][1]
    assert [n.pitch for n in piece.notes] == [64] and start == piece.notes[0].start
    assert piece.ticks_per_beat >= piece.notes[0].duration   # ticks, not time: a beat's audition at most
    click(canvas, point)                     # a click on the note hears it again (the audition replaced)
    assert len(player.calls) == 2
    drag(canvas, point, canvas.point_at(canvas.piece.ticks_per_beat * 2, 66) + QPoint(2, 0), steps=2)
    assert [n.pitch for n in player.calls[-1][0].notes] == [66]   # dragged up a tone: heard at its new pitch
    assert [n.pitch for n in window.document.piece.notes] == [66]
    player.calls.clear()
    player.stop()                            # the audition ended
    window.play()                            # while the piece itself plays, clicks are not auditioned
    calls = len(player.calls)
    click(canvas, point)
    assert len(player.calls) == calls
