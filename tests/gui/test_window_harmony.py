"""Harmonize, regenerate a region and write chorales from the window, with a tiny real harmony model
(composer.harmony.inference does the music; the window only collects choices and shows results)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("composer.harmony.inference")

from composer.music.notes import Note
from composer.harmony.grid import key_of_index, piece_key_index
from job_wait import run_job as _run

SHIPPED_CHORALE_MODEL = Path(__file__).resolve().parents[2] / "midi_data" / "models" / "chorale.pt"


def _short_melody(window, folk_file) -> None:
    """The first four bars of a real folk tune as the document."""
    window.open_file(folk_file)
    piece = window.document.piece
    notes = tuple(n for n in piece.notes if n.end <= 4 * piece.ticks_per_bar)
    window.document.apply(piece.replace(notes=notes), "Crop")


def test_harmonize_the_melody_then_use_the_result(harmony_window, qtbot, folk_file, tiny_harmony_model):
    window = harmony_window
    assert window.panel.harmony_model_path() == str(tiny_harmony_model.resolve())
    _short_melody(window, folk_file)
    melody = window.document.piece
    window.panel.harmony_box.count_spin.setValue(2)
    assert _run(qtbot, window, window.harmonize) == "succeeded"
    results = window.panel.results.variations()
    assert len(results) == 2 and results[0].label == "Harmonization 1"
    for result in results:
        piece = result.piece
        assert len(piece.voices) == 4
        assert [(n.start, n.end, n.pitch) for n in piece.voice_notes(0)] == \
               [(n.start, n.end, n.pitch) for n in melody.notes]         # the melody is the soprano, unchanged
        assert all(piece.voice_notes(v) for v in (1, 2, 3))
    assert window.use_variation(0)
    assert len(window.document.piece.voices) == 4
    window.undo_action.trigger()
    assert window.document.piece == melody


def test_regenerate_the_selected_region_in_the_ticked_voices(harmony_window, qtbot, chorale_file):
    window = harmony_window
    window.open_file(chorale_file)
    piece = window.document.piece
    bar = piece.ticks_per_bar
    canvas = window.canvas
    alto_in_bar_2 = [n for n in piece.voice_notes(1) if bar <= n.start and n.end <= 2 * bar]
    assert alto_in_bar_2
    canvas.selection = set(alto_in_bar_2)
    canvas.selectionChanged.emit(len(canvas.selection))
    assert window.panel.selected_voices() == [1]                     # ticked from the selection
    window.panel.voice_checks[2].setChecked(True)                    # and the tenor too
    start, end, _ = canvas.selected_region()
    window.panel.harmony_box.count_spin.setValue(2)
    assert _run(qtbot, window, window.regenerate_selection) == "succeeded"
    for result in window.panel.results.variations():
        new = result.piece
        assert result.label.startswith("Regenerated bars 2-2")
        for voice in (0, 3):                                         # untouched voices
            assert new.voice_notes(voice) == piece.voice_notes(voice)
        for voice in (1, 2):                                         # untouched outside the region
            assert [n for n in new.voice_notes(voice) if n.end <= start] == \
                   [n for n in piece.voice_notes(voice) if n.end <= start]


def test_regenerate_without_a_selection_says_what_to_do(harmony_window, chorale_file):
    harmony_window.open_file(chorale_file)
    assert not harmony_window.regenerate_selection()
    assert "select the notes" in harmony_window.last_message
    harmony_window.error_box.close()


def test_harmony_errors_reach_the_user(harmony_window, qtbot):
    window = harmony_window
    assert not window.harmonize()                                    # empty piece: said up front
    assert "no melody" in window.last_message
    window.error_box.close()
    tpb = window.document.piece.ticks_per_beat
    chord = (Note(0, tpb, 60), Note(0, tpb, 64), Note(tpb, 2 * tpb, 62))
    window.document.apply(window.document.piece.replace(notes=chord), "Chord")
    assert _run(qtbot, window, window.harmonize) == "failed"         # polyphonic: the library says why
    assert "polyphonic" in window.last_message.lower() or "one note at a time" in window.last_message.lower()
    window.error_box.close()


def test_new_chorale_writes_four_parts_in_the_chosen_key(harmony_window, qtbot):
    window = harmony_window
    window.panel.harmony_box.count_spin.setValue(1)
    window.panel.harmony_box.bars_spin.setValue(2)
    window.panel.key_combo.setCurrentText("Em")
    assert _run(qtbot, window, window.new_chorale) == "succeeded"
    (result,) = window.panel.results.variations()
    assert len(result.piece.voices) == 4 and result.piece.notes
    assert result.piece.key == "Em"


def test_harmonize_in_the_chosen_key(harmony_window, qtbot, folk_file):
    window = harmony_window
    _short_melody(window, folk_file)
    window.panel.key_combo.setCurrentText("D dorian")                  # told to the model as D minor
    assert _run(qtbot, window, window.harmonize) == "succeeded"
    assert window.last_message.startswith("Harmonization in Dm:")
    window.panel.key_combo.setCurrentText("Any key")                   # the melody's own key (estimated)
    own = key_of_index(piece_key_index(window.document.piece))
    assert _run(qtbot, window, window.harmonize) == "succeeded"
    assert window.last_message.startswith(f"Harmonization in {own}:")


def test_without_a_harmony_model_the_buttons_are_off(window):
    assert window.panel.harmony_model_path() is None
    assert not window.panel.harmonize_button.isEnabled() and not window.panel.chorale_button.isEnabled()
    tpb = window.document.piece.ticks_per_beat
    window.document.apply(window.document.piece.replace(notes=(Note(0, tpb, 60),)), "Draw note")
    assert not window.harmonize()
    assert "no 4-part harmony model" in window.last_message
    window.error_box.close()


@pytest.mark.skipif(not SHIPPED_CHORALE_MODEL.is_file(), reason="the shipped chorale.pt is not there yet")
def test_the_shipped_models_generate_and_harmonize(window_factory, qtbot, folk_file):
    window = window_factory(model_folders=[SHIPPED_CHORALE_MODEL.parent])
    labels = {window.panel.model_combo.itemText(i) for i in range(window.panel.model_combo.count())}
    assert "melody" in labels and window.panel.harmony_model_path() == str(SHIPPED_CHORALE_MODEL.resolve())
    window.panel.count_spin.setValue(2)
    window.panel.bars_spin.setValue(2)
    assert _run(qtbot, window, window.generate) == "succeeded"
    assert window.use_variation(0)
    assert _run(qtbot, window, window.harmonize) == "succeeded"
    assert all(len(v.piece.voices) == 4 for v in window.panel.results.latest())
