"""The chord lane above the piano roll, on the real window: a chord result's chords, editing them (undoably,
into the Compose panel's chords field), refusing a bad symbol, estimated chords, and following zoom and scroll."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from composer.music.chords import parse_progression, progression_spans
from composer.music.notes import Note
from gui.results_list import Variation
from gui.roll_grid import KEY_WIDTH
from tests.gui.job_wait import run_job


def chord_result(window, progression: str = "C G Am F") -> Variation:
    """A result as a chord model gives it (its chords a bar each), listed and previewed in the window."""
    piece = window.document.piece
    tpb, bar = piece.ticks_per_beat, piece.ticks_per_bar
    notes = tuple(Note(i * bar, (i + 1) * bar, p, 80) for i, p in enumerate((60, 62, 64, 65)))
    spans = progression_spans(parse_progression(progression), 0, 4 * bar, bar, tpb)
    variation = Variation(piece.replace(notes=notes), "Variation 1", 4 * bar, 1, 0, tuple(spans))
    window.panel.set_chords(progression)
    window.panel.show_results([variation])
    window.panel.results.setCurrentRow(0)
    window.piano_roll.horizontalScrollBar().setValue(0)
    return variation


def symbols(lane) -> list[str]:
    return [c.symbol for c in lane.chords]


def double_click(widget, point) -> None:
    local = QPointF(point)
    for kind in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease, QEvent.MouseButtonDblClick,
                 QEvent.MouseButtonRelease):
        buttons = Qt.NoButton if kind == QEvent.MouseButtonRelease else Qt.LeftButton
        QApplication.sendEvent(widget, QMouseEvent(kind, local, widget.mapToGlobal(local), Qt.LeftButton, buttons,
                                                   Qt.NoModifier))


def type_symbol(qtbot, lane, index: int, text: str) -> None:
    """Double-click span ``index``, type ``text`` over its symbol and press Enter."""
    double_click(lane, lane.point_for(index))
    assert lane.editor.isVisible() and lane.editing == index
    lane.editor.selectAll()
    qtbot.keyClicks(lane.editor, text)
    qtbot.keyClick(lane.editor, Qt.Key_Return)


def test_a_chord_result_shows_its_chords_above_the_roll(window):
    chord_result(window)
    lane = window.piano_roll.chord_lane
    assert lane.isVisible() and lane.width() > KEY_WIDTH + 100
    assert lane.geometry().bottom() < window.piano_roll.viewport().geometry().top()   # above the grid
    assert symbols(lane) == ["C", "G", "Am", "F"]
    assert not any(c.estimated for c in lane.chords)
    window.panel.clear_preview()                       # back to the piece: it has no chords yet
    assert symbols(lane) == []


def test_editing_a_span_updates_the_chords_field_and_is_undoable(window, qtbot):
    chord_result(window)
    lane, stack = window.piano_roll.chord_lane, window.document.undo_stack
    steps = stack.count()
    type_symbol(qtbot, lane, 2, "dm7")
    assert symbols(lane) == ["C", "G", "Dm7", "F"] and not lane.editor.isVisible()
    assert window.panel.chords_edit.text() == "C G Dm7 F"
    assert stack.count() == steps + 1 and stack.undoText() == "Change chord to Dm7"
    request_chords = window.panel.chords_edit.text().split()
    assert [c.name for c, _ in parse_progression(request_chords)] == ["C", "G", "Dm7", "F"]
    stack.undo()
    assert symbols(lane) == ["C", "G", "Am", "F"] and window.panel.chords_edit.text() == "C G Am F"
    stack.redo()
    assert symbols(lane) == ["C", "G", "Dm7", "F"] and window.panel.chords_edit.text() == "C G Dm7 F"


def test_a_bad_symbol_is_refused_with_a_one_line_message(window, qtbot):
    chord_result(window)
    lane, stack = window.piano_roll.chord_lane, window.document.undo_stack
    steps = stack.count()
    type_symbol(qtbot, lane, 1, "Hx9")
    assert symbols(lane) == ["C", "G", "Am", "F"] and stack.count() == steps
    assert window.panel.chords_edit.text() == "C G Am F"
    assert window.last_message.startswith("Chord not changed") and "\n" not in window.last_message
    assert lane.editor.isVisible()                    # still open to fix the symbol; Esc cancels
    qtbot.keyClick(lane.editor, Qt.Key_Escape)
    assert not lane.editor.isVisible()
    assert not lane.edit_span(0, "C:2") and not lane.edit_span(0, "C G")   # one symbol, no length


def test_estimated_chords_are_shown_on_request_marked_until_edited(window, qtbot):
    piece = window.document.piece
    bar = piece.ticks_per_bar
    chords = ((48, 64, 67), (41, 65, 69), (43, 62, 71), (48, 64, 67))
    notes = tuple(Note(i * bar, (i + 1) * bar, p, 80, voice=v) for i, ch in enumerate(chords) for v, p in enumerate(ch))
    window.document.apply(piece.replace(notes=notes), "Draw chords")
    lane, stack = window.piano_roll.chord_lane, window.document.undo_stack
    action = lane.estimate_action
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert action in view_menu.actions()
    action.trigger()
    assert symbols(lane) == ["C", "F", "G", "C"]
    assert all(c.estimated for c in lane.chords)
    type_symbol(qtbot, lane, 3, "C7")
    assert [c.estimated for c in lane.chords] == [True, True, True, False]
    assert window.panel.chords_edit.text() == "C F G C7"
    stack.undo()
    stack.undo()                                       # the estimate is a step of its own
    assert symbols(lane) == []


def test_the_lane_follows_zoom_and_scroll(window):
    chord_result(window)
    lane, roll = window.piano_roll.chord_lane, window.piano_roll
    before = lane.point_for(2).x()
    roll.zoom_in()
    assert lane.point_for(2).x() > before
    assert abs(lane.tick_to_x(lane.chords[2].start) - (roll.canvas.tick_to_x(lane.chords[2].start)
                                                       - roll.horizontalScrollBar().value())) < 1
    roll.canvas.set_zoom(zoom_x=roll.canvas.zoom_x * 3)
    before = lane.span_rect(lane.chords[1]).left()
    roll.horizontalScrollBar().setValue(30)
    assert roll.horizontalScrollBar().value() == 30
    assert lane.span_rect(lane.chords[1]).left() == before - 30
    assert lane.span_at(lane.span_rect(lane.chords[1]).center().x()) == 1


def test_a_used_result_keeps_its_chords_and_a_new_piece_has_none(window, qtbot):
    chord_result(window)
    lane = window.piano_roll.chord_lane
    type_symbol(qtbot, lane, 0, "Em")
    window.results.use_selected_variation()
    assert not window.canvas.read_only
    assert symbols(lane) == ["Em", "G", "Am", "F"]
    window.document.reset(window.document.piece.replace(notes=()))    # as File > New does
    assert symbols(lane) == []


def test_estimated_spans_are_drawn_apart_from_edited_ones(window, qtbot):
    piece = window.document.piece
    bar = piece.ticks_per_bar
    notes = tuple(Note(i * bar, (i + 1) * bar, p, 80) for i, p in enumerate((60, 64)))
    window.document.apply(piece.replace(notes=notes), "Draw notes")
    window.piano_roll.horizontalScrollBar().setValue(0)
    lane = window.piano_roll.chord_lane
    lane.estimate_action.trigger()
    assert lane.edit_span(1, "G")
    image = lane.grab().toImage()
    fills = []
    for chord in lane.chords:
        rect = lane.span_rect(chord)
        fills.append(image.pixelColor(round(rect.right()) - 6, round(rect.top()) + 3).name())
    assert fills[0] != fills[1]


def test_a_generation_s_chords_reach_its_results(window):
    """A chord model's GenerationResult carries its chord spans: each listed variation shows them."""
    from composer.melody.generate import GenerationResult

    piece = window.document.piece
    bar = piece.ticks_per_bar
    spans = progression_spans(parse_progression("Dm G7 C"), 0, 3 * bar, bar, piece.ticks_per_beat)
    pieces = [piece.replace(notes=(Note(0, bar, 62 + i, 80),)) for i in range(2)]
    result = GenerationResult(pieces, seed=5, primer_ticks=0, length_ticks=3 * bar, seconds=0.1, chord_spans=spans)
    window.generate_job._show_generated(result, "", "chord model")
    lane = window.piano_roll.chord_lane
    for row in (0, 1):
        window.panel.results.setCurrentRow(row)
        assert window.canvas.read_only and symbols(lane) == ["Dm", "G7", "C"]


def test_a_real_chord_generation_shows_its_chords_and_an_edit_steers_the_next(window_factory, tiny_chord_model,
                                                                              qtbot):
    window = window_factory(model_folders=[tiny_chord_model.parent])
    panel, lane = window.panel, window.piano_roll.chord_lane
    panel.count_spin.setValue(1)
    panel.bars_spin.setValue(4)
    panel.chords_edit.setText("C G Am F")
    assert run_job(qtbot, window, window.generate) == "succeeded"
    panel.results.setCurrentRow(0)
    assert window.canvas.read_only and symbols(lane) == ["C", "G", "Am", "F"]
    type_symbol(qtbot, lane, 3, "G7")
    assert panel.chords_edit.text() == "C G Am G7"
    assert panel.request().chords == ("C", "G", "Am", "G7")
    assert run_job(qtbot, window, window.generate) == "succeeded"
    panel.results.setCurrentRow(0)                     # the newest run's result
    assert symbols(lane) == ["C", "G", "Am", "G7"]
