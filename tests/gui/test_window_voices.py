"""Issue 16, defects 1 and 3: the voices of a 4-part piece are never lost or rewritten by surprise.

- Continuing a 4-part piece with a melody model continues the melody (the top voice, or the voice of the
  selected notes) and keeps the other voices as they are; "Use this one" never drops a voice silently.
- A box selection selects only the notes it covers (not a neighbour it grazes), ticks only their
  accompanying voices (the Soprano's box stays as the user set it), and a regenerated result's preview
  shades the region that changed.

Real chorales from ``midi_data/``, the tiny melody and harmony models of the conftest.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from qt_mouse import drag

from job_wait import run_job as _run


def _continue(qtbot, window) -> None:
    panel = window.panel
    panel.continue_check.setChecked(True)
    panel.count_spin.setValue(2)
    panel.bars_spin.setValue(1)
    panel.random_seed_check.setChecked(False)
    panel.seed_spin.setValue(3)
    assert _run(qtbot, window, window.generate) == "succeeded"


def _timing(notes) -> list[tuple[int, int, int]]:
    return [(n.start, n.end, n.pitch) for n in notes]


# -- defect 1: continuing a 4-part piece ------------------------------------------------------------
def test_continuing_a_four_part_piece_continues_the_soprano_and_keeps_the_rest(window, qtbot, chorale_file):
    window.open_file(chorale_file)
    original = window.document.piece
    assert len(original.voices) == 4
    _continue(qtbot, window)
    assert "Continued the Soprano" in window.last_message
    assert "other voices are kept" in window.last_message and "Harmonize" in window.last_message
    for variation in window.panel.results.variations():
        piece = variation.piece
        assert piece.voices == original.voices and piece.ticks_per_beat == original.ticks_per_beat
        for voice in (1, 2, 3):                                    # alto, tenor, bass exactly as they were
            assert piece.voice_notes(voice) == original.voice_notes(voice)
        soprano = piece.voice_notes(0)
        assert soprano[:len(original.voice_notes(0))] == original.voice_notes(0)
        new = soprano[len(original.voice_notes(0)):]
        assert new and all(n.start >= original.end for n in new)   # the melody goes on after the piece
        assert variation.new_from >= original.end and variation.end_tick > original.end
    assert window.use_variation(0)
    assert len(window.document.piece.voices) == 4
    assert window.document.piece.voice_notes(3) == original.voice_notes(3)
    window.undo_action.trigger()
    assert window.document.piece == original


def test_the_selected_voice_is_the_one_continued(window, qtbot, chorale_file):
    window.open_file(chorale_file)
    original = window.document.piece
    canvas = window.canvas
    canvas.selection = set(original.voice_notes(2)[:3])             # some tenor notes
    canvas.selectionChanged.emit(len(canvas.selection))
    _continue(qtbot, window)
    assert "Continued the Tenor" in window.last_message
    for variation in window.panel.results.variations():
        piece = variation.piece
        for voice in (0, 1, 3):
            assert piece.voice_notes(voice) == original.voice_notes(voice)
        assert len(piece.voice_notes(2)) > len(original.voice_notes(2))


def test_using_a_result_with_fewer_voices_says_so(window, qtbot, chorale_file):
    window.open_file(chorale_file)
    window.panel.continue_check.setChecked(False)
    window.panel.count_spin.setValue(1)
    window.panel.bars_spin.setValue(1)
    assert _run(qtbot, window, window.generate) == "succeeded"
    assert window.use_variation(0)
    assert "replaces your piece's 4 voices" in window.last_message and "Undo" in window.last_message


# -- defect 3: box selection and the regenerated region ----------------------------------------------
def _alto_under_one_soprano(piece):
    """An alto note of a beat or more with one soprano note above it all along and nothing in between."""
    beat = piece.ticks_per_beat
    for alto in piece.voice_notes(1):
        if alto.duration < beat:
            continue
        above = [n for n in piece.voice_notes(0) if n.start < alto.end and n.end > alto.start]
        others = [n for v in (2, 3) for n in piece.voice_notes(v)
                  if n.start < alto.end and n.end > alto.start and n.pitch >= alto.pitch - 1]
        if len(above) == 1 and above[0].pitch > alto.pitch + 1 and not others:
            return alto, above[0]
    raise AssertionError("no such alto note")


def _band_grazing_the_soprano(window, alto, soprano):
    """Shift+drag a box over the alto note, from below it up to 3 px into the soprano note's row."""
    canvas = window.canvas
    quarter = alto.duration // 4
    top = round(canvas.pitch_to_y(soprano.pitch) + canvas.row_height) - 3
    bottom = round(canvas.pitch_to_y(alto.pitch - 1) + canvas.row_height / 2)
    start = QPoint(round(canvas.tick_to_x(alto.start + quarter)), top)
    end = QPoint(round(canvas.tick_to_x(alto.end - quarter)), bottom)
    assert QRectF(QRect(start, end).normalized()).intersects(canvas.note_rect(soprano))
    assert canvas.note_at(end) is None
    drag(canvas, end, start, Qt.ShiftModifier)                       # from empty space up to the soprano


def test_a_box_selects_the_notes_it_covers_and_never_ticks_the_soprano(window, chorale_file):
    window.open_file(chorale_file)
    piece = window.document.piece
    alto, soprano = _alto_under_one_soprano(piece)
    _band_grazing_the_soprano(window, alto, soprano)
    assert window.canvas.selection == {alto}                        # the grazed soprano note is not taken
    assert window.panel.selected_voices() == [1]
    window.canvas.selection = {alto, soprano}                        # even with a soprano note selected...
    window.canvas.selectionChanged.emit(2)
    assert window.panel.selected_voices() == [1]                     # ...the melody is not ticked for you
    window.panel.voice_checks[0].setChecked(True)                    # ticked by the user: it stays ticked
    window.canvas.selection = {alto}
    window.canvas.selectionChanged.emit(1)
    assert window.panel.selected_voices() == [0, 1]


def test_the_preview_of_a_regenerated_result_shades_the_changed_region(harmony_window, qtbot, chorale_file):
    window = harmony_window
    window.open_file(chorale_file)
    piece = window.document.piece
    bar = piece.ticks_per_bar
    canvas = window.canvas
    canvas.selection = {n for n in piece.voice_notes(1) if bar <= n.start and n.end <= 2 * bar}
    canvas.selectionChanged.emit(len(canvas.selection))
    start, end, _ = canvas.selected_region()
    window.panel.harmony_box.count_spin.setValue(1)
    assert _run(qtbot, window, window.regenerate_selection) == "succeeded"
    (result,) = window.panel.results.variations()
    assert canvas.read_only and canvas.piece == result.piece
    assert canvas.changed_region == (start, end)
    window.piano_roll.fit_width(4 * bar)
    visible = canvas.visibleRegion().boundingRect()
    y = visible.bottom() - 4                                          # low in the view, under the notes
    inside, outside = round(canvas.tick_to_x((start + end) // 2)), round(canvas.tick_to_x(end + bar // 2))
    assert canvas.note_at(QPoint(inside, y)) is None and canvas.note_at(QPoint(outside, y)) is None
    shaded = canvas.grab().toImage()
    canvas.changed_region = None
    plain = canvas.grab().toImage()
    assert shaded.pixelColor(inside, y) != plain.pixelColor(inside, y)     # the region is marked
    assert shaded.pixelColor(outside, y) == plain.pixelColor(outside, y)   # and nothing else
    window.panel.clear_preview()                                       # back to the piece: no mark
    assert canvas.changed_region is None
