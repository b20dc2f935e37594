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

Output is timed on a thread of its own (``composer-midi-out``) with its own clock: it sleeps until the next
message is due (at least every 33 ms, to report the playhead) and sends it, so a busy GUI thread (a results
list filling, a redraw, a job's results) does not make the music jitter; the thread gives up the interpreter
while it sleeps and takes it within Python's switch interval (5 ms) when a message is due. It reports the
playhead, the end and a failing port to the GUI thread, which emits the player's signals, sends the final
note-offs and closes the port. Each voice
plays on the channel :func:`composer.music.midi_io.write_midi` gives it (drums on 10), with a program change
at the start. Input arrives on rtmidi's thread; the callback only queues the message with its arrival
time and signals the GUI thread, which pairs note-ons with note-offs into :class:`~composer.music.notes.Note`.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable

import mido
from PySide6.QtCore import QObject, Qt, Signal

from composer.music.midi_io import _channels as voice_channels  # the channel mapping of written MIDI files
from composer.music.notes import Note, Piece
from gui import synth
from gui.playback import POSITION_INTERVAL_MS, loop_end_tick, playhead_tick

ALL_NOTES_OFF = 123  # MIDI controller number
STOP_JOIN_S = 2.0    # how long stop() waits for the output thread (it wakes at once; a hung port send is left)


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


class _Stopped(Exception):
    """The output thread's play was stopped while it was sending."""


class _OutputRun:
    """One play's schedule as the output thread works through it: the pass being played, the next message, and
    the notes sounding (read by :meth:`MidiOutPlayer.stop` once the thread has ended)."""

    def __init__(self, piece: Piece, start_tick: int, tempo_factor: float, loop_end: int | None) -> None:
        self.piece, self.start_tick, self.tempo_factor, self.loop_end = piece, start_tick, tempo_factor, loop_end
        self.events: list[tuple[float, mido.Message]] = []
        self.next = 0
        self.pass_start = 0.0
        self.pass_end = 0.0
        self.sounding: set[tuple[int, int]] = set()
        self.channels: set[int] = set()
        self.begin_pass(schedule(piece, start_tick, tempo_factor), 0.0, start_tick)

    def begin_pass(self, events: list[tuple[float, mido.Message]], at: float, from_tick: int) -> None:
        """Queue one pass of the piece, starting ``at`` seconds after play began."""
        self.events, self.next, self.pass_start = events, 0, at
        if self.loop_end is not None:
            span = synth.seconds_at(self.piece, [from_tick, self.loop_end])
            self.pass_end = at + float(span[1] - span[0]) / self.tempo_factor

    def send_due(self, port, elapsed: float) -> None:
        """Send every message due ``elapsed`` seconds after play began (never one before its time)."""
        while self.next < len(self.events) and self.pass_start + self.events[self.next][0] <= elapsed:
            message = self.events[self.next][1]
            port.send(message)
            self.next += 1
            if message.type == "note_on":
                self.sounding.add((message.channel, message.note))
                self.channels.add(message.channel)
            elif message.type == "note_off":
                self.sounding.discard((message.channel, message.note))

    def wake_at(self, elapsed: float) -> float | None:
        """When the next message is due (a loop's next pass begun when it is time); None at the end of a play
        that does not loop."""
        if self.next < len(self.events):
            return self.pass_start + self.events[self.next][0]
        if self.loop_end is None:
            return None
        if elapsed >= self.pass_end:
            self.begin_pass(schedule(self.piece, 0, self.tempo_factor, programs=False), self.pass_end, 0)
            return self.wake_at(elapsed)
        return self.pass_end


class MidiOutPlayer(QObject):
    """Plays a piece to a MIDI output port; see the module docstring for its use.

    The messages go out from a thread of the player's own (``composer-midi-out``), timed by its own clock, so a
    busy GUI thread does not delay them; the thread reports the playhead, the end and failures to the GUI
    thread, where the public signals are emitted. The port is opened and closed on the GUI thread, and sent to
    only by the output thread while it runs (mido ports may be used from any one thread at a time).

    Args:
        parent: Qt parent.
        open_port: opens an output by name (tests pass a recording fake).
        clock: seconds, monotonic (read on the output thread).
    """

    positionChanged = Signal(int)  # noqa: N815 (Qt naming)
    stateChanged = Signal(bool)    # noqa: N815
    message = Signal(str)
    _position = Signal(int, int)   # (play, tick) from the output thread
    _ended = Signal(int)           # (play): the last message went out
    _failed = Signal(int, str)     # (play, what went wrong)

    def __init__(self, parent: QObject | None = None, open_port: Callable = mido.open_output,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._open_port = open_port
        self._clock = clock
        self._port = None
        self._run: _OutputRun | None = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._play_id = 0
        queued = Qt.ConnectionType.QueuedConnection
        self._position.connect(self._on_position, queued)
        self._ended.connect(self._on_ended, queued)
        self._failed.connect(self._on_failed, queued)

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
        start_tick = min(max(0, int(start_tick)), piece.end)
        self._run = _OutputRun(piece, start_tick, float(tempo_factor), loop_end_tick(piece) if loop else None)
        self._play_id += 1
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._output_loop, args=(self._play_id, self._run, self._halt),
                                        name="composer-midi-out", daemon=True)
        self.stateChanged.emit(True)
        self._thread.start()

    def stop(self) -> None:
        """Stop: the output thread ended, note-offs for sounding notes, all-notes-off on every channel used, port
        closed. Does nothing when stopped."""
        port, self._port = self._port, None
        if port is None:
            return
        self._halt.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_JOIN_S)
        run, self._run = self._run, None
        try:
            for channel, pitch in sorted(run.sounding if run else ()):
                port.send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
            for channel in sorted(run.channels if run else ()):
                port.send(mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0))
        except Exception as error:
            self.message.emit(f"The MIDI output failed while stopping: {error}")
        finally:
            try:
                port.close()
            except Exception:
                pass
        self.stateChanged.emit(False)

    # -- the output thread -------------------------------------------------------------------------
    def _output_loop(self, play_id: int, run: _OutputRun, halt: threading.Event) -> None:
        """Send each message at its time, on this thread's clock, until the end, a failure or a stop."""
        interval = POSITION_INTERVAL_MS / 1000
        started, last_position = self._clock(), -1.0
        try:
            while not halt.is_set():
                elapsed = self._clock() - started
                run.send_due(self._port_of(play_id), elapsed)
                if elapsed - last_position >= interval * 0.9:
                    last_position = elapsed
                    self._position.emit(play_id, playhead_tick(run.piece, elapsed, run.start_tick,
                                                               run.tempo_factor, run.loop_end))
                wake = run.wake_at(elapsed)
                if wake is None:
                    self._position.emit(play_id, run.piece.end)
                    self._ended.emit(play_id)
                    return
                halt.wait(max(0.0, min(wake - (self._clock() - started), interval)))
        except _Stopped:
            return
        except Exception as error:
            self._failed.emit(play_id, f"The MIDI output failed: {error}")

    def _port_of(self, play_id: int):
        """The open port while play ``play_id`` is the current one (else the thread is being stopped)."""
        port = self._port
        if port is None or play_id != self._play_id:
            raise _Stopped()
        return port

    # -- back on the GUI thread --------------------------------------------------------------------
    def _on_position(self, play_id: int, tick: int) -> None:
        if play_id == self._play_id and self._port is not None:
            self.positionChanged.emit(tick)

    def _on_ended(self, play_id: int) -> None:
        if play_id == self._play_id:
            self.stop()

    def _on_failed(self, play_id: int, text: str) -> None:
        if play_id == self._play_id and self._port is not None:
            self.message.emit(text)
            self.stop()


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
