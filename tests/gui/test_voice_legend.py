"""Per-voice mute, solo and hide (gui/voice_mix.py, gui/voice_legend.py) on the real window: what the players are
given, what the roll paints and lets the mouse hit, and the legend starting afresh on New and Open."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from composer.music.midi_io import read_midi
from composer.music.notes import Note, Voice
from gui.midi_ports import MidiOutPlayer
from gui.roll_grid import voice_colour
from gui.voice_mix import HIDE, MUTE, SOLO, VoiceMix
from tests.gui.qt_mouse import click
from tests.gui.recording_player import RecordingPlayer


def two_voices(window) -> tuple[Note, ...]:
    """A Soprano over an Alto, four beats each, in the window's piece."""
    piece = window.document.piece
    beat = piece.ticks_per_beat
    notes = tuple(Note(i * beat, (i + 1) * beat, 72 + i, voice=0) for i in range(4)) + tuple(
        Note(i * beat, (i + 1) * beat, 60 + i, voice=1) for i in range(4))
    window.document.apply(piece.replace(notes=notes, voices=(Voice("Soprano"), Voice("Alto"))), "Draw notes")
    window.piano_roll.horizontalScrollBar().setValue(0)
    return window.document.piece.notes


def played_voices(player: RecordingPlayer) -> set[int]:
    return {n.voice for n in player.calls[-1][0].notes}


def test_the_legend_lists_the_voices_in_their_roll_colours(window):
    legend = window.voice_legend
    two_voices(window)
    assert legend.isVisible()
    assert {key for key in legend.buttons} == {(kind, v) for kind in (MUTE, SOLO, HIDE) for v in (0, 1)}
    assert [(swatch.styleSheet().split(";")[0], label.text()) for swatch, label in legend.swatches.values()] == [
        (f"background:{voice_colour(0).name()}", "Soprano"), (f"background:{voice_colour(1).name()}", "Alto")]


def test_mute_and_solo_change_what_the_built_in_synth_and_midi_out_are_given(window_factory):
    player, midi_out = RecordingPlayer(), RecordingPlayer()
    window = window_factory(player=player, midi_out=midi_out)
    notes = two_voices(window)
    buttons = window.voice_legend.buttons
    buttons[MUTE, 1].click()
    window.play()
    assert played_voices(player) == {0}
    assert player.calls[-1][0].notes == tuple(n for n in notes if n.voice == 0)
    assert window.document.piece.notes == notes          # muting is not an edit
    assert window.document.undo_stack.count() == 1
    window.stop()
    buttons[MUTE, 1].click()                               # unmuted
    buttons[SOLO, 1].click()
    window.set_output_port("Fake synth")
    window.play()
    assert midi_out.calls[-1][1] == "Fake synth" and played_voices(midi_out) == {1}
    buttons[SOLO, 0].click()                               # two soloed voices: both play, at once, from the playhead
    assert played_voices(midi_out) == {0, 1}
    buttons[MUTE, 0].click()                               # mute wins over solo
    assert played_voices(midi_out) == {1}
    window.stop()


class RecordingPort:
    """A MIDI output port that keeps what it is sent (the port a real MidiOutPlayer opens)."""

    def __init__(self, name: str) -> None:
        self.name, self.sent, self.closed = name, [], False

    def send(self, message) -> None:
        self.sent.append(message)

    def close(self) -> None:
        self.closed = True


def test_a_muted_voice_never_reaches_a_real_midi_output(window_factory, qtbot):
    ports: list[RecordingPort] = []
    midi_out = MidiOutPlayer(open_port=lambda name: ports.append(RecordingPort(name)) or ports[-1])
    window = window_factory(midi_out=midi_out)
    window.set_output_port("Fake synth")
    notes = two_voices(window)
    window.voice_legend.buttons[MUTE, 0].click()
    window.tempo_spin.setValue(400)
    with qtbot.waitSignal(midi_out.stateChanged, timeout=10_000, check_params_cb=lambda playing: not playing):
        window.play_action.trigger()
    played = sorted(m.note for m in ports[0].sent if m.type == "note_on" and m.velocity > 0)
    assert played == sorted(n.pitch for n in notes if n.voice == 1)


def test_nothing_plays_when_every_voice_is_muted(window_factory):
    player = RecordingPlayer()
    window = window_factory(player=player)
    two_voices(window)
    window.play()
    assert played_voices(player) == {0, 1}
    for voice in (0, 1):
        window.voice_legend.buttons[MUTE, voice].click()
    assert played_voices(player) == {1} or not player.calls[-1][0].notes
    assert not player.is_playing() and not window.play_action.isChecked()   # the last one muted: it stops
    calls = len(player.calls)
    window.play()
    assert len(player.calls) == calls and "muted" in window.last_message


def row_fill(window, note: Note):
    """The colour the roll shows in the middle of ``note``'s rectangle."""
    roll, canvas = window.piano_roll, window.canvas
    roll.verticalScrollBar().setValue(round(canvas.pitch_to_y(note.pitch) - roll.viewport().height() / 2))
    rect = canvas.note_rect(note)
    point = QPoint(round(rect.center().x()) - roll.horizontalScrollBar().value(),
                   round(rect.center().y()) - roll.verticalScrollBar().value())
    return roll.viewport().grab().toImage().pixelColor(point).name()


def test_hiding_a_voice_keeps_its_notes_but_does_not_paint_or_hit_them(window):
    notes = two_voices(window)
    soprano, alto = ([n for n in notes if n.voice == v][1] for v in (0, 1))
    canvas = window.canvas
    assert row_fill(window, alto) == voice_colour(1).name()
    window.voice_legend.buttons[HIDE, 1].click()
    assert window.document.piece.notes == notes          # still in the piece, and nothing to undo
    assert window.document.undo_stack.count() == 1
    assert row_fill(window, alto) != voice_colour(1).name()
    assert row_fill(window, soprano) == voice_colour(0).name()
    point = canvas.point_at(alto.start + 10, alto.pitch)
    assert canvas.note_at(point) is None
    click(canvas, point, Qt.RightButton)                   # a right click there deletes nothing
    assert window.document.piece.notes == notes
    canvas.select_all()
    assert canvas.selection == {n for n in notes if n.voice == 0}
    canvas.select(set())
    lane = window.piano_roll.velocity_lane                # the velocity lane leaves the hidden voice out too
    assert alto not in lane.notes_between(0, lane.width()) and soprano in lane.notes_between(0, lane.width())
    window.voice_legend.buttons[HIDE, 1].click()           # shown again
    assert canvas.note_at(point) == alto and row_fill(window, alto) == voice_colour(1).name()
    window.voice_legend.buttons[HIDE, 1].click()
    drawn = Note(8 * alto.duration, 9 * alto.duration, 50, voice=1)
    window.document.apply(window.document.piece.replace(notes=notes + (drawn,)), "Draw note")
    assert not window.voice_legend.buttons[HIDE, 1].isChecked()   # a note drawn into a hidden voice shows it
    assert canvas.note_at(point) == alto and row_fill(window, alto) == voice_colour(1).name()


def test_the_voice_mix_starts_afresh_on_new_and_open_but_not_on_save(window, chorale_file, tmp_path):
    two_voices(window)
    legend = window.voice_legend
    legend.buttons[MUTE, 1].click()
    legend.buttons[HIDE, 0].click()
    assert window.save_to(tmp_path / "two.mid")
    assert legend.mix.muted == {1} and legend.mix.hidden == {0}
    saved = read_midi(tmp_path / "two.mid")                # the file has every voice's notes
    assert sorted((n.start, n.pitch, n.voice) for n in saved.notes) == sorted(
        (n.start, n.pitch, n.voice) for n in window.document.piece.notes)
    assert window.open_file(chorale_file)
    assert not legend.mix.muted and not legend.mix.hidden and not window.canvas.hidden_voices
    assert len({v for kind, v in legend.buttons}) == 4 and not any(b.isChecked() for b in legend.buttons.values())
    legend.buttons[SOLO, 2].click()
    window.new_piece_dialog()
    assert not legend.mix.soloed and not legend.buttons[SOLO, 0].isChecked()


def test_the_mix_model_alone():
    mix = VoiceMix()
    seen = []
    mix.changed.connect(lambda: seen.append(1))
    mix.set(SOLO, 2, True)
    mix.set(SOLO, 2, True)                                 # no change, no signal
    assert [mix.is_audible(v) for v in range(4)] == [False, False, True, False] and len(seen) == 1
    mix.set(MUTE, 2, True)
    assert not mix.is_audible(2)
    mix.reset()
    assert all(mix.is_audible(v) for v in range(4)) and len(seen) == 3
