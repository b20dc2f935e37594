"""MIDI ports: play a piece to an external synth or DAW, and record notes from a MIDI keyboard.

Use in the main window::

    names, reason = output_names()          # ([], "No MIDI output ports found ...") on a bare machine
    midi_out = MidiOutPlayer(self)
    midi_out.positionChanged.connect(piano_roll.set_playhead)
    midi_out.stateChanged.connect(play_button.setChecked)
    midi_out.message.connect(status_bar.showMessage)
    midi_out.play(piece, names[0], start_tick=0, loop=False, tempo_factor=1.0)
    midi_out.stop()                         # note-offs for what sounds, all-notes-off, port closed

    recorder = MidiRecorder(self)
    recorder.noteRecorded.connect(document.add_recorded_note)  # one Note as each key is released
    recorder.message.connect(status_bar.showMessage)
    if recorder.start(input_name, ticks_per_beat=piece.ticks_per_beat, qpm=piece.qpm, start_tick=0):
        ...
    notes = recorder.stop()                 # every note of the take, held keys closed at the stop

Ports are opened through mido (python-rtmidi). On a machine without a MIDI system (no ALSA sequencer,
as on servers and CI) listing ports fails inside rtmidi; :func:`output_names` and :func:`input_names`
turn that into an empty list and a reason, never an exception.

Output is timed by a precise single-shot ``QTimer`` on the GUI thread that wakes for the next message
(at least every 33 ms, to move the playhead): no thread touches the port but the GUI thread. Each voice
plays on the channel :func:`composer.music.midi_io.write_midi` gives it (drums on 10), with a program change
at the start. Input arrives on rtmidi's thread; the callback only queues the message with its arrival
time and signals the GUI thread, which pairs note-ons with note-offs into :class:`~composer.music.notes.Note`.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from typing import Callable

import mido
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from composer.music.midi_io import _channels as voice_channels  # the channel mapping of written MIDI files
from composer.music.notes import Note, Piece
from gui import synth
from gui.playback import POSITION_INTERVAL_MS, loop_end_tick, playhead_tick

ALL_NOTES_OFF = 123  # MIDI controller number


def _names(lister: Callable[[], list[str]], kind: str) -> tuple[list[str], str | None]:
    try:
        names = list(lister())
    except Exception as error:  # rtmidi raises its own SystemError when there is no ALSA sequencer
        return [], f"No MIDI {kind} ports: the MIDI system is not available on this machine ({error})."
    if not names:
        return [], f"No MIDI {kind} ports found: connect a device, or start a synth or DAW that offers one."
    return names, None


def output_names() -> tuple[list[str], str | None]:
    """The MIDI output ports, and a reason when there are none (never raises)."""
    return _names(mido.get_output_names, "output")


def input_names() -> tuple[list[str], str | None]:
    """The MIDI input ports, and a reason when there are none (never raises)."""
    return _names(mido.get_input_names, "input")


def schedule(piece: Piece, start_tick: int = 0, tempo_factor: float = 1.0,
             programs: bool = True) -> list[tuple[float, mido.Message]]:
    """One pass of a piece as timed MIDI messages.

    Args:
        piece: what to play.
        start_tick: where the pass starts; notes still sounding there start at once.
        tempo_factor: playback speed.
        programs: begin with a program change per (non-drum) voice.

    Returns:
        (seconds after the pass starts, message), in time order; at equal times program changes
        first, then note-offs, then note-ons.
    """
    channels = voice_channels(piece.voices)
    origin = float(synth.seconds_at(piece, [start_tick])[0])
    events: list[tuple[float, int, int, mido.Message]] = []
    if programs:
        for index, voice in enumerate(piece.voices):
            if not voice.is_drum:
                events.append((0.0, 0, index, mido.Message("program_change", channel=channels[index],
                                                            program=voice.program)))
    notes = [n for n in piece.notes if n.end > start_tick]
    onsets = synth.seconds_at(piece, [max(n.start, start_tick) for n in notes])
    releases = synth.seconds_at(piece, [n.end for n in notes])
    for order, (note, on, off) in enumerate(zip(notes, onsets, releases)):
        channel = channels[note.voice] if note.voice < len(channels) else 0
        velocity = min(127, max(1, note.velocity))
        events.append(((on - origin) / tempo_factor, 2, order,
                       mido.Message("note_on", channel=channel, note=note.pitch, velocity=velocity)))
        events.append(((off - origin) / tempo_factor, 1, order,
                       mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
    events.sort(key=lambda event: event[:3])
    return [(seconds, message) for seconds, _, _, message in events]


class MidiOutPlayer(QObject):
    """Plays a piece to a MIDI output port; see the module docstring for its use.

    Args:
        parent: Qt parent.
        open_port: opens an output by name (tests pass a recording fake).
        clock: seconds, monotonic.
    """

    positionChanged = Signal(int)  # noqa: N815 (Qt naming)
    stateChanged = Signal(bool)    # noqa: N815
    message = Signal(str)

    def __init__(self, parent: QObject | None = None, open_port: Callable = mido.open_output,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._open_port = open_port
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._pump)
        self._port = None
        self._piece: Piece | None = None
        self._events: list[tuple[float, mido.Message]] = []
        self._next = 0
        self._pass_start = 0.0
        self._pass_end = 0.0
        self._started_at = 0.0
        self._start_tick = 0
        self._tempo_factor = 1.0
        self._loop_end: int | None = None
        self._sounding: set[tuple[int, int]] = set()
        self._channels: set[int] = set()
        self._last_position_at = -1.0

    def is_playing(self) -> bool:
        return self._port is not None

    def play(self, piece: Piece, port_name: str, start_tick: int = 0, loop: bool = False,
             tempo_factor: float = 1.0) -> None:
        """Play ``piece`` to the output ``port_name`` (stopping what was playing). Never raises.

        Args:
            piece: what to play.
            port_name: a name from :func:`output_names`.
            start_tick: where to start (clamped into the piece).
            loop: repeat from tick 0 after the bar of the last note.
            tempo_factor: playback speed, > 0.
        """
        self.stop()
        problem = None if piece.notes else "Nothing to play: the piece has no notes."
        if problem is None and not tempo_factor > 0:
            problem = f"The tempo factor must be positive, not {tempo_factor}."
        if problem is None and not port_name:
            problem = output_names()[1] or "Choose a MIDI output port first."
        if problem is None:
            try:
                self._port = self._open_port(port_name)
            except Exception as error:
                problem = f"Cannot open the MIDI output {port_name!r}: {error}"
        if problem is not None:
            self.message.emit(problem)
            self.stateChanged.emit(False)
            return
        self._piece, self._tempo_factor = piece, float(tempo_factor)
        self._start_tick = min(max(0, int(start_tick)), piece.end)
        self._loop_end = loop_end_tick(piece) if loop else None
        self._begin_pass(schedule(piece, self._start_tick, tempo_factor), 0.0, self._start_tick)
        self._started_at = self._clock()
        self._last_position_at = -1.0
        self.stateChanged.emit(True)
        self._pump()

    def stop(self) -> None:
        """Stop: note-offs for sounding notes, all-notes-off on every channel used, port closed.
        Does nothing when stopped."""
        self._timer.stop()
        port, self._port = self._port, None
        if port is None:
            return
        try:
            for channel, pitch in sorted(self._sounding):
                port.send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
            for channel in sorted(self._channels):
                port.send(mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0))
        except Exception as error:
            self.message.emit(f"The MIDI output failed while stopping: {error}")
        finally:
            self._sounding.clear()
            self._channels.clear()
            try:
                port.close()
            except Exception:
                pass
        self.stateChanged.emit(False)

    # -- internals ---------------------------------------------------------------------------------
    def _begin_pass(self, events: list[tuple[float, mido.Message]], at: float, from_tick: int) -> None:
        """Queue one pass of the piece, starting ``at`` seconds after play began."""
        self._events, self._next, self._pass_start = events, 0, at
        if self._loop_end is not None:
            span = synth.seconds_at(self._piece, [from_tick, self._loop_end])
            self._pass_end = at + float(span[1] - span[0]) / self._tempo_factor

    def _pump(self) -> None:
        """Send every message that is due, move the playhead, and sleep until the next message."""
        if self._port is None:
            return
        elapsed = self._clock() - self._started_at
        try:
            self._send_due(elapsed)
        except Exception as error:
            self.message.emit(f"The MIDI output failed: {error}")
            self.stop()
            return
        if elapsed - self._last_position_at >= POSITION_INTERVAL_MS / 1000 * 0.9:
            self._last_position_at = elapsed
            self.positionChanged.emit(playhead_tick(self._piece, elapsed, self._start_tick, self._tempo_factor,
                                                    self._loop_end))
        if self._next >= len(self._events):
            if self._loop_end is None:
                self.positionChanged.emit(self._piece.end)
                self.stop()
                return
            if elapsed >= self._pass_end:
                self._begin_pass(schedule(self._piece, 0, self._tempo_factor, programs=False), self._pass_end, 0)
                self._pump()
                return
            wake = self._pass_end
        else:
            wake = self._pass_start + self._events[self._next][0]
        delay = min(wake - elapsed, POSITION_INTERVAL_MS / 1000)
        self._timer.start(max(0, math.ceil(delay * 1000)))

    def _send_due(self, elapsed: float) -> None:
        while self._next < len(self._events) and self._pass_start + self._events[self._next][0] <= elapsed:
            message = self._events[self._next][1]
            self._port.send(message)
            self._next += 1
            if message.type == "note_on":
                self._sounding.add((message.channel, message.note))
                self._channels.add(message.channel)
            elif message.type == "note_off":
                self._sounding.discard((message.channel, message.note))


class MidiRecorder(QObject):
    """Records notes played on a MIDI keyboard; see the module docstring for its use.

    Times come from the arrival of each message: ``start_tick`` at :meth:`start`, then ``qpm`` beats
    a minute of ``ticks_per_beat`` ticks. A note-on with velocity 0 is a note-off.

    Args:
        parent: Qt parent.
        open_port: opens an input by name with a callback (tests pass a fake whose callback they call).
        clock: seconds, monotonic; read on the port's thread as each message arrives.
    """

    noteRecorded = Signal(object)  # noqa: N815 (Qt naming) a composer.music.notes.Note
    message = Signal(str)
    _arrived = Signal()            # emitted on the port's thread; handled on the GUI thread

    def __init__(self, parent: QObject | None = None, open_port: Callable = mido.open_input,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._open_port = open_port
        self._clock = clock
        self._arrived.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._inbox: collections.deque = collections.deque()  # (session, message, seconds); thread-safe
        self._lock = threading.Lock()
        self._session = 0
        self._port = None
        self._held: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (start tick, velocity)
        self._notes: list[Note] = []
        self._started_at = 0.0
        self._ticks_per_second = 1.0
        self._start_tick = 0
        self._voice = 0

    def is_recording(self) -> bool:
        return self._port is not None

    def start(self, port_name: str, ticks_per_beat: int, qpm: float, start_tick: int = 0,
              voice: int = 0) -> bool:
        """Open ``port_name`` and start a take (stopping one in progress).

        Args:
            port_name: a name from :func:`input_names`.
            ticks_per_beat: resolution of the recorded notes.
            qpm: tempo, quarter notes a minute, that turns seconds into ticks.
            start_tick: the tick of the moment recording starts.
            voice: the voice index given to the recorded notes.

        Returns:
            True when recording; False after emitting ``message`` with the reason.
        """
        self.stop()
        problem = None
        if ticks_per_beat <= 0 or not qpm > 0:
            problem = f"Recording needs a positive resolution and tempo, not {ticks_per_beat} ticks at {qpm} qpm."
        elif not port_name:
            problem = input_names()[1] or "Choose a MIDI input port first."
        if problem is None:
            with self._lock:
                self._session += 1
                session = self._session
            try:
                port = self._open_port(port_name, callback=lambda message: self._receive(session, message))
            except Exception as error:
                problem = f"Cannot open the MIDI input {port_name!r}: {error}"
        if problem is not None:
            self.message.emit(problem)
            return False
        self._held.clear()
        self._notes = []
        self._ticks_per_second = ticks_per_beat * qpm / 60.0
        self._start_tick, self._voice = max(0, int(start_tick)), voice
        self._started_at = self._clock()
        self._port = port
        return True

    def stop(self) -> list[Note]:
        """End the take: close the port, close held notes at this moment.

        Returns:
            Every note of the take, in order (empty when not recording).
        """
        port, self._port = self._port, None
        if port is None:
            return []
        stopped_at = self._clock()
        try:
            port.close()
        except Exception as error:
            self.message.emit(f"The MIDI input did not close cleanly: {error}")
        self._drain(port_open=True)
        with self._lock:
            self._session += 1  # messages still in flight from the closed port are dropped
        end = self._tick(stopped_at)
        for key in sorted(self._held):
            self._close(key, end)
        return sorted(self._notes)

    # -- internals ---------------------------------------------------------------------------------
    def _receive(self, session: int, message: mido.Message) -> None:
        """rtmidi's thread: queue the message with its arrival time and wake the GUI thread."""
        self._inbox.append((session, message, self._clock()))
        self._arrived.emit()

    def _tick(self, seconds: float) -> int:
        return self._start_tick + max(0, round((seconds - self._started_at) * self._ticks_per_second))

    def _drain(self, port_open: bool = False) -> None:
        """GUI thread: turn queued messages into notes."""
        while self._inbox:
            session, message, seconds = self._inbox.popleft()
            if session != self._session or (self._port is None and not port_open):
                continue
            kind = message.type
            if kind not in ("note_on", "note_off"):
                continue
            key, tick = (message.channel, message.note), self._tick(seconds)
            if key in self._held:
                self._close(key, tick)  # a release, or a repeated note-on that ends the previous one
            if kind == "note_on" and message.velocity > 0:
                self._held[key] = (tick, message.velocity)

    def _close(self, key: tuple[int, int], end: int) -> None:
        start, velocity = self._held.pop(key)
        note = Note(start, max(end, start + 1), key[1], velocity, self._voice)
        self._notes.append(note)
        self.noteRecorded.emit(note)
