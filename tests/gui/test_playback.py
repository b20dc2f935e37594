"""Playback (gui/playback.py): no audio device, the playhead clock, looping, and the audio the device gets.

The machines that run these tests usually have no sound card (and often no libpulse, so Qt Multimedia
cannot even load): the real Player is tested there for a clear message and no crash. The audio path
itself is driven through a recording output that stands in for the missing sound card.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import wave  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from composer.music.notes import Note, Piece, TempoChange, TimeSignature  # noqa: E402
from gui import synth  # noqa: E402
from gui.playback import Player, QtAudioOutput, loop_end_tick, playhead_tick  # noqa: E402

RATE = synth.SAMPLE_RATE


def tune(qpm: float = 120.0, tpb: int = 4) -> Piece:
    """Three notes over 3 beats (1.5 s at 120 qpm) in a 4/4 bar."""
    notes = (Note(0, 4, 60), Note(4, 8, 64), Note(8, 12, 67))
    return Piece(notes, tpb, tempos=(TempoChange(0, qpm),), time_signatures=(TimeSignature(0, 4, 4),))


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoDeviceOutput:
    """What QtAudioOutput reports on a machine with Qt Multimedia but no audio output."""

    def __init__(self) -> None:
        self.started = 0

    def available(self) -> tuple[bool, str]:
        return False, "No audio output device: playback is off."

    def start(self, wav_path, start_seconds, loop):  # pragma: no cover - must never be reached
        self.started += 1
        return None


class RecordingOutput:
    """Stands in for a sound card: keeps the file it was asked to play; the test moves its position."""

    def __init__(self) -> None:
        self.wav_path: str | None = None
        self.start_seconds = -1.0
        self.loop = None
        self.heard: float | None = None   # what position() reports
        self.ended = False
        self.failure: str | None = None
        self.stops = 0

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, wav_path: str, start_seconds: float, loop: bool) -> str | None:
        self.wav_path, self.start_seconds, self.loop = wav_path, start_seconds, loop
        self.heard, self.ended = start_seconds, False
        return None

    def position(self) -> float | None:
        return self.heard

    def finished(self) -> bool:
        return self.ended

    def error(self) -> str | None:
        return self.failure

    def stop(self) -> None:
        self.stops += 1

    def samples(self) -> np.ndarray:
        """The WAV file it was given, as float samples [frames, 2]."""
        with wave.open(self.wav_path, "rb") as handle:
            assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (2, 2, RATE)
            pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
        return pcm.reshape(-1, 2) / 32767.0


def play_and_wait(qtbot, player: Player, *args, **kwargs) -> None:
    """``player.play(...)``, then wait while the take renders on its thread (the output starts after it)."""
    player.play(*args, **kwargs)
    qtbot.waitUntil(lambda: not player.is_preparing(), timeout=60_000)


def record_signals(player: Player) -> dict[str, list]:
    seen: dict[str, list] = {"state": [], "message": [], "position": []}
    player.stateChanged.connect(seen["state"].append)
    player.message.connect(seen["message"].append)
    player.positionChanged.connect(seen["position"].append)
    return seen


# -- this machine, as it is --------------------------------------------------------------------------
def test_the_real_player_without_audio_says_why_and_does_not_crash(qtbot):
    player = Player()
    ok, reason = player.available()
    if ok:
        pytest.skip("this machine has an audio output; the no-device path is covered with NoDeviceOutput")
    assert "libpulse0" in reason or "No audio output device" in reason
    seen = record_signals(player)
    player.play(tune())
    assert seen["message"] == [reason] and seen["state"] == [False]
    assert not player.is_playing()
    player.stop()
    player.stop()
    assert seen["state"] == [False]  # stopping a stopped player emits nothing


def test_no_audio_device_gives_a_message_and_a_consistent_state(qtbot):
    output = NoDeviceOutput()
    player = Player(output=output)
    seen = record_signals(player)
    with qtbot.waitSignal(player.message, timeout=1000):
        player.play(tune(), start_tick=4, loop=True, tempo_factor=1.5)
    assert seen["state"] == [False] and not player.is_playing() and output.started == 0
    assert player.available() == (False, "No audio output device: playback is off.")
    player.stop()
    assert seen["state"] == [False]


def test_nothing_to_play_and_bad_tempo_are_messages(qtbot):
    player = Player(output=RecordingOutput())
    seen = record_signals(player)
    player.play(Piece((), 4))
    player.play(tune(), tempo_factor=0.0)
    assert len(seen["message"]) == 2 and "no notes" in seen["message"][0] and "tempo" in seen["message"][1]
    assert seen["state"] == [False, False] and not player.is_playing()


# -- the playhead clock --------------------------------------------------------------------------------
def test_playhead_follows_start_tick_tempo_factor_and_tempo_changes():
    piece = tune()  # tpb 4 at 120 qpm: a tick is 0.125 s
    assert playhead_tick(piece, 0.0) == 0
    assert playhead_tick(piece, 0.5) == 4
    assert playhead_tick(piece, 0.5, start_tick=4) == 8
    assert playhead_tick(piece, 0.5, tempo_factor=2.0) == 8
    assert playhead_tick(piece, 60.0) == piece.end  # clamped at the end when not looping
    slower = piece.replace(tempos=(TempoChange(0, 120.0), TempoChange(4, 60.0)))
    assert playhead_tick(slower, 0.5 + 0.25) == 5  # 4 ticks in 0.5 s, then 0.25 s per tick


def test_looping_wraps_at_the_bar_line_after_the_last_note():
    piece = tune()  # ends at tick 12, inside the first 16-tick bar
    assert loop_end_tick(piece) == 16
    # one loop is 16 ticks = 2 s; start at tick 8 (1 s in)
    assert playhead_tick(piece, 0.9, start_tick=8, loop_end=16) == 15
    assert playhead_tick(piece, 1.0, start_tick=8, loop_end=16) == 0
    assert playhead_tick(piece, 1.5, start_tick=8, loop_end=16) == 4
    assert playhead_tick(piece, 5.5, start_tick=8, loop_end=16) == 4  # two more loops later
    assert playhead_tick(piece, 0.5, start_tick=8, tempo_factor=2.0, loop_end=16) == 0


def test_silent_visual_playback_moves_the_playhead_and_stops_at_the_end(qtbot):
    clock = FakeClock()
    player = Player(output=NoDeviceOutput(), clock=clock, visual_fallback=True)
    seen = record_signals(player)
    player.play(tune(), start_tick=4)
    assert seen["message"] and seen["state"] == [True] and player.is_playing() and not player.is_audible()
    clock.now += 0.5
    player.update_position()
    clock.now += 0.49
    player.update_position()
    assert seen["position"] == [4, 8, 11] and player.is_playing()
    clock.now += 0.02  # 1.01 s after the start: past the end (tick 12)
    player.update_position()
    assert seen["position"][-1] == 12 and seen["state"] == [True, False] and not player.is_playing()


def test_the_timer_drives_the_playhead_at_about_30_hz(qtbot):
    player = Player(output=NoDeviceOutput(), visual_fallback=True)
    seen = record_signals(player)
    with qtbot.waitSignal(player.stateChanged, timeout=5000, check_params_cb=lambda playing: not playing):
        player.play(tune(), tempo_factor=3.0)  # 1.5 s / 3 = 0.5 s of playing
    assert seen["position"] == sorted(seen["position"]) and seen["position"][-1] == 12
    assert len(seen["position"]) >= 6  # ~16 at 30 Hz; a busy machine may drop some


# -- the audio a device would get ------------------------------------------------------------------------
def test_the_device_gets_the_rendered_piece_and_the_playhead_follows_it(qtbot):
    output = RecordingOutput()
    clock = FakeClock()
    player = Player(output=output, clock=clock)
    seen = record_signals(player)
    piece = tune()
    play_and_wait(qtbot, player, piece, start_tick=4, tempo_factor=2.0)
    assert seen["state"] == [True] and player.is_audible() and output.loop is False
    assert output.start_seconds == pytest.approx(0.25)  # tick 4 at double speed
    expected = synth.render(piece, RATE, tempo_factor=2.0)
    assert np.abs(output.samples() - expected).max() < 1.0 / 32767  # the whole piece, 16-bit
    output.heard = 0.5  # the device may lag the wall clock: the playhead follows what is heard
    clock.now += 3.0
    player.update_position()
    assert seen["position"] == [4, 8] and player.is_playing()
    output.ended = True
    player.update_position()
    assert seen["position"][-1] == piece.end and seen["state"] == [True, False] and output.stops == 1
    player.stop()
    assert output.stops == 1


def test_looping_audio_is_one_bar_long_and_the_playhead_wraps(qtbot):
    output = RecordingOutput()
    player = Player(output=output)
    seen = record_signals(player)
    piece = tune()
    play_and_wait(qtbot, player, piece, start_tick=8, loop=True)
    assert output.loop is True and output.start_seconds == pytest.approx(1.0)
    bar = 2 * RATE  # one 4/4 bar at 120 qpm: 2 s, the 1.9 s of music (with its tail) then silence
    rendered = synth.render(piece, RATE)
    taken = output.samples()
    assert taken.shape == (bar, 2)
    assert np.abs(taken[:len(rendered)] - rendered).max() < 1.0 / 32767 and not taken[len(rendered):].any()
    output.heard = 0.25  # the second time round
    output.ended = True   # (a looping output never ends; even if it said so, looping goes on)
    player.update_position()
    assert seen["position"][-1] == 2 and player.is_playing()
    player.stop()
    assert not player.is_playing() and output.stops == 1


def test_an_output_failure_while_playing_is_a_message(qtbot):
    output = RecordingOutput()
    player = Player(output=output)
    seen = record_signals(player)
    play_and_wait(qtbot, player, tune())
    output.failure = "The audio device failed: device unplugged"
    player.update_position()
    assert seen["message"] == ["The audio device failed: device unplugged"] and seen["state"] == [True, False]


def test_replaying_the_same_piece_reuses_the_take(qtbot):
    output = RecordingOutput()
    player = Player(output=output)
    play_and_wait(qtbot, player, tune())
    first = output.wav_path
    play_and_wait(qtbot, player, tune(), start_tick=4)
    assert output.wav_path == first
    play_and_wait(qtbot, player, tune(), tempo_factor=1.5)
    assert output.wav_path != first and not os.path.exists(first)  # an old take is removed


def test_qt_output_without_multimedia_or_device_explains(qtbot):
    output = QtAudioOutput()
    ok, reason = output.available()
    if ok:
        pytest.skip("this machine has an audio output")
    assert output.start("/nonexistent.wav", 0.0, False) is not None
    assert output.position() is None and not output.finished()
    output.stop()


def test_without_qt_multimedia_the_reason_names_libpulse_and_the_fix(qtbot, monkeypatch):
    import sys

    import PySide6

    monkeypatch.delattr(PySide6, "QtMultimedia", raising=False)
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # as when libpulse.so.0 is missing
    player = Player()
    seen = record_signals(player)
    ok, reason = player.available()
    assert not ok and "Qt Multimedia could not load" in reason and "apt-get install libpulse0" in reason
    player.play(tune())
    assert seen["message"] == [reason] and seen["state"] == [False] and not player.is_playing()
