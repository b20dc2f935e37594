"""Issue 16 (noticed with defect 9): the built-in synth renders a take for playback off the GUI thread, so pressing
Play never freezes the window; a stop during the render plays nothing."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer  # noqa: E402

from composer.music.notes import Note  # noqa: E402
from gui import synth  # noqa: E402
from test_playback import RecordingOutput  # noqa: E402
from tests.waiting import scaled


def _renders_slowly(monkeypatch) -> tuple[threading.Event, list[threading.Thread]]:
    """gui.synth.render waits for the test's go-ahead (a long piece on a slow machine); where it ran is kept."""
    go, threads = threading.Event(), []
    real = synth.render

    def slow(*args, **kwargs):
        threads.append(threading.current_thread())
        go.wait(scaled(30))
        return real(*args, **kwargs)

    monkeypatch.setattr(synth, "render", slow)
    return go, threads


def _draw(window) -> None:
    tpb = window.document.piece.ticks_per_beat
    notes = tuple(Note(i * tpb, (i + 1) * tpb, 60 + i) for i in range(8))
    window.document.apply(window.document.piece.replace(notes=notes), "Draw")


def test_play_renders_on_another_thread_while_the_window_runs(window, qtbot, monkeypatch):
    output = RecordingOutput()                     # stands in for the sound card
    window.player._output = output
    go, threads = _renders_slowly(monkeypatch)
    _draw(window)
    window.play_action.trigger()                   # returns at once: the take renders elsewhere
    assert window.play_action.isChecked() and window.player.is_preparing() and output.wav_path is None
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=10_000)   # the window's thread runs while it renders
    timer.stop()
    assert threads and threads[0] is not threading.main_thread()
    assert output.wav_path is None and window.canvas.playhead == 0   # the playhead waits for the sound
    go.set()
    qtbot.waitUntil(window.player.is_audible, timeout=60_000)
    assert output.wav_path and output.start_seconds == 0.0
    window.stop()
    assert not window.player.is_playing() and output.stops == 1


def test_a_stop_while_the_take_renders_plays_nothing(window, qtbot, monkeypatch):
    output = RecordingOutput()
    window.player._output = output
    go, _threads = _renders_slowly(monkeypatch)
    _draw(window)
    window.play()
    assert window.player.is_preparing()
    window.stop()
    assert not window.player.is_playing() and not window.play_action.isChecked()
    go.set()
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name == "composer-render"], timeout=60_000)
    qtbot.wait(50)                                 # the render's result, queued to the window's thread, is dropped
    assert output.wav_path is None and not window.player.is_playing() and not window.play_action.isChecked()
