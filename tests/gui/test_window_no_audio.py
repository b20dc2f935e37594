"""Issue 16, defect 9: with no audio device, playback still moves the playhead (on a timer-driven clock) and the
status bar says, in one line, that there is no audio device."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from composer.music.notes import Note  # noqa: E402
from gui.playback import Player  # noqa: E402


class NoDeviceOutput:
    """What Qt Multimedia reports on a machine without a sound card."""

    def available(self) -> tuple[bool, str]:
        return False, "No audio output device: playback is off."

    def start(self, wav_path, start_seconds, loop):  # pragma: no cover - never reached without a device
        raise AssertionError("no device to start")

    def stop(self) -> None:  # pragma: no cover
        raise AssertionError("nothing was started")


def test_without_an_audio_device_the_playhead_moves_and_the_status_bar_says_so(window, qtbot):
    player = window.player
    assert isinstance(player, Player)
    player._output = NoDeviceOutput()                     # the real window's player, on a machine without sound
    tpb = window.document.piece.ticks_per_beat
    notes = tuple(Note(i * tpb, (i + 1) * tpb, 60 + i) for i in range(8))
    window.document.apply(window.document.piece.replace(notes=notes), "Draw")
    window.tempo_spin.setValue(400)                        # 8 beats at 4x: about a second
    window.play_action.trigger()
    assert window.play_action.isChecked() and player.is_playing() and not player.is_audible()
    message = window.last_message
    assert message.startswith("No audio device") and "\n" not in message
    qtbot.waitUntil(lambda: (window.canvas.playhead or 0) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: not window.play_action.isChecked(), timeout=20_000)   # it ends by itself
    assert window.canvas.playhead is None


def test_the_real_player_of_the_window_plays_silently_when_this_machine_has_no_audio(window, qtbot):
    ok, _reason = window.player.available()
    if ok:
        pytest.skip("this machine has an audio output")
    tpb = window.document.piece.ticks_per_beat
    window.document.apply(window.document.piece.replace(notes=(Note(0, 8 * tpb, 60),)), "Draw")
    window.play()
    assert window.player.is_playing() and window.last_message.startswith("No audio device")
    qtbot.waitUntil(lambda: (window.canvas.playhead or 0) > 0, timeout=10_000)
    window.stop()
    assert not window.player.is_playing() and window.canvas.playhead is None
