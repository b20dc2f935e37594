"""MIDI ports (gui/midi_ports.py): port listing without a MIDI system, output timing, keyboard recording.

The machines that run these tests have no MIDI hardware (usually not even an ALSA sequencer), so the
ports are fakes: an output that records every message with its arrival time, and an input whose
callback the test calls from another thread, as rtmidi does.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
import time  # noqa: E402

import mido  # noqa: E402

from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice  # noqa: E402
from gui import midi_ports  # noqa: E402
from gui.midi_ports import MidiOutPlayer, MidiRecorder, input_names, output_names, schedule  # noqa: E402

EARLY_TOLERANCE = 0.002  # seconds a message may go out before its time (the timer's millisecond rounding)
# How late a message goes out depends on how busy the machine is (a test asserts no wall-clock bound: the
# scheduler's own lateness is a benchmark's claim); that it never goes out early, in order, is the player's.


class Clock:
    """The player's clock (time.monotonic), remembering when the player first read it: when play began."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self) -> float:
        now = time.monotonic()
        if self.first is None:
            self.first = now
        return now


class RecordingPort:
    """A MIDI output that keeps every message with the time it was sent (by ``clock``)."""

    def __init__(self, name: str, clock=time.monotonic) -> None:
        self.name = name
        self.sent: list[tuple[float, mido.Message]] = []
        self.closed = False
        self.clock = clock

    def send(self, message: mido.Message) -> None:
        assert not self.closed, "sent to a closed port"
        self.sent.append((self.clock(), message))

    def close(self) -> None:
        self.closed = True

    def of_type(self, kind: str) -> list[tuple[float, mido.Message]]:
        return [(t, m) for t, m in self.sent if m.type == kind]


class FakeInputPort:
    """A MIDI input whose callback the test fires, from a thread of its own like rtmidi's."""

    def __init__(self, name: str, callback) -> None:
        self.name, self.callback, self.closed = name, callback, False

    def feed(self, message: mido.Message) -> None:
        thread = threading.Thread(target=self.callback, args=(message,))
        thread.start()
        thread.join()

    def close(self) -> None:
        self.closed = True


def duet(qpm: float = 240.0) -> Piece:
    """Two voices, 8 sixteenths (0.5 s at 240 qpm): a melody on a held bass note, and a drum."""
    notes = (Note(0, 2, 72, 100, 0), Note(2, 4, 74, 80, 0), Note(4, 8, 76, 90, 0),
             Note(0, 8, 48, 70, 1), Note(4, 5, 38, 110, 2))
    voices = (Voice("Melody", 73), Voice("Bass", 33), Voice("Drums", 0, is_drum=True))
    return Piece(notes, 4, voices, (TempoChange(0, qpm),), (TimeSignature(0, 2, 4),))


# -- listing ports -------------------------------------------------------------------------------------
def test_listing_ports_on_this_machine_never_raises():
    for names, reason in (output_names(), input_names()):
        assert isinstance(names, list)
        assert (reason is None) == bool(names)
        if reason is not None:
            assert "MIDI" in reason


def test_listing_ports_turns_errors_and_emptiness_into_reasons(monkeypatch):
    def broken():
        raise RuntimeError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")

    monkeypatch.setattr(mido, "get_output_names", broken)
    monkeypatch.setattr(mido, "get_input_names", lambda: [])
    names, reason = output_names()
    assert names == [] and "not available" in reason and "ALSA sequencer" in reason
    names, reason = input_names()
    assert names == [] and "No MIDI input ports found" in reason
    monkeypatch.setattr(mido, "get_output_names", lambda: ["Synth:0", "DAW in"])
    assert output_names() == (["Synth:0", "DAW in"], None)


# -- the schedule ----------------------------------------------------------------------------------------
def test_schedule_orders_messages_with_channels_programs_and_times():
    events = schedule(duet(), tempo_factor=2.0)
    assert [(m.channel, m.program) for _, m in events[:2]] == [(0, 73), (1, 33)]  # no program for drums
    notes = [(round(t, 6), m.type, m.channel, m.note, m.velocity) for t, m in events[2:]]
    # tick = 1/16 s at 240 qpm; twice as fast: 1/32 s
    assert notes == [
        (0.0, "note_on", 0, 72, 100), (0.0, "note_on", 1, 48, 70),
        (0.0625, "note_off", 0, 72, 0), (0.0625, "note_on", 0, 74, 80),
        (0.125, "note_off", 0, 74, 0), (0.125, "note_on", 0, 76, 90), (0.125, "note_on", 9, 38, 110),
        (0.15625, "note_off", 9, 38, 0),
        (0.25, "note_off", 1, 48, 0), (0.25, "note_off", 0, 76, 0),
    ]


def test_schedule_from_a_start_tick_starts_sounding_notes_at_once():
    events = schedule(duet(), start_tick=3, programs=False)
    ons = [(round(t, 6), m.note) for t, m in events if m.type == "note_on"]
    assert ons == [(0.0, 48), (0.0, 74), (0.0625, 76), (0.0625, 38)]


# -- playing to a port -----------------------------------------------------------------------------------
def test_the_port_receives_exactly_the_pieces_notes_in_time(qtbot):
    ports: list[RecordingPort] = []
    clock = Clock()
    player = MidiOutPlayer(open_port=lambda name: ports.append(RecordingPort(name, clock)) or ports[-1], clock=clock)
    states: list[bool] = []
    positions: list[int] = []
    player.stateChanged.connect(states.append)
    player.positionChanged.connect(positions.append)
    piece = duet()
    with qtbot.waitSignal(player.stateChanged, timeout=60_000, check_params_cb=lambda playing: not playing):
        player.play(piece, "Synth:0")
        assert player.is_playing()
    port = ports[0]
    assert port.name == "Synth:0" and port.closed and states == [True, False] and not player.is_playing()
    expected = schedule(piece)
    musical = [m for _, m in port.sent if m.type != "control_change"]
    assert musical == [m for _, m in expected]
    for (sent_at, message), (due, _) in zip(port.sent, expected):
        assert sent_at - clock.first >= due - EARLY_TOLERANCE, message    # never before its time
    all_off = [(m.channel, m.control) for _, m in port.sent if m.type == "control_change"]
    assert all_off == [(0, 123), (1, 123), (9, 123)]  # after the last note-off, on every channel used
    assert positions == sorted(positions) and positions[-1] == piece.end


def test_stop_mid_note_sends_note_offs_and_closes_the_port(qtbot):
    port = RecordingPort("DAW")
    player = MidiOutPlayer(open_port=lambda name: port)
    long_note = Piece((Note(0, 16, 60, 100), Note(0, 16, 64, 100)), 4, tempos=(TempoChange(0, 60.0),))  # 4 s
    player.play(long_note, "DAW")
    qtbot.waitUntil(lambda: len(port.of_type("note_on")) == 2, timeout=2000)
    player.stop()
    player.stop()  # idempotent
    offs = [(m.channel, m.note) for _, m in port.of_type("note_off")]
    assert offs == [(0, 60), (0, 64)] and port.sent[-1][1].is_cc(123) and port.closed
    assert not player.is_playing()


def test_looping_plays_the_piece_again_from_the_start(qtbot):
    clock = Clock()
    port = RecordingPort("Synth", clock)
    player = MidiOutPlayer(open_port=lambda name: port, clock=clock)
    piece = Piece((Note(0, 1, 60, 90), Note(2, 3, 62, 90)), 4, tempos=(TempoChange(0, 240.0),),
                  time_signatures=(TimeSignature(0, 1, 4),))  # one-beat bars: the loop is 4 ticks, 0.25 s
    player.play(piece, "Synth", start_tick=2, loop=True, tempo_factor=2.0)  # 0.125 s a pass; the first is half
    qtbot.waitUntil(lambda: len(port.of_type("note_on")) >= 5, timeout=60_000)
    player.stop()
    ons = port.of_type("note_on")
    assert [m.note for _, m in ons[:5]] == [62, 60, 62, 60, 62]
    for (sent_at, _), due in zip(ons, (0.0, 0.0625, 0.125, 0.1875, 0.25)):
        assert sent_at - clock.first >= due - EARLY_TOLERANCE        # each pass on the loop's own times
    assert len(port.of_type("program_change")) == 1  # programs once, not every pass
    assert port.closed and port.sent[-1][1].is_cc(123)


def test_no_port_or_a_failing_port_is_a_message_not_a_crash(qtbot, monkeypatch):
    monkeypatch.setattr(mido, "get_output_names", lambda: [])

    def refuse(name):
        raise OSError(f"unknown port {name!r}")

    player = MidiOutPlayer(open_port=refuse)
    messages: list[str] = []
    states: list[bool] = []
    player.message.connect(messages.append)
    player.stateChanged.connect(states.append)
    player.play(duet(), "")
    player.play(duet(), "Gone:0")
    assert "No MIDI output ports found" in messages[0] and "unknown port 'Gone:0'" in messages[1]
    assert states == [False, False] and not player.is_playing()


def test_a_port_that_fails_while_playing_stops_with_a_message(qtbot):
    class FlakyPort(RecordingPort):
        def send(self, message):
            if message.type == "note_on" and message.note == 74:
                raise OSError("device unplugged")
            super().send(message)

    port = FlakyPort("Synth")
    player = MidiOutPlayer(open_port=lambda name: port)
    with qtbot.waitSignal(player.message, timeout=3000) as blocker:
        player.play(duet(), "Synth")
    assert "device unplugged" in blocker.args[0]
    assert not player.is_playing() and port.closed


# -- recording from a keyboard --------------------------------------------------------------------------
class StepClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_recorded_keys_become_notes_at_the_right_ticks(qtbot):
    clock = StepClock()
    ports: list[FakeInputPort] = []
    recorder = MidiRecorder(open_port=lambda name, callback: ports.append(FakeInputPort(name, callback)) or ports[-1],
                            clock=clock)
    recorded: list[Note] = []
    recorder.noteRecorded.connect(recorded.append)
    assert recorder.start("Keys:0", ticks_per_beat=480, qpm=120.0, start_tick=960, voice=2)
    port = ports[0]
    assert port.name == "Keys:0" and recorder.is_recording()

    def at(seconds: float, message: mido.Message) -> None:
        clock.now = 50.0 + seconds
        port.feed(message)

    at(0.5, mido.Message("note_on", note=60, velocity=100))    # beat 1 -> tick 960 + 480
    at(0.75, mido.Message("note_on", note=64, velocity=70))
    at(1.0, mido.Message("note_off", note=60))
    at(1.25, mido.Message("note_on", note=64, velocity=0))     # velocity 0 is a release
    at(1.3, mido.Message("control_change", control=64, value=127))  # ignored
    at(1.5, mido.Message("note_on", note=67, velocity=90))     # still held at the stop
    qtbot.waitUntil(lambda: len(recorded) == 2, timeout=2000)
    assert recorded == [Note(1440, 1920, 60, 100, 2), Note(1680, 2160, 64, 70, 2)]
    clock.now = 52.0
    notes = recorder.stop()
    assert notes == [Note(1440, 1920, 60, 100, 2), Note(1680, 2160, 64, 70, 2), Note(2400, 2880, 67, 90, 2)]
    assert recorded[-1] == Note(2400, 2880, 67, 90, 2) and port.closed and not recorder.is_recording()
    at(2.5, mido.Message("note_on", note=72, velocity=90))  # a late message from the closed port
    at(2.6, mido.Message("note_off", note=72))
    qtbot.wait(50)
    assert len(recorded) == 3 and recorder.stop() == []


def test_a_message_that_arrived_just_before_stop_is_not_lost(qtbot):
    clock = StepClock()
    ports: list[FakeInputPort] = []
    recorder = MidiRecorder(open_port=lambda name, callback: ports.append(FakeInputPort(name, callback)) or ports[-1],
                            clock=clock)
    recorder.start("Keys", ticks_per_beat=4, qpm=60.0)
    clock.now += 1.0
    ports[0].feed(mido.Message("note_on", note=60, velocity=80))
    clock.now += 1.0
    ports[0].feed(mido.Message("note_off", note=60))
    assert recorder.stop() == [Note(4, 8, 60, 80, 0)]  # the GUI thread had not handled them yet


def test_recording_without_a_port_says_so(qtbot, monkeypatch):
    monkeypatch.setattr(midi_ports, "input_names",
                        lambda: ([], "No MIDI input ports: the MIDI system is not available on this machine."))

    def refuse(name, callback):
        raise OSError("no such port")

    recorder = MidiRecorder(open_port=refuse)
    messages: list[str] = []
    recorder.message.connect(messages.append)
    assert not recorder.start("", 480, 120.0)
    assert not recorder.start("Keys", 480, 120.0)
    assert not recorder.start("Keys", 0, 120.0)
    assert "not available" in messages[0] and "no such port" in messages[1] and "resolution" in messages[2]
    assert not recorder.is_recording() and recorder.stop() == []


# -- the output thread (issue 16, defect 9) ---------------------------------------------------------------
class ThreadRecordingPort(RecordingPort):
    """Also keeps the thread each message was sent from."""

    def __init__(self, name: str, clock=time.monotonic) -> None:
        super().__init__(name, clock)
        self.threads: list[int] = []

    def send(self, message: mido.Message) -> None:
        self.threads.append(threading.get_ident())
        super().send(message)


def test_messages_go_out_on_time_while_the_gui_thread_is_busy(qtbot):
    clock = Clock()
    port = ThreadRecordingPort("Synth", clock)
    player = MidiOutPlayer(open_port=lambda name: port, clock=clock)
    piece = duet()
    expected = [m for _, m in schedule(piece)]
    player.play(piece, "Synth")
    # The GUI thread is busy (it never returns to the event loop here) for the whole piece: the music goes on.
    deadline = time.monotonic() + 120    # only a bound for a broken player; the loop ends as soon as all is sent
    busy = 0
    while len(port.sent) < len(expected) and time.monotonic() < deadline:
        busy += sum(range(2000))         # Python work holding the interpreter, as a busy GUI thread does
    assert [m for _, m in port.sent] == expected
    main = threading.get_ident()
    assert port.threads and all(ident != main for ident in port.threads)   # sent from the player's thread
    for (sent_at, message), (due, _) in zip(port.sent, schedule(piece)):
        assert sent_at - clock.first >= due - EARLY_TOLERANCE, message      # and still never early
    with qtbot.waitSignal(player.stateChanged, timeout=60_000, check_params_cb=lambda playing: not playing):
        pass                             # the end is handled back on the GUI thread: all-notes-off, port closed
    assert port.closed and port.sent[-1][1].is_cc(123) and all(ident == main for ident in port.threads[-3:])


def test_a_stop_from_the_gui_thread_ends_the_output_thread(qtbot):
    port = ThreadRecordingPort("DAW")
    player = MidiOutPlayer(open_port=lambda name: port)
    long_note = Piece((Note(0, 16, 60, 100),), 4, tempos=(TempoChange(0, 60.0),))  # 4 s
    player.play(long_note, "DAW")
    qtbot.waitUntil(lambda: len(port.of_type("note_on")) == 1, timeout=10_000)
    player.stop()
    assert not [t for t in threading.enumerate() if t.name == "composer-midi-out"]
    sent = len(port.sent)
    qtbot.wait(100)
    assert len(port.sent) == sent and port.closed      # nothing more after the stop
