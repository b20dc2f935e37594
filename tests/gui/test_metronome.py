"""The metronome and the count-in (gui/metronome.py, gui/loop_region.py, gui/transport.py) on the real window.

The clicks are notes of a drum voice in the take the output is given, so the test reads the MIDI schedule the
output would send (gui.midi_ports.schedule: seconds after the start, message): when each click is due, and which
are accented. The MIDI output is a recording stand-in; no audio timing is measured.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from composer.music.notes import Note, Piece, TimeSignature  # noqa: E402
from gui import midi_ports  # noqa: E402
from gui.metronome import ACCENT_PITCH, BEAT_PITCH, click_ticks  # noqa: E402
from recording_player import RecordingPlayer  # noqa: E402

DRUMS = 9   # General MIDI's drum channel (channel 10)


def _window_on_a_port(window_factory):
    midi_out = RecordingPlayer()
    window = window_factory(player=RecordingPlayer(), midi_out=midi_out)
    window.set_output_port("Fake synth")
    return window, midi_out


def _put(window, notes, metre=(4, 4)) -> Piece:
    piece = window.document.piece.replace(notes=tuple(notes), time_signatures=(TimeSignature(0, *metre),))
    window.document.apply(piece, "Draw notes")
    return window.document.piece


def _clicks(piece: Piece) -> list[tuple[float, int, int]]:
    """(seconds, pitch, velocity) of each click the output would send."""
    return [(round(t, 6), m.note, m.velocity) for t, m in midi_ports.schedule(piece)
            if m.type == "note_on" and m.channel == DRUMS]


def _music(piece: Piece) -> list[tuple[float, int]]:
    return [(round(t, 6), m.note) for t, m in midi_ports.schedule(piece) if m.type == "note_on" and m.channel != DRUMS]


def test_clicks_fall_on_the_beats_with_the_bar_accented(window_factory):
    window, midi_out = _window_on_a_port(window_factory)
    tpb = window.document.piece.ticks_per_beat
    _put(window, [Note(0, 8 * tpb, 60)])                         # two bars of 4/4 at 120 qpm: a beat is 0.5 s
    window.transport.metronome_action.setChecked(True)
    window.play_action.trigger()
    take = midi_out.calls[-1][0]
    clicks = _clicks(take)
    assert [t for t, _, _ in clicks] == [i * 0.5 for i in range(8)]
    assert [p for _, p, _ in clicks] == [ACCENT_PITCH, BEAT_PITCH, BEAT_PITCH, BEAT_PITCH] * 2
    assert clicks[0][2] > clicks[1][2]                             # the accent is louder too
    assert _music(take) == [(0.0, 60)]                             # the music is untouched
    assert take.end == window.document.piece.end                   # and no longer


def test_compound_metres_click_on_dotted_quarters_and_waltzes_on_quarters(window_factory):
    window, midi_out = _window_on_a_port(window_factory)
    tpb = window.document.piece.ticks_per_beat
    window.transport.metronome_action.setChecked(True)
    _put(window, [Note(0, 6 * tpb, 64)], metre=(6, 8))              # two bars of 6/8
    window.play_action.trigger()
    clicks = _clicks(midi_out.calls[-1][0])
    assert [t for t, _, _ in clicks] == [0.0, 0.75, 1.5, 2.25]      # a dotted quarter is 0.75 s at 120 qpm
    assert [p == ACCENT_PITCH for _, p, _ in clicks] == [True, False, True, False]
    window.stop()
    _put(window, [Note(0, 6 * tpb, 64)], metre=(3, 4))
    window.play_action.trigger()
    clicks = _clicks(midi_out.calls[-1][0])
    assert [p == ACCENT_PITCH for _, p, _ in clicks] == [True, False, False] * 2


def test_a_pickup_bar_clicks_the_tunes_beats_unaccented():
    tpb = 4
    piece = Piece((Note(0, 20, 60),), tpb, time_signatures=(TimeSignature(0, 1, 4), TimeSignature(tpb, 4, 4)))
    assert click_ticks(piece, 0, 20) == [(0, False), (4, True), (8, False), (12, False), (16, False)]


def test_count_in_delays_the_music_by_one_bar_and_the_playhead_waits_at_the_start(window_factory):
    window, midi_out = _window_on_a_port(window_factory)
    tpb = window.document.piece.ticks_per_beat
    bar = 4 * tpb
    _put(window, [Note(i * tpb, (i + 1) * tpb, 60 + i) for i in range(8)])
    window.transport.count_in_action.setChecked(True)
    window.canvas.set_play_start(bar)                              # from bar 2
    window.play_action.trigger()
    take = midi_out.calls[-1][0]
    assert [t for t, _, _ in _clicks(take)] == [0.0, 0.5, 1.0, 1.5]   # one bar of count-in...
    assert _music(take) == [(2.0 + i * 0.5, 64 + i) for i in range(4)]   # ...then the music from bar 2
    canvas = window.canvas
    midi_out.positionChanged.emit(tpb)                              # during the count-in
    assert canvas.playhead == bar
    midi_out.positionChanged.emit(bar + tpb)                         # one beat into the music
    assert canvas.playhead == bar + tpb
    window.tempo_spin.setValue(200)                                  # a replay from the playhead: no second count-in
    take = midi_out.calls[-1][0]
    assert _clicks(take) == [] and midi_out.calls[-1][2] == bar + tpb


def test_count_in_in_6_8_is_two_dotted_quarters_with_the_metronome_going_on(window_factory):
    window, midi_out = _window_on_a_port(window_factory)
    tpb = window.document.piece.ticks_per_beat
    _put(window, [Note(0, 6 * tpb, 64)], metre=(6, 8))
    window.transport.count_in_action.setChecked(True)
    window.transport.metronome_action.setChecked(True)
    window.play_action.trigger()
    take = midi_out.calls[-1][0]
    assert [t for t, _, _ in _clicks(take)] == [0.0, 0.75, 1.5, 2.25, 3.0, 3.75]
    assert _music(take) == [(1.5, 64)]


def test_the_metronome_is_remembered_and_in_the_play_menu_and_toolbar(window_factory):
    window = window_factory()
    transport = window.transport
    transport.metronome_action.setChecked(True)
    transport.count_in_action.setChecked(True)
    window.save_settings()
    again = window_factory()
    assert again.transport.metronome_action.isChecked() and again.transport.count_in_action.isChecked()
    play_menu = next(a.menu() for a in again.menuBar().actions() if a.text() == "&Play")
    assert {again.transport.metronome_action, again.transport.count_in_action} <= set(play_menu.actions())


def test_the_built_in_synth_sounds_the_clicks_on_the_beats(window_factory):
    import numpy as np

    from gui import synth
    from gui.loop_region import build_take

    window = window_factory()
    tpb = window.document.piece.ticks_per_beat
    piece = _put(window, [Note(0, 2 * tpb, 60)])                   # two beats: clicks at 0 and 0.5 s
    with_clicks, without = synth.render(build_take(piece, 0, metronome=True).piece), synth.render(piece)
    frames = min(len(with_clicks), len(without))
    difference = np.abs(with_clicks[:frames] - without[:frames]).max(axis=1)
    rate = synth.SAMPLE_RATE

    def loudest(seconds: float) -> float:
        return float(difference[int(seconds * rate):int((seconds + 0.05) * rate)].max())

    # (the additive fallback scales the whole mix to its peak, so the music differs a little all along)
    assert loudest(0.5) > 3 * loudest(0.3) and loudest(0.0) > loudest(0.5)   # the accent is the louder
