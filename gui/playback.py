"""Playback of a piece through the built-in synthesizer and Qt Multimedia, with a moving playhead.

Use in the main window::

    player = Player(self)
    player.positionChanged.connect(piano_roll.set_playhead)   # tick, about 30 times a second
    player.stateChanged.connect(play_button.setChecked)       # True while playing
    player.message.connect(status_bar.showMessage)            # "No audio output device: ..."
    player.play(piece, start_tick=0, loop=False, tempo_factor=1.0)
    player.stop()

``play`` renders the piece with :func:`gui.synth.render` (from tick 0, at the tempo factor) into a WAV
file in a private temporary folder (a second ``play`` of the same piece reuses it), on a thread of its own
(``composer-render``: FluidSynth and numpy give up the interpreter while they work, so the window stays
responsive; playing has begun, :meth:`Player.is_preparing`, and the playhead waits at the start), then plays it
with a ``QMediaPlayer`` from the start tick's time. The playhead follows the media player's position, which is
what is heard: audio devices can start hundreds of milliseconds late, and a wall clock would run ahead
and cut the end off. The media player also reports the end of the file, so the last release sounds.
(A ``QAudioSink`` fed from memory was tried first: on PulseAudio its start was erratic and its
processed-time counter did not advance, so neither its position nor its end could be trusted.)

Qt Multimedia is imported only when first needed, so ``import gui.playback`` always works. When it
cannot load (on Linux it needs the PulseAudio client library, ``libpulse.so.0``), or the machine has no
audio output, :meth:`Player.available` says why, and :meth:`Player.play` emits :attr:`Player.message`
and ``stateChanged(False)`` and returns; it never raises. With ``visual_fallback=True`` (as the app's
transport makes it) it instead runs the playhead silently on its own clock, after a one-line message
(:func:`silent_message`: no audio device, playing silently), so the user can follow the notes without sound.

Looping: the piece repeats from tick 0 once the bar in which its last note ends is over (the first
pass starts at ``start_tick``).
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal

from composer.music.notes import Piece
from gui import synth

POSITION_INTERVAL_MS = 33  # ~30 playhead updates a second
OUTPUT_GRACE_SECONDS = 5.0  # an audio output silent about its end is stopped this long after the music
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


def silent_message(reason: str) -> str:
    """The one line shown when there is no audio and the playhead runs silently (``reason``: why no audio)."""
    hint = f" {LIBPULSE_HINT}" if LIBPULSE_HINT in reason else ""
    return f"No audio device: playing silently (the playhead moves; choose a MIDI output to hear it).{hint}"


# -- where the audio goes ------------------------------------------------------------------------------
class AudioOutput(Protocol):
    """Where :class:`Player` sends audio: :class:`QtAudioOutput` in the app, a fake in tests."""

    def available(self) -> tuple[bool, str]:
        """(True, "") when audio can be played, else (False, what is missing and how to fix it)."""

    def start(self, wav_path: str, start_seconds: float, loop: bool) -> str | None:
        """Play a WAV file from ``start_seconds`` (over and over when ``loop``); a user-facing error or None."""

    def position(self) -> float | None:
        """Seconds into the file that the listener hears now; None when the output cannot tell."""

    def finished(self) -> bool:
        """True once a file played without looping has reached its end."""

    def error(self) -> str | None:
        """A user-facing error that happened while playing, or None."""

    def stop(self) -> None: ...


class QtAudioOutput:
    """A ``QMediaPlayer`` on the default audio output, playing a WAV file; Qt Multimedia loads on first use.

    The media player's position follows the audio actually played (the device may start late, which a
    wall clock would not see), and it reports the end of the file itself, so nothing is cut off.
    """

    def __init__(self) -> None:
        self._multimedia = None
        self._import_error: str | None = None
        self._player = None
        self._audio = None
        self._pending_seek: int | None = None
        self._ended = False
        self._error: str | None = None

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

    def start(self, wav_path: str, start_seconds: float, loop: bool) -> str | None:
        multimedia = self._load()
        if multimedia is None:
            return self.available()[1]
        device = multimedia.QMediaDevices.defaultAudioOutput()
        if device.isNull():
            return "No audio output device: playback is off."
        self.stop()
        self._ended, self._error = False, None
        self._audio = multimedia.QAudioOutput(device)
        self._player = multimedia.QMediaPlayer()
        self._player.setAudioOutput(self._audio)
        self._player.mediaStatusChanged.connect(self._status_changed)
        self._player.errorOccurred.connect(self._failed)
        self._player.setLoops(multimedia.QMediaPlayer.Loops.Infinite if loop else 1)
        self._pending_seek = int(round(start_seconds * 1000)) or None  # a seek waits until the file is loaded
        self._player.setSource(QUrl.fromLocalFile(wav_path))
        self._player.play()
        return self._error

    def _status_changed(self, status) -> None:
        statuses = self._multimedia.QMediaPlayer.MediaStatus
        if self._pending_seek is not None and status in (statuses.LoadedMedia, statuses.BufferedMedia):
            self._player.setPosition(self._pending_seek)
            self._pending_seek = None
        elif status == statuses.EndOfMedia:
            self._ended = True
        elif status == statuses.InvalidMedia:
            self._error = "The audio could not be played (the media backend refused it)."

    def _failed(self, _error, text: str) -> None:
        self._error = f"The audio device failed: {text}"

    def position(self) -> float | None:
        if self._player is None or self._pending_seek is not None:
            return None
        return self._player.position() / 1000.0

    def finished(self) -> bool:
        return self._ended

    def error(self) -> str | None:
        return self._error

    def stop(self) -> None:
        player, audio, self._player, self._audio = self._player, self._audio, None, None
        if player is not None:
            player.stop()
            player.setSource(QUrl())  # releases the file
            player.deleteLater()
        if audio is not None:
            audio.deleteLater()


# -- the player ----------------------------------------------------------------------------------------
class Player(QObject):
    """Plays a piece through the built-in synthesizer; see the module docstring for its use.

    Args:
        parent: Qt parent.
        output: where audio goes (default: the machine's default audio output through Qt Multimedia).
        clock: seconds, monotonic (tests pass a fake); moves the playhead when the output has no clock.
        visual_fallback: when there is no audio, still run the playhead silently (after the message).
    """

    positionChanged = Signal(int)   # noqa: N815 (Qt naming) current tick of the piece being played
    stateChanged = Signal(bool)     # noqa: N815 True when playing starts, False when it stops
    message = Signal(str)           # a user-facing problem
    _rendered = Signal(int, object)  # (play, the take's path or what went wrong), from the render thread

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
        self._preparing = False
        self._play_id = 0
        self._rendered.connect(self._take_ready, Qt.ConnectionType.QueuedConnection)
        self._files = _TakeFiles()
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
        self._duration = float(np.diff(synth.seconds_at(piece, [start_tick, piece.end]))[0]) / tempo_factor
        ok, reason = self.available()
        if not ok and not self.visual_fallback:
            self._refuse(reason)
            return
        self._play_id += 1
        self._playing = True
        self.stateChanged.emit(True)
        self.positionChanged.emit(start_tick)
        if not ok:
            self.message.emit(silent_message(reason))
            self._run_playhead(audible=False)
            return
        self._preparing = True   # the playhead waits at the start until the audio does
        threading.Thread(target=self._render_take, args=(self._play_id, piece, self._tempo_factor, self._loop_end),
                         name="composer-render", daemon=True).start()

    def is_preparing(self) -> bool:
        """True while the take is being rendered (playing has begun; the audio starts when it is ready)."""
        return self._playing and self._preparing

    def stop(self) -> None:
        """Stop playing; does nothing when stopped (safe to call any number of times). A take still being
        rendered is not played."""
        self._timer.stop()
        self._play_id += 1
        self._preparing = False
        if self._audible:
            try:
                self._output.stop()
            except Exception as error:
                self.message.emit(f"The audio device did not stop cleanly: {error}")
        self._audible = False
        if self._playing:
            self._playing = False
            self.stateChanged.emit(False)

    def update_position(self) -> None:
        """Emit the playhead's tick; stop at the end unless looping. Called by the timer (~30 Hz).

        With audio, the tick follows the output's own position (what is heard); silently, the clock.
        """
        if not self._playing or self._piece is None:
            return
        if self._audible:
            self._follow_output()
            return
        elapsed = self._clock() - self._started_at
        self.positionChanged.emit(playhead_tick(self._piece, elapsed, self._start_tick, self._tempo_factor,
                                                self._loop_end))
        if self._loop_end is None and elapsed >= self._duration:
            self.stop()

    # -- internals ---------------------------------------------------------------------------------
    def _follow_output(self) -> None:
        problem = self._output.error()
        if problem is not None:
            self.message.emit(problem)
            self.stop()
            return
        if self._loop_end is None and self._output.finished():
            self.positionChanged.emit(self._piece.end)
            self.stop()
            return
        seconds = self._output.position()
        if seconds is not None:  # seconds into the take, which starts at tick 0
            self.positionChanged.emit(playhead_tick(self._piece, seconds, 0, self._tempo_factor, self._loop_end))
        elif self._loop_end is None and self._clock() - self._started_at > self._duration + OUTPUT_GRACE_SECONDS:
            self.stop()  # an output that never reports its end must not play forever

    def _refuse(self, text: str) -> None:
        self.message.emit(text)
        self.stateChanged.emit(False)

    def _render_take(self, play_id: int, piece: Piece, tempo_factor: float, loop_end: int | None) -> None:
        """The render thread: render the take (from tick 0; the loop's length when looping) into its WAV file.
        The renderers (FluidSynth, numpy) give up the interpreter while they work, so the GUI thread runs on."""
        try:
            result: Path | str = self._files.take(piece, tempo_factor, loop_end)
        except (ValueError, MemoryError, OSError) as error:
            result = f"The piece could not be rendered for playback: {error}"
        self._rendered.emit(play_id, result)

    def _take_ready(self, play_id: int, result: Path | str) -> None:
        """Back on the GUI thread: start the output on the rendered take (unless stopped meanwhile)."""
        if play_id != self._play_id or not self._playing:
            return
        self._preparing = False
        problem = result if isinstance(result, str) else self._start_output(result)
        if problem is not None:
            if not self.visual_fallback:
                self.message.emit(problem)
                self._playing = False
                self.stateChanged.emit(False)
                return
            self.message.emit(silent_message(problem))
        self._run_playhead(audible=problem is None)

    def _start_output(self, path: Path) -> str | None:
        start_seconds = float(synth.seconds_at(self._piece, [self._start_tick])[0]) / self._tempo_factor
        try:
            return self._output.start(str(path), start_seconds, self._loop_end is not None)
        except Exception as error:
            return f"The audio device failed to start: {error}"

    def _run_playhead(self, audible: bool) -> None:
        """The sound (or silence) starts now: the playhead's clock and timer with it."""
        self._audible = audible
        self._started_at = self._clock()
        self._timer.start()


class _TakeFiles:
    """Rendered takes as WAV files in a private temporary folder; the last one is reused when it fits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()   # one render at a time (a play stopped and started again quickly)
        self._folder: tempfile.TemporaryDirectory | None = None
        self._last: tuple[tuple, Path] | None = None
        self._count = 0

    def take(self, piece: Piece, tempo_factor: float, loop_end: int | None) -> Path:
        """The WAV file of ``piece`` from tick 0 at ``tempo_factor``; exactly up to ``loop_end`` when given.

        Raises:
            OSError: the temporary file cannot be written.
        """
        with self._lock:
            return self._take(piece, tempo_factor, loop_end)

    def _take(self, piece: Piece, tempo_factor: float, loop_end: int | None) -> Path:
        key = (piece, tempo_factor, loop_end)
        if self._last is not None and self._last[0] == key and self._last[1].exists():
            return self._last[1]
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="composer-playback-")
        samples = synth.render(piece, synth.SAMPLE_RATE, tempo_factor)
        if loop_end is not None:
            frames = int(round(float(synth.seconds_at(piece, [loop_end])[0]) / tempo_factor * synth.SAMPLE_RATE))
            samples = np.pad(samples[:frames], ((0, max(0, frames - len(samples))), (0, 0)))
        self._count += 1
        path = Path(self._folder.name) / f"take-{self._count}.wav"
        synth.write_wav(samples, path)
        if self._last is not None:
            self._last[1].unlink(missing_ok=True)  # the output has let go of it (stop() came first)
        self._last = (key, path)
        return path
