"""The transport (gui/transport.py) and keyboard recording (gui/recording.py) on their own, without a window.

A fake player stands in for the audio output (it records what it is asked to play and emits the signals
the real players emit); the piano roll and the document are real.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QObject, Signal  # noqa: E402

from composer.music.notes import Note  # noqa: E402
from gui.document import Document  # noqa: E402
from gui.piano_roll import PianoRoll  # noqa: E402
from gui.recording import KeyboardRecording  # noqa: E402
from gui.transport import BUILT_IN_SYNTH, Transport  # noqa: E402


class FakePlayer(QObject):
    """Keeps what it was asked to play; emits the real players' signals when told to."""

    positionChanged = Signal(int)  # noqa: N815
    stateChanged = Signal(bool)  # noqa: N815
    message = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []
        self.playing = False

    def play(self, *args) -> None:
        self.calls.append(args)
        self.playing = True

    def stop(self) -> None:
        self.playing = False

    def is_playing(self) -> bool:
        return self.playing


class FakeMessages:
    last_message = ""

    def show_message(self, text: str) -> None:
        self.last_message = text

    def show_error(self, title: str, text: str) -> None:
        self.last_message = text


@pytest.fixture
def roll(qtbot) -> PianoRoll:
    roll = PianoRoll(Document())
    qtbot.addWidget(roll)
    return roll


def _draw_notes(document: Document) -> tuple[Note, ...]:
    piece = document.piece
    tpb = piece.ticks_per_beat
    notes = tuple(Note(i * tpb, (i + 1) * tpb, pitch) for i, pitch in enumerate((60, 62, 64, 65)))
    document.apply(piece.replace(notes=notes), "Draw notes")
    return notes


def test_play_sends_the_piece_with_tempo_and_loop_then_the_playhead_follows(roll):
    player, out = FakePlayer(), FakePlayer()
    transport = Transport(roll, FakeMessages(), player=player, midi_out=out)
    _draw_notes(roll.canvas.document)
    transport.tempo_spin.setValue(150)
    transport.loop_action.setChecked(True)
    transport.play_action.trigger()
    assert transport.play_action.isChecked()
    piece = roll.canvas.piece
    assert player.calls == [(piece, 0, True, 1.5)] and out.calls == []
    player.positionChanged.emit(480)
    assert roll.canvas.playhead == 480
    player.stateChanged.emit(False)                      # the player reached the end
    assert not transport.play_action.isChecked() and roll.canvas.playhead is None


def test_a_tempo_change_while_playing_plays_on_from_the_playhead(roll):
    player = FakePlayer()
    transport = Transport(roll, FakeMessages(), player=player, midi_out=FakePlayer())
    _draw_notes(roll.canvas.document)
    transport.play()
    player.positionChanged.emit(300)
    transport.tempo_spin.setValue(50)
    assert player.calls[-1][1:] == (300, False, 0.5)
    transport.stop()
    assert not player.is_playing() and not transport.play_action.isChecked()


def test_midi_ports_get_the_port_name_and_nothing_plays_without_notes(roll):
    player, out = FakePlayer(), FakePlayer()
    messages = FakeMessages()
    transport = Transport(roll, messages, player=player, midi_out=out)
    assert transport.output_combo.itemText(0) == BUILT_IN_SYNTH
    transport.set_output_port("Fake synth")
    transport.play_action.trigger()
    assert messages.last_message == "Nothing to play: the piece has no notes"
    assert not transport.play_action.isChecked() and out.calls == []
    _draw_notes(roll.canvas.document)
    roll.canvas.set_play_start(roll.canvas.piece.ticks_per_beat)
    transport.play()
    assert out.calls == [(roll.canvas.piece, "Fake synth", roll.canvas.piece.ticks_per_beat, False, 1.0)]


class FakeRecorder(QObject):
    noteRecorded = Signal(object)  # noqa: N815
    message = Signal(str)

    def __init__(self, fails: bool = False) -> None:
        super().__init__()
        self.fails, self.recording, self.notes, self.started = fails, False, [], None

    def start(self, port_name, ticks_per_beat, qpm, start, voice=0) -> bool:
        if self.fails:
            self.message.emit(f"cannot open {port_name}: busy")
            return False
        self.recording, self.started = True, (port_name, start, voice)
        return True

    def stop(self) -> list[Note]:
        self.recording = False
        return list(self.notes)

    def is_recording(self) -> bool:
        return self.recording


def test_recording_adds_the_take_as_one_undoable_step(roll):
    document = roll.canvas.document
    recorder, messages = FakeRecorder(), FakeMessages()
    recording = KeyboardRecording(document, roll.canvas, messages, recorder=recorder)
    counts: list[str] = []
    recording.statusChanged.connect(counts.append)
    assert recording.start_recording("Fake keys") and recording.record_action.isChecked()
    assert recorder.started == ("Fake keys", 0, 0)
    recorder.notes = [Note(0, 240, 60), Note(240, 480, 64)]
    for note in recorder.notes:
        recorder.noteRecorded.emit(note)
    assert counts == ["Recorded 1 notes", "Recorded 2 notes"] and recording.recorded == recorder.notes
    assert recording.stop_recording() == 2 and not recording.record_action.isChecked()
    assert document.piece.notes == tuple(recorder.notes)
    assert document.undo_stack.count() == 1 and messages.last_message == "Recorded 2 notes"


def test_a_port_that_cannot_open_is_a_message(roll):
    messages = FakeMessages()
    recorder = FakeRecorder(fails=True)
    recording = KeyboardRecording(roll.canvas.document, roll.canvas, messages, recorder=recorder)
    assert not recording.start_recording("Busy keys")
    assert not recording.record_action.isChecked() and messages.last_message == "cannot open Busy keys: busy"


def test_a_bpm_change_in_the_piece_bar_while_playing_changes_the_schedule_from_the_playhead(window_factory,
                                                                                           folk_file):
    from gui import midi_ports
    from recording_player import RecordingPlayer

    midi_out = RecordingPlayer()
    window = window_factory(player=RecordingPlayer(), midi_out=midi_out)
    window.set_output_port("Fake synth")
    _draw_notes(window.document)                                   # four quarter notes at 120 BPM
    tpb = window.document.piece.ticks_per_beat
    window.play_action.trigger()
    assert [t for t, m in midi_ports.schedule(midi_out.calls[-1][0]) if m.type == "note_on"] == [0.0, 0.5, 1.0, 1.5]
    midi_out.positionChanged.emit(tpb)                             # the playhead on beat 2
    window.roll_controls.header.bpm_spin.setValue(60.0)           # the Piece bar's BPM, while it plays
    piece, _port, start, _loop, _tempo = midi_out.calls[-1]
    assert len(midi_out.calls) == 2 and start == tpb and piece.qpm == 60.0
    assert [t for t, m in midi_ports.schedule(piece, start) if m.type == "note_on"] == [0.0, 1.0, 2.0]
    window.stop()
    window.roll_controls.header.bpm_spin.setValue(90.0)           # stopped: nothing starts
    assert len(midi_out.calls) == 2 and window.document.piece.qpm == 90.0
    window.play_action.trigger()
    assert window.open_file(folk_file)                             # another piece, while playing: not replayed
    assert len(midi_out.calls) == 3 and midi_out.calls[-1][0].qpm == 90.0
