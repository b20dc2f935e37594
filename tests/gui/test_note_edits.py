"""Duplicate, Transpose and Quantize (gui/note_edits.py, the helpers of gui/commands.py) on the real window: each
changes the selected notes as a DAW would, is one undoable step, and undo gives back exactly the piece before."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from composer.music.notes import Note
from gui.commands import duplicate_offset, quantized_note


def put_notes(window, notes: tuple[Note, ...], select: bool = True) -> tuple[Note, ...]:
    """Make ``notes`` the window's piece (one step) and select them."""
    window.document.apply(window.document.piece.replace(notes=notes), "Draw notes")
    if select:
        window.canvas.select(set(window.document.piece.notes))
    return window.document.piece.notes


def check_undo(window, before, after) -> None:
    """One undo gives back ``before`` exactly; redo gives ``after``."""
    stack = window.document.undo_stack
    stack.undo()
    assert window.document.piece == before
    stack.redo()
    assert window.document.piece == after


def test_duplicate_copies_the_selection_right_after_itself(window):
    beat = window.document.piece.ticks_per_beat            # 480; Snap 1/16 is 120 ticks
    put_notes(window, (Note(0, beat, 60), Note(beat, 2 * beat, 62), Note(0, 2 * beat, 48, voice=0)))
    window.canvas.select({n for n in window.document.piece.notes if n.pitch in (60, 62)})
    before = window.document.piece
    window.note_edits.duplicate_action.trigger()
    after = window.document.piece
    assert window.document.undo_stack.undoText() == "Duplicate notes"
    copies = sorted((n.start, n.end, n.pitch) for n in after.notes if n not in before.notes)
    assert copies == [(2 * beat, 3 * beat, 60), (3 * beat, 4 * beat, 62)]
    assert set(before.notes) <= set(after.notes) and len(after.notes) == 5
    assert {(n.start, n.pitch) for n in window.canvas.selection} == {(2 * beat, 60), (3 * beat, 62)}
    check_undo(window, before, after)
    assert duplicate_offset([Note(10, 250, 60)], 120) == 240   # the span rounded up to the grid


def test_transpose_moves_the_selection_by_semitones_and_octaves_inside_midi(window, qtbot):
    beat = window.document.piece.ticks_per_beat
    put_notes(window, (Note(0, beat, 60), Note(beat, 2 * beat, 64)))
    start = window.document.piece
    up, down, octave_up, octave_down = window.note_edits.transpose_actions
    up.trigger()
    assert sorted(n.pitch for n in window.document.piece.notes) == [61, 65]
    assert window.document.undo_stack.undoText() == "Transpose notes"
    check_undo(window, start, window.document.piece)
    window.canvas.select(set(window.document.piece.notes))   # an undone edit's notes leave the selection
    octave_down.trigger()
    down.trigger()
    assert sorted(n.pitch for n in window.document.piece.notes) == [48, 52]
    octave_up.trigger()
    assert sorted(n.pitch for n in window.document.piece.notes) == [60, 64]
    assert [n.start for n in sorted(window.document.piece.notes)] == [0, beat]   # times untouched
    for _ in range(4):
        window.document.undo_stack.undo()
    assert window.document.piece == start
    put_notes(window, (Note(0, beat, 120), Note(0, beat, 100)))
    high = window.document.piece
    octave_up.trigger()                                    # 132 is no MIDI pitch: refused, nothing changes
    assert window.document.piece == high and "highest or lowest" in window.last_message
    up.trigger()
    assert sorted(n.pitch for n in window.document.piece.notes) == [101, 121]


def test_quantize_moves_starts_and_ends_to_the_grid(window):
    put_notes(window, (Note(110, 350, 60), Note(470, 500, 62), Note(240, 480, 64)))
    window.snap_combo.setCurrentText("1/8")                # 240 ticks
    before = window.document.piece
    window.note_edits.quantize_action.trigger()
    after = window.document.piece
    assert sorted((n.start, n.end, n.pitch) for n in after.notes) == [(0, 240, 60), (240, 480, 64), (480, 720, 62)]
    assert window.document.undo_stack.undoText() == "Quantize notes"
    check_undo(window, before, after)
    steps = window.document.undo_stack.count()
    window.note_edits.quantize_action.trigger()            # already on the grid: no new step
    assert window.document.undo_stack.count() == steps and window.document.piece == after
    assert quantized_note(Note(100, 130, 60), 120) == Note(120, 240, 60)   # never shorter than a step


def test_the_shortcuts_work_in_the_piano_roll(window, qtbot):
    beat = window.document.piece.ticks_per_beat
    put_notes(window, (Note(10, beat + 20, 60),))
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.waitUntil(lambda: window.canvas.hasFocus(), timeout=5000)
    QTest.keyClick(window.canvas, Qt.Key_Up)
    assert [n.pitch for n in window.document.piece.notes] == [61]
    QTest.keyClick(window.canvas, Qt.Key_Down, Qt.ShiftModifier)
    assert [n.pitch for n in window.document.piece.notes] == [49]
    QTest.keyClick(window.canvas, Qt.Key_Q)
    assert [(n.start, n.end) for n in window.document.piece.notes] == [(0, beat)]
    QTest.keyClick(window.canvas, Qt.Key_D, Qt.ControlModifier)
    assert [(n.start, n.pitch) for n in window.document.piece.notes] == [(0, 49), (beat, 49)]
    labels = [window.document.undo_stack.text(i) for i in range(window.document.undo_stack.count())]
    assert labels[-4:] == ["Transpose notes", "Transpose notes", "Quantize notes", "Duplicate notes"]


def test_the_edit_menu_lists_the_operations_with_their_shortcuts(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    shortcuts = {a.text(): a.shortcut().toString() for a in menu.actions() if not a.isSeparator()}
    assert shortcuts["D&uplicate notes"] == "Ctrl+D" and shortcuts["&Quantize notes"] == "Q"
    assert shortcuts["Transpose &up"] == "Up" and shortcuts["Transpose down an oc&tave"] == "Shift+Down"


def test_without_a_selection_the_operations_are_off_and_the_arrows_scroll(window, qtbot):
    put_notes(window, (Note(0, 480, 60),), select=False)
    edits = window.note_edits
    operations = (edits.duplicate_action, edits.quantize_action, *edits.transpose_actions)
    assert not any(action.isEnabled() for action in operations)
    steps = window.document.undo_stack.count()
    assert not edits.duplicate() and "select some notes" in window.last_message
    assert window.document.undo_stack.count() == steps
    window.canvas.select_all()
    assert all(action.isEnabled() for action in operations)
    window.canvas.select(set())
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.waitUntil(lambda: window.canvas.hasFocus(), timeout=5000)
    bar = window.piano_roll.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    top = bar.value()
    QTest.keyClick(window.canvas, Qt.Key_Up)               # no selection: the arrow scrolls the roll
    assert bar.value() < top and window.document.undo_stack.count() == steps
