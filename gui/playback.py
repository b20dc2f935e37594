"""Playback of a piece through the built-in synthesizer and Qt Multimedia, with a moving playhead.

Use in the main window::

    player = Player(self)
    player.positionChanged.connect(piano_roll.set_playhead)   # tick, about 30 times a second
    player.stateChanged.connect(play_button.setChecked)       # True while playing
    player.message.connect(status_bar.showMessage)            # "No audio output device: ..."
    player.play(piece, start_tick=0, loop=False, tempo_factor=1.0)
    player.stop()

``play`` renders the piece with :func:`gui.synth.render` (from tick 0, at the tempo factor; a second
``play`` of the same piece reuses the audio), starts a ``QAudioSink`` that pulls 16-bit stereo PCM from
an in-memory device (which wraps around at the loop end), and moves the playhead from a timer that
reads the elapsed time (not the audio device, whose clock is not exposed uniformly).

Qt Multimedia is imported only when first needed, so ``import gui.playback`` always works. When it
cannot load (on Linux it needs the PulseAudio client library, ``libpulse.so.0``), or the machine has no
audio output, :meth:`Player.available` says why, and :meth:`Player.play` emits :attr:`Player.message`
and ``stateChanged(False)`` and returns; it never raises. With ``visual_fallback=True`` it instead still
runs the playhead silently after the message, so the user can follow the notes without sound.

Looping: the piece repeats from tick 0 once the bar in which its last note ends is over (the first
pass starts at ``start_tick``).
"""

from __future__ import annotations

import math
import time
from typing import Callable, Protocol

import numpy as np
from PySide6.QtCore import QIODevice, QObject, QTimer, Signal

from composer.notes import Piece
from gui import synth

POSITION_INTERVAL_MS = 33  # ~30 playhead updates a second
BYTES_PER_FRAME = 4         # 16-bit stereo
LIBPULSE_HINT = ("On Debian or Ubuntu install the PulseAudio client library (sudo apt-get install libpulse0), "
                 "then restart Composer.")


# -- timing (pure functions, shared with gui.midi_ports) ----------------------------------------------
def loop_end_tick(piece: Piece) -> int:
    """Where a looping piece wraps back to tick 0: the bar line after its last note (at least one bar)."""
    bar = piece.ticks_per_bar
    return max(1, math.ceil(piece.end / bar)) * bar


def playhead_tick(piece: Piece, elapsed: float, start_tick: int = 0, tempo_factor: float = 1.0,
                  loop_end: int | None = None) -> int:
    """The tick under the playhead ``elapsed`` wall-clock seconds after playing started.

    Args:
        piece: gives the tempo map.
        elapsed: seconds since play started.
        start_tick: where play started.
        tempo_factor: playback speed (2.0 = twice as fast).
        loop_end: wrap back to tick 0 on reaching this tick; None plays once and stops at the end.

    Returns:
        The tick, clamped to ``piece.end`` when not looping.
    """
    position = float(synth.seconds_at(piece, [start_tick])[0]) + max(0.0, elapsed) * tempo_factor
    if loop_end is not None:
        loop_seconds = float(synth.seconds_at(piece, [loop_end])[0])
        if loop_seconds > 0 and position >= loop_seconds:
            position = math.fmod(position, loop_seconds)
        return min(loop_end - 1, int(synth.tick_at_seconds(piece, position)))
    return min(piece.end, int(synth.tick_at_seconds(piece, position)))


# -- where the audio goes ------------------------------------------------------------------------------
class PcmSource(QIODevice):
    """A read-only device serving 16-bit stereo PCM from memory, optionally wrapping around.

    Args:
        pcm: the interleaved PCM bytes.
        start_byte: where reading begins.
        loop_end_byte: wrap to 0 when reading reaches it (None: end of data, then end of stream).
        parent: Qt parent.
    """

    def __init__(self, pcm: bytes, start_byte: int = 0, loop_end_byte: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pcm = pcm
        self._position = start_byte
        self._loop_end = loop_end_byte

    def isSequential(self) -> bool:  # noqa: N802 (Qt name)
        return True

    def bytesAvailable(self) -> int:  # noqa: N802
        if self._loop_end is not None:
            return 1 << 30
        return max(0, len(self._pcm) - self._position) + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:  # noqa: N802
        maxlen -= maxlen % BYTES_PER_FRAME
        if self._loop_end is None:
            chunk = self._pcm[self._position:self._position + maxlen]
            self._position += len(chunk)
            return chunk
        parts, wanted = [], maxlen
        while wanted > 0:
            if self._position >= self._loop_end:
                self._position = 0
            chunk = self._pcm[self._position:min(self._loop_end, self._position + wanted)]
            parts.append(chunk)
            self._position += len(chunk)
            wanted -= len(chunk)
        return b"".join(parts)

    def writeData(self, data: bytes, size: int = 0) -> int:  # noqa: N802
        return -1


class AudioOutput(Protocol):
    """Where :class:`Player` sends audio; :class:`QtAudioOutput` in the app, a fake in tests."""

    def available(self) -> tuple[bool, str]: ...

    def start(self, source: QIODevice, sample_rate: int) -> str | None:
        """Start pulling from ``source``; returns a user-facing error, or None when playing."""

    def stop(self) -> None: ...


class QtAudioOutput:
    """A ``QAudioSink`` on the default audio output, with Qt Multimedia loaded on first use."""

    def __init__(self) -> None:
        self._sink = None
        self._multimedia = None
        self._import_error: str | None = None

    def _load(self):
        if self._multimedia is None and self._import_error is None:
            try:
                from PySide6 import QtMultimedia
            except Exception as error:  # ImportError (libpulse.so.0 missing), or a broken plugin
                self._import_error = str(error) or type(error).__name__
            else:
                self._multimedia = QtMultimedia
        return self._multimedia

    def available(self) -> tuple[bool, str]:
        """(True, "") when there is an audio output; else (False, what is missing and how to fix it)."""
        multimedia = self._load()
        if multimedia is None:
            return False, f"Playback is off: Qt Multimedia could not load ({self._import_error}). {LIBPULSE_HINT}"
        try:
            outputs = multimedia.QMediaDevices.audioOutputs()
        except Exception as error:
            return False, f"Playback is off: the audio devices could not be listed ({error})."
        if not outputs:
            return False, "No audio output device: playback is off."
        return True, ""

    def start(self, source: QIODevice, sample_rate: int) -> str | None:
        multimedia = self._load()
        if multimedia is None:
            return self.available()[1]
        audio_format = multimedia.QAudioFormat()
        audio_format.setSampleRate(sample_rate)
        audio_format.setChannelCount(2)
        audio_format.setSampleFormat(multimedia.QAudioFormat.SampleFormat.Int16)
        device = multimedia.QMediaDevices.defaultAudioOutput()
        if device.isNull():
            return "No audio output device: playback is off."
        if not device.isFormatSupported(audio_format):
            return f"The audio device {device.description()} cannot play 16-bit stereo at {sample_rate} Hz."
        self._sink = multimedia.QAudioSink(device, audio_format)
        self._sink.start(source)
        if self._sink.error() != multimedia.QtAudio.Error.NoError:
            error = self._sink.error()
            self.stop()
            return f"The audio device {device.description()} failed to start ({error.name})."
        return None

    def stop(self) -> None:
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None


# -- the player ----------------------------------------------------------------------------------------
class Player(QObject):
    """Plays a piece through the built-in synthesizer; see the module docstring for its use.

    Args:
        parent: Qt parent.
        output: where audio goes (default: the machine's default audio output through Qt Multimedia).
        clock: seconds, monotonic (tests pass a fake).
        visual_fallback: when there is no audio, still run the playhead silently (after the message).
    """

    positionChanged = Signal(int)   # noqa: N815 (Qt naming) current tick of the piece being played
    stateChanged = Signal(bool)     # noqa: N815 True when playing starts, False when it stops
    message = Signal(str)           # a user-facing problem

    def __init__(self, parent: QObject | None = None, output: AudioOutput | None = None,
                 clock: Callable[[], float] = time.monotonic, visual_fallback: bool = False) -> None:
        super().__init__(parent)
        self._output = output if output is not None else QtAudioOutput()
        self._clock = clock
        self.visual_fallback = visual_fallback
        self._timer = QTimer(self)
        self._timer.setInterval(POSITION_INTERVAL_MS)
        self._timer.timeout.connect(self.update_position)
        self._playing = False
        self._audible = False
        self._source: PcmSource | None = None
        self._cache: tuple[tuple[Piece, float], bytes] | None = None
        self._piece: Piece | None = None
        self._started_at = 0.0
        self._start_tick = 0
        self._tempo_factor = 1.0
        self._loop_end: int | None = None
        self._duration = 0.0

    def available(self) -> tuple[bool, str]:
        """(can play audio, the reason when not)."""
        try:
            return self._output.available()
        except Exception as error:  # a broken audio stack must not take the app down
            return False, f"Playback is off: {error}"

    def is_playing(self) -> bool:
        """True between ``stateChanged(True)`` and ``stateChanged(False)`` (also when silent)."""
        return self._playing

    def is_audible(self) -> bool:
        """True while audio is actually going to a device (False during silent visual playback)."""
        return self._playing and self._audible

    def play(self, piece: Piece, start_tick: int = 0, loop: bool = False, tempo_factor: float = 1.0) -> None:
        """Start playing ``piece`` (stopping what was playing). Never raises: problems go to ``message``.

        Args:
            piece: what to play.
            start_tick: where to start (clamped into the piece).
            loop: repeat from tick 0 after the bar of the last note.
            tempo_factor: playback speed, > 0 (1.0 = the piece's own tempo).
        """
        self.stop()
        if not piece.notes:
            self._refuse("Nothing to play: the piece has no notes.")
            return
        if not tempo_factor > 0:
            self._refuse(f"The tempo factor must be positive, not {tempo_factor}.")
            return
        start_tick = min(max(0, int(start_tick)), piece.end)
        self._piece, self._start_tick, self._tempo_factor = piece, start_tick, float(tempo_factor)
        self._loop_end = loop_end_tick(piece) if loop else None
        ok, reason = self.available()
        problem = self._start_audio(piece, start_tick, tempo_factor) if ok else reason
        if problem is not None:
            self.message.emit(problem)
            if not self.visual_fallback:
                self.stateChanged.emit(False)
                return
            self._duration = float(np.diff(synth.seconds_at(piece, [start_tick, piece.end]))[0]) / tempo_factor
        self._audible = problem is None
        self._playing = True
        self._started_at = self._clock()
        self._timer.start()
        self.stateChanged.emit(True)
        self.positionChanged.emit(start_tick)

    def stop(self) -> None:
        """Stop playing; does nothing when stopped (safe to call any number of times)."""
        self._timer.stop()
        if self._audible:
            try:
                self._output.stop()
            except Exception as error:
                self.message.emit(f"The audio device did not stop cleanly: {error}")
        self._audible = False
        if self._source is not None:
            self._source.close()
            self._source.deleteLater()
            self._source = None
        if self._playing:
            self._playing = False
            self.stateChanged.emit(False)

    def update_position(self) -> None:
        """Emit the playhead's tick; stop at the end unless looping. Called by the timer (~30 Hz)."""
        if not self._playing or self._piece is None:
            return
        elapsed = self._clock() - self._started_at
        tick = playhead_tick(self._piece, elapsed, self._start_tick, self._tempo_factor, self._loop_end)
        self.positionChanged.emit(tick)
        if self._loop_end is None and elapsed >= self._duration:
            self.stop()

    # -- internals ---------------------------------------------------------------------------------
    def _refuse(self, text: str) -> None:
        self.message.emit(text)
        self.stateChanged.emit(False)

    def _pcm(self, piece: Piece, tempo_factor: float) -> bytes:
        """The piece rendered from tick 0 at ``tempo_factor``, as PCM (cached for the last piece)."""
        key = (piece, tempo_factor)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, synth.to_pcm16(synth.render(piece, synth.SAMPLE_RATE, tempo_factor)))
        return self._cache[1]

    def _start_audio(self, piece: Piece, start_tick: int, tempo_factor: float) -> str | None:
        """Render, wrap in a :class:`PcmSource` and start the output; a user-facing error or None."""
        try:
            pcm = self._pcm(piece, tempo_factor)
        except (ValueError, MemoryError) as error:
            return f"The piece could not be rendered: {error}"
        rate = synth.SAMPLE_RATE
        start_frame = int(round(float(synth.seconds_at(piece, [start_tick])[0]) / tempo_factor * rate))
        loop_end_byte = None
        if self._loop_end is not None:
            loop_frames = int(round(float(synth.seconds_at(piece, [self._loop_end])[0]) / tempo_factor * rate))
            loop_end_byte = loop_frames * BYTES_PER_FRAME
            if len(pcm) < loop_end_byte:
                pcm = pcm + bytes(loop_end_byte - len(pcm))  # silence up to the loop's bar line
        self._duration = (len(pcm) / BYTES_PER_FRAME - start_frame) / rate
        self._source = PcmSource(pcm, start_frame * BYTES_PER_FRAME, loop_end_byte, self)
        self._source.open(QIODevice.OpenModeFlag.ReadOnly)
        try:
            problem = self._output.start(self._source, rate)
        except Exception as error:
            problem = f"The audio device failed to start: {error}"
        if problem is not None:
            self._source.close()
            self._source = None
        return problem
