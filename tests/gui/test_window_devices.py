"""The window with its devices: MIDI out to a recording fake port, a fake MIDI keyboard, and the
training dialog doing a real tiny run whose model lands in the model picker.

Fakes stand in only for missing hardware (MIDI ports); the players, recorder and trainer are real.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
midi_ports = pytest.importorskip("gui.midi_ports")

import mido

from composer.melody.model import load_melody_model
from composer.music.notes import Note

TRAIN_TIMEOUT_MS = 90_000


class RecordingPort:
    """A MIDI output that keeps what it is sent."""

    def __init__(self, name: str) -> None:
        self.name, self.sent, self.closed = name, [], False

    def send(self, message: mido.Message) -> None:
        self.sent.append(message)

    def close(self) -> None:
        self.closed = True


class FakeKeyboard:
    """A MIDI input whose callback fires from a thread of its own, as rtmidi's does."""

    def __init__(self, name: str, callback) -> None:
        self.name, self.callback, self.closed = name, callback, False

    def press(self, message: mido.Message) -> None:
        thread = threading.Thread(target=self.callback, args=(message,))
        thread.start()
        thread.join()

    def close(self) -> None:
        self.closed = True


def _window_on_a_fake_port(window_factory):
    """A window playing through a real MidiOutPlayer to "Fake synth": (window, player, ports opened so far)."""
    ports: list[RecordingPort] = []
    player = midi_ports.MidiOutPlayer(open_port=lambda name: ports.append(RecordingPort(name)) or ports[-1])
    window = window_factory(midi_out=player)
    window.set_output_port("Fake synth")
    return window, player, ports


def _short_piece(window):
    piece = window.document.piece
    tpb = piece.ticks_per_beat
    notes = tuple(Note(i * tpb // 2, (i + 1) * tpb // 2, pitch) for i, pitch in enumerate((60, 64, 67, 72)))
    window.document.apply(piece.replace(notes=notes), "Draw notes")
    return notes


def test_playback_goes_to_a_midi_output_port(window_factory, qtbot):
    window, player, ports = _window_on_a_fake_port(window_factory)
    notes = _short_piece(window)
    window.tempo_spin.setValue(400)
    positions = []
    player.positionChanged.connect(positions.append)
    with qtbot.waitSignal(player.stateChanged, timeout=10_000, check_params_cb=lambda playing: not playing):
        window.play_action.trigger()
        assert window.play_action.isChecked()
    assert [p.name for p in ports] == ["Fake synth"] and ports[0].closed
    played = [m.note for m in ports[0].sent if m.type == "note_on" and m.velocity > 0]
    assert played == [n.pitch for n in notes]
    assert positions and not window.play_action.isChecked() and window.canvas.playhead is None


def test_stop_silences_the_port(window_factory, qtbot):
    window, player, ports = _window_on_a_fake_port(window_factory)
    _short_piece(window)
    window.tempo_spin.setValue(25)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: any(m.type == "note_on" for m in ports[0].sent), timeout=5000)
    window.play_action.trigger()                           # Space again: stop
    assert not player.is_playing() and ports[0].closed
    ons = sum(1 for m in ports[0].sent if m.type == "note_on" and m.velocity > 0)
    offs = sum(1 for m in ports[0].sent if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0))
    assert offs >= ons or any(m.type == "control_change" and m.control == 123 for m in ports[0].sent)


def test_recording_from_a_keyboard_adds_the_notes_as_one_undoable_step(window_factory, monkeypatch, qtbot):
    keyboards: list[FakeKeyboard] = []
    recorder = midi_ports.MidiRecorder(
        open_port=lambda name, callback: keyboards.append(FakeKeyboard(name, callback)) or keyboards[-1])
    monkeypatch.setattr(midi_ports, "input_names", lambda: (["Fake keys"], None))
    window = window_factory(recorder=recorder)
    window.record_action.trigger()
    assert window.record_action.isChecked() and keyboards[0].name == "Fake keys"
    for pitch in (62, 65):
        keyboards[0].press(mido.Message("note_on", note=pitch, velocity=80))
        qtbot.wait(30)
        keyboards[0].press(mido.Message("note_off", note=pitch))
    qtbot.waitUntil(lambda: len(window.recording.recorded) == 2, timeout=3000)
    window.record_action.trigger()                         # stop
    assert not window.record_action.isChecked()
    assert [n.pitch for n in window.document.piece.notes] == [62, 65]
    assert window.document.undo_stack.undoText() == "Record from keyboard"
    window.undo_action.trigger()
    assert window.document.piece.notes == ()


def test_training_dialog_trains_on_a_folder_and_the_model_joins_the_picker(window, gui_corpus, qtbot):
    train_dialog = pytest.importorskip("gui.train_dialog")
    dialog = window.train_dialog()
    assert dialog.isVisible()
    dialog.set_folder(gui_corpus)
    dialog.preset_combo.setCurrentIndex(list(train_dialog.PRESETS).index("Tiny (a quick test, seconds)"))
    dialog.epochs_spin.setValue(1)
    with qtbot.waitSignal(dialog.modelTrained, timeout=TRAIN_TIMEOUT_MS) as trained:
        assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TRAIN_TIMEOUT_MS)
    path = trained.args[0]
    load_melody_model(path)                                        # a real, loadable melody model
    assert window.panel.model_path() == str(Path(path).resolve())
    labels = [window.panel.model_combo.itemText(i) for i in range(window.panel.model_combo.count())]
    assert "tiny_melody" in labels and labels[-1] == "Add model file..."
    assert window.settings.value("train/folder", "", str) == str(gui_corpus)
    dialog.close()


def test_a_click_on_the_ruler_sets_where_playback_starts(window_factory, qtbot):
    from qt_mouse import click

    window, player, ports = _window_on_a_fake_port(window_factory)
    notes = _short_piece(window)
    window.tempo_spin.setValue(400)
    canvas = window.canvas
    tpb = window.document.piece.ticks_per_beat
    ruler_point = canvas.point_at(tpb + 5, 60)
    ruler_point.setY(canvas.visibleRegion().boundingRect().top() + 5)
    click(canvas, ruler_point)
    assert canvas.play_start == tpb and window.document.undo_stack.count() == 1   # not an edit
    with qtbot.waitSignal(player.stateChanged, timeout=10_000, check_params_cb=lambda playing: not playing):
        window.play_action.trigger()
    played = [m.note for m in ports[0].sent if m.type == "note_on" and m.velocity > 0]
    assert played == [n.pitch for n in notes if n.start >= tpb]


def test_refreshing_ports_lists_outputs_and_says_when_there_are_none(window, monkeypatch):
    monkeypatch.setattr(midi_ports, "output_names", lambda: (["Synth A", "DAW In"], None))
    window.refresh_ports_action.trigger()
    items = [window.output_combo.itemText(i) for i in range(window.output_combo.count())]
    assert items == ["Built-in synth", "Synth A", "DAW In"] and "Synth A" in window.last_message
    window.output_combo.setCurrentText("DAW In")
    monkeypatch.setattr(midi_ports, "output_names", lambda: ([], "no MIDI output ports"))
    window.refresh_ports_action.trigger()
    assert window.output_combo.count() == 1 and window.output_combo.currentText() == "Built-in synth"
    assert window.last_message == "No MIDI outputs: no MIDI output ports"


def test_a_tempo_change_while_playing_takes_effect_at_once_from_the_playhead(window_factory, qtbot):
    window, player, ports = _window_on_a_fake_port(window_factory)
    notes = _short_piece(window)                         # 4 notes of half a beat each
    window.tempo_spin.setValue(25)                        # about a second per note
    window.play_action.trigger()
    # the playhead (what the window shows, a position emitted at most ~33 ms ago) is inside the 2nd note
    qtbot.waitUntil(lambda: (window.canvas.playhead or 0) > notes[1].start, timeout=10_000)
    window.tempo_spin.setValue(400)                       # the rest goes by in a fraction of a second
    assert player.is_playing()
    qtbot.waitUntil(lambda: len(ports) == 2 and ports[1].closed and not player.is_playing(), timeout=5000)
    assert ports[0].closed
    replayed = [m.note for m in ports[1].sent if m.type == "note_on" and m.velocity > 0]
    # on from the playhead: the second note (still sounding, so it starts again at once), not from the top
    assert replayed in ([n.pitch for n in notes[1:]], [n.pitch for n in notes[2:]]), replayed
    assert not window.play_action.isChecked()


def test_turning_loop_on_while_playing_keeps_the_music_going(window_factory, qtbot):
    window, player, ports = _window_on_a_fake_port(window_factory)
    notes = _short_piece(window)
    window.loop_action.setChecked(False)
    window.tempo_spin.setValue(100)                       # 1 s for the whole piece
    window.play_action.trigger()
    qtbot.waitUntil(lambda: (window.canvas.playhead or 0) > notes[1].start, timeout=10_000)
    window.loop_action.trigger()                          # loop on, mid-play (past the first note)
    assert window.loop_action.isChecked() and player.is_playing()

    def first_notes() -> int:                             # on the port of the replay
        return sum(m.type == "note_on" and m.velocity > 0 and m.note == notes[0].pitch for m in ports[-1].sent)

    qtbot.waitUntil(lambda: first_notes() >= 1, timeout=10_000)   # it came round again (a 2 s bar)
    assert player.is_playing() and window.play_action.isChecked() and len(ports) == 2
    window.play_action.trigger()
    assert not player.is_playing()
