"""A stand-in for a player (the built-in synth's with an audio device, or MIDI out's) that keeps what it is asked
to play and signals as the real ones do: for tests that check what playback is given, on a machine without sound."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class RecordingPlayer(QObject):
    """Keeps every ``play`` call's arguments in ``calls``; ``available`` says an output is there."""

    positionChanged = Signal(int)
    stateChanged = Signal(bool)
    message = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []
        self.playing = False

    def available(self) -> tuple[bool, str]:
        return True, ""

    def play(self, *args) -> None:
        self.stop()
        self.calls.append(args)
        self.playing = True
        self.stateChanged.emit(True)

    def stop(self) -> None:
        if self.playing:
            self.playing = False
            self.stateChanged.emit(False)

    def is_playing(self) -> bool:
        return self.playing
