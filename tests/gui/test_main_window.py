"""The real main window, offscreen: files, generation, results, harmony, playback, models, about box.

A tiny melody model really trained on real folk tunes (see conftest) does the generating; files come
from ``midi_data/``. Modal dialogs are bypassed through the window's own methods (``open_file``,
``save_to``...); everything behind them is the real code.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

import mido
import pretty_midi
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from composer.music.analysis import estimate_key
from composer.music.midi_io import read_midi
from composer.music.notes import quantize
from gui.generate_panel import KEYS
from job_wait import JOB_TIMEOUT_MS, run_job as _run
from qt_mouse import click


def _generate(qtbot, window, count=3, bars=2, seed=5) -> str:
    window.panel.count_spin.setValue(count)
    window.panel.bars_spin.setValue(bars)
    window.panel.random_seed_check.setChecked(seed is None)
    if seed is not None:
        window.panel.seed_spin.setValue(seed)
    return _run(qtbot, window, window.generate)


# -- files ---------------------------------------------------------------------------------------------
def test_open_a_midi_file_shows_its_notes(window, folk_file):
    assert window.open_file(folk_file)
    assert window.document.piece.notes == read_midi(folk_file).notes
    assert window.document.path == Path(folk_file) and not window.document.dirty
    assert folk_file.name in window.windowTitle()
    assert window.settings.recent_files()[0] == str(folk_file.resolve())
    assert [a.text() for a in window.recent_menu.actions()] == [folk_file.name]


def test_open_one_track_of_a_chorale(window, chorale_file):
    full = read_midi(chorale_file)
    assert len(full.voices) == 4
    assert window.open_file(chorale_file, voices=[2])
    piece = window.document.piece
    assert len(piece.voices) == 1 and piece.voices[0] == full.voices[2]
    assert [(n.start, n.pitch) for n in piece.notes] == [(n.start, n.pitch) for n in full.voice_notes(2)]
    assert window.open_file(chorale_file)                       # all tracks
    assert len(window.document.piece.voices) == 4
    assert window.voice_combo.count() == 5                      # four voices and "New voice"


def test_a_bad_file_shows_the_error_and_changes_nothing(window, folk_file, tmp_path):
    window.open_file(folk_file)
    before = window.document.piece
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    assert not window.open_file(bad)
    assert "broken.mid" in window.last_message
    assert window.error_box.isVisible() and window.error_box.text() == window.last_message
    assert window.document.piece is before and window.document.path == Path(folk_file)
    window.error_box.close()


def test_edit_undo_then_save_and_read_back_with_three_readers(window, folk_file, tmp_path):
    window.open_file(folk_file)
    original = window.document.piece
    canvas = window.canvas
    first = original.notes[0]
    click(canvas, canvas.point_at(first.start + 1, first.pitch), Qt.RightButton)   # delete the first note
    assert window.document.piece.notes == original.notes[1:] and window.document.dirty
    window.undo_action.trigger()
    assert window.document.piece == original
    window.redo_action.trigger()
    out = tmp_path / "edited.mid"
    assert window.save_to(out)
    assert not window.document.dirty and window.document.path == out
    back = read_midi(out)
    expected = original.notes[1:]
    assert [(n.start, n.end, n.pitch) for n in back.notes] == [(n.start, n.end, n.pitch) for n in expected]
    midi = mido.MidiFile(out)
    onsets = [m.note for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert sorted(onsets) == sorted(n.pitch for n in expected)
    pm = pretty_midi.PrettyMIDI(str(out))
    assert len(pm.instruments[0].notes) == len(expected)
    assert abs(pm.instruments[0].notes[0].start - original.seconds(expected[0].start)) < 1e-3


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")  # Qt 6 has no other constructor
def test_dropping_a_midi_file_opens_it(window, folk_file, qtbot):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(folk_file))])
    # Qt delivers a drop only inside a real drag session, so the window's handlers are called directly.
    enter = QDragEnterEvent(QPoint(200, 200), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(QDropEvent(QPointF(200, 200), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier))
    qtbot.waitUntil(lambda: window.document.path == Path(folk_file), timeout=5000)
    assert window.document.piece.notes == read_midi(folk_file).notes
    text = QMimeData()
    text.setText("not a file")
    refused = QDragEnterEvent(QPoint(200, 200), Qt.CopyAction, text, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(refused)
    assert not refused.isAccepted()


def test_export_wav(window, folk_file, tmp_path, qtbot):
    pytest.importorskip("gui.synth")
    import wave

    window.open_file(folk_file)
    out = tmp_path / "tune.wav"
    assert _run(qtbot, window, lambda: window.export_wav_to(out)) == "succeeded"  # rendered in a child process
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2 and wav.getsampwidth() == 2
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds >= window.document.piece.seconds(window.document.piece.end) * 0.95


# -- generation and results ------------------------------------------------------------------------------
def test_generate_variations_preview_and_use_one_undoably(window, qtbot, tiny_melody_model):
    assert window.panel.model_path() == str(tiny_melody_model.path.resolve())
    assert _generate(qtbot, window, count=3, bars=2) == "succeeded"
    results = window.panel.results
    assert results.count() == 3 and results.currentRow() == 0
    variations = results.variations()
    assert all(v.piece.notes for v in variations)
    assert all(v.end_tick == 2 * v.piece.ticks_per_bar for v in variations)
    first_label = results.item(0).text()
    assert first_label.startswith(f"Variation 1  ({len(variations[0].piece.notes)} notes, sounds in ")
    assert first_label.endswith(f"{estimate_key(variations[0].piece).key})")
    assert window.canvas.read_only and window.canvas.piece == variations[0].piece    # previewed
    results.setCurrentRow(1)
    assert window.canvas.piece == variations[1].piece and window.preview_banner.isVisible()
    before = window.document.piece
    assert window.use_selected_variation()
    assert window.document.piece == variations[1].piece and not window.canvas.read_only
    assert window.document.undo_stack.undoText() == "Use Variation 2"
    window.undo_action.trigger()
    assert window.document.piece == before
    # same seed, same settings: the same music
    assert _generate(qtbot, window, count=3, bars=2) == "succeeded"
    assert [v.piece for v in results.latest()] == [v.piece for v in variations]
    assert results.variations()[3:] == variations and results.group_count() == 2   # the first run is kept


def test_a_random_seed_is_shown_so_a_result_can_be_made_again(window, qtbot):
    assert _generate(qtbot, window, count=2, bars=2, seed=None) == "succeeded"
    first = [v.piece for v in window.panel.results.variations()]
    used = window.panel.results.variation(0).seed
    assert window.panel.seed_spin.value() == used and f"seed {used}" in window.last_message
    window.panel.random_seed_check.setChecked(False)                 # keep the seed shown
    assert _run(qtbot, window, window.generate) == "succeeded"
    assert [v.piece for v in window.panel.results.latest()] == first


def test_the_time_choice_is_greyed_while_continuing_a_piece(window):
    """A primer keeps its own metre, so the panel's Time (for new music) does not pretend to apply."""
    window.panel.continue_check.setChecked(False)
    assert window.panel.time_combo.isEnabled()
    window.panel.continue_check.setChecked(True)
    assert not window.panel.time_combo.isEnabled()
    assert "its own time signature" in window.panel.time_combo.toolTip()
    window.panel.continue_check.setChecked(False)
    assert window.panel.time_combo.isEnabled() and "new music" in window.panel.time_combo.toolTip()


def test_generate_in_a_key_and_continue_from_the_piece(window, qtbot, folk_file):
    window.open_file(folk_file)
    window.panel.key_combo.setCurrentText("G")
    window.panel.continue_check.setChecked(True)
    assert _generate(qtbot, window, count=2, bars=1) == "succeeded"
    primer = quantize(window.document.piece, 12)
    for variation in window.panel.results.variations():
        piece = variation.piece
        new = [n for n in piece.notes if n.start >= primer.end]
        assert new, "the continuation has new notes"
        assert all(n.pitch % 12 in {7, 9, 11, 0, 2, 4, 6} for n in new)
        assert piece.notes[:len(primer.notes)] == primer.notes


def test_generate_a_form_in_a_metre_from_the_compose_panel(window, qtbot):
    window.panel.form_combo.setCurrentText("AABB")
    window.panel.time_combo.setCurrentText("3/4")
    request = window.panel.request()
    assert (request.form, request.time_signature, request.cadence) == ("AABB", "3/4", True)
    assert _generate(qtbot, window, count=4, bars=8) == "succeeded"
    repeats = 0
    for variation in window.panel.results.variations():
        piece = variation.piece
        assert (piece.time_signatures[0].numerator, piece.time_signatures[0].denominator) == (3, 4)
        assert piece.end <= 8 * 36                       # eight 3/4 bars at 12 ticks a beat, not a tick more
        first_bar = [(n.start, n.pitch) for n in piece.notes if n.start < 36]
        third_bar = [(n.start - 72, n.pitch) for n in piece.notes if 72 <= n.start < 108]
        repeats += bool(first_bar) and first_bar[0] == third_bar[0]   # the second A starts as the first did
    assert repeats >= 3


def test_generation_runs_off_the_gui_thread_and_can_be_cancelled(window, qtbot):
    window.panel.count_spin.setValue(16)
    window.panel.bars_spin.setValue(64)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    progress = []
    window.panel.progress_bar.valueChanged.connect(progress.append)
    with qtbot.waitSignal(window.jobFinished, timeout=JOB_TIMEOUT_MS) as blocker:
        assert window.generate()
        assert not window.generate_action.isEnabled() and window.panel.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: len(progress) >= 3, timeout=JOB_TIMEOUT_MS)
        qtbot.wait(100)                                # the event loop keeps running meanwhile
        window.cancel_job()
    timer.stop()
    assert blocker.args == ["cancelled"]
    assert len(ticks) >= 5
    assert window.panel.generate_button.isEnabled() and window.worker is None
    assert "cancelled" in window.last_message


def test_a_variation_drags_out_as_a_midi_file(window, qtbot):
    _generate(qtbot, window, count=2, bars=2)
    results = window.panel.results
    data = results.mimeData([results.item(1)])
    (url,) = data.urls()
    path = Path(url.toLocalFile())
    assert path.suffix == ".mid" and path.is_file()
    back = read_midi(path)
    variation = results.variation(1)
    scale = back.ticks_per_beat // variation.piece.ticks_per_beat
    assert [(n.start, n.pitch) for n in back.notes] == [(n.start * scale, n.pitch) for n in variation.piece.notes]
    assert len(mido.MidiFile(path).tracks) == 2


def test_generation_error_is_shown(window_factory, tmp_path, qtbot):
    fake = tmp_path / "models"
    fake.mkdir()
    window = window_factory(model_folders=[fake])
    assert window.panel.model_path() is None
    assert not window.generate()
    assert "no melody model" in window.last_message


def test_add_a_model_file_and_refuse_a_bad_one(window_factory, tiny_melody_model, tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    window = window_factory(model_folders=[empty])
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    assert not window.add_model(bad)
    assert "bad.pt" in window.last_message
    window.error_box.close()
    assert window.add_model(tiny_melody_model.path)
    assert window.panel.model_path() == str(tiny_melody_model.path.resolve())
    assert window.settings.extra_models() == [str(tiny_melody_model.path.resolve())]


def test_settings_are_remembered(window_factory, tmp_path):
    first = window_factory()
    first.panel.count_spin.setValue(5)
    first.panel.key_combo.setCurrentText("Dm")
    first.panel.form_combo.setCurrentText("AABA")
    first.tempo_spin.setValue(80)
    first.close()
    second = window_factory()
    assert second.panel.count_spin.value() == 5
    assert second.panel.key_combo.currentText() == "Dm" and "Dm" in KEYS
    assert second.tempo_spin.value() == 80
    assert second.panel.form_combo.currentData() == "AABA"


def test_about_box_shows_the_models_recipe(window):
    dialog = window.about_dialog()
    text = dialog.browser.toPlainText()
    assert "tiny_melody.pt" in text and "hidden_size 32" in text and "perplexity" in text
    dialog.close()


def test_shortcuts(window):
    shortcuts = {a.shortcut().toString() for a in window.actions()}
    for key in ("Ctrl+O", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+Z", "Ctrl+Y", "Ctrl+G", "Ctrl+H", "Space", "Del",
                "Ctrl+=", "Ctrl+-", "Ctrl+E"):
        assert key in shortcuts or any(key in [s.toString() for s in a.shortcuts()] for a in window.actions()), key
    assert all(w.toolTip() for w in (window.panel.count_spin, window.panel.bars_spin, window.panel.model_combo,
                                     window.panel.temperature_spin, window.panel.top_p_spin, window.tempo_spin,
                                     window.output_combo, window.snap_combo))


# -- playback and devices ----------------------------------------------------------------------------------
def test_playback_without_an_audio_device_says_so(window, folk_file, qtbot):
    pytest.importorskip("gui.playback")
    if window.player.available()[0]:
        pytest.skip("this machine has an audio device")
    window.open_file(folk_file)
    window.play_action.trigger()                    # plays silently: the playhead moves (issue 16, defect 9)
    assert window.last_message.startswith("No audio device") and window.player.is_playing()
    assert window.play_action.isChecked() and not window.player.is_audible()
    window.play_action.trigger()
    assert not window.player.is_playing()
    window.play_action.trigger()
    window.stop()
    assert not window.play_action.isChecked()


def test_recording_without_a_keyboard_says_so(window, monkeypatch):
    midi_ports = pytest.importorskip("gui.midi_ports")
    monkeypatch.setattr(midi_ports, "input_names", lambda: ([], "no MIDI input ports"))
    window.record_action.trigger()
    assert not window.record_action.isChecked()
    assert "No MIDI keyboard" in window.last_message


def test_chord_models_get_a_chords_field_that_reaches_the_generator(window_factory, tiny_chord_model, qtbot):
    window = window_factory(model_folders=[tiny_chord_model.parent])
    panel = window.panel
    assert panel.chords_supported and not panel.chords_edit.isHidden()
    panel.chords_edit.setText("C G Am F")
    assert panel.request().chords == ("C", "G", "Am", "F")
    assert _generate(qtbot, window, count=2, bars=4) == "succeeded"
    assert window.panel.results.count() == 2
    panel.chords_edit.setText("C Hmaj9")
    assert not window.generate()
    assert "Hmaj9" in window.last_message
    window.error_box.close()


def test_melody_models_without_chords_hide_the_field(window):
    assert not window.panel.chords_supported and window.panel.chords_edit.isHidden()
    window.panel.chords_edit.setText("C G")
    assert window.panel.request().chords is None
