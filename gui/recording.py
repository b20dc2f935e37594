"""Recording from a MIDI keyboard into the piece (Play ▸ Record from keyboard).

The notes go into the voice chosen in the toolbar, after the end of the piece; stopping adds them as one
undoable step. Without a keyboard (or without MIDI support in the build) it says so and carries on.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from composer.music.notes import Note
from gui.actions import make_action, set_checked_quietly
from gui.commands import with_notes_added
from gui.document import Document
from gui.messages import Messages
from gui.optional import optional, optional_instance
from gui.piano_roll import RollCanvas


class KeyboardRecording(QObject):
    """Starts and stops recording and adds what was played to the document.

    Args:
        document: the piece the notes join.
        canvas: the piano roll (its current voice gets the notes).
        messages: where messages go.
        parent: Qt parent.
        recorder: the MIDI input recorder; default a real :class:`gui.midi_ports.MidiRecorder` (None
            where MIDI is missing from the build).

    Signals:
        statusChanged(str): a running count for the status bar ("Recorded 3 notes").
    """

    statusChanged = Signal(str)  # noqa: N815 (Qt naming)

    def __init__(self, document: Document, canvas: RollCanvas, messages: Messages, parent: QObject | None = None,
                 recorder=None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self.messages = messages
        self.recorder = recorder if recorder is not None else optional_instance("midi_ports", "MidiRecorder", self)
        self.recorded: list[Note] = []   # the notes of the take so far
        self.record_action = make_action(self, "&Record from keyboard", self.set_recording, "Ctrl+Shift+R",
                                         "Record notes from a MIDI keyboard into the piece", checkable=True)
        if self.recorder is not None:
            self.recorder.noteRecorded.connect(self._note_recorded)
            self.recorder.message.connect(self.messages.show_message)

    def set_recording(self, on: bool) -> None:
        """The Record action: start when ticked, stop when unticked."""
        if on:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self, port_name: str | None = None) -> bool:
        """Record from a MIDI keyboard (the first input port unless named); says so when there is none."""
        input_names = optional("midi_ports", "input_names")
        if self.recorder is None or input_names is None:
            return self._refused("Recording is not available in this build")
        if port_name is None:
            names, reason = input_names()
            if not names:
                return self._refused(f"No MIDI keyboard found: {reason or 'no input ports'}. "
                                     "You can draw notes with the mouse instead.")
            port_name = names[0]
        piece = self.document.piece
        self.recorded = []
        start = -(-piece.end // piece.ticks_per_bar) * piece.ticks_per_bar if piece.notes else 0
        if not self.recorder.start(port_name, piece.ticks_per_beat, piece.qpm, start, voice=self.canvas.current_voice):
            return self._refused(self.messages.last_message or f"cannot open {port_name}")
        set_checked_quietly(self.record_action, True)
        self.messages.show_message(f"Recording from {port_name}... (press Record again to stop)")
        return True

    def stop_recording(self) -> int:
        """Stop recording; the recorded notes join the piece as one undoable step. Returns how many."""
        if self.recorder is None or not self.recorder.is_recording():
            set_checked_quietly(self.record_action, False)
            return 0
        notes = self.recorder.stop()
        set_checked_quietly(self.record_action, False)
        if notes:
            self.document.apply(with_notes_added(self.document.piece, notes), "Record from keyboard")
        self.messages.show_message(f"Recorded {len(notes)} notes")
        return len(notes)

    def shut_down(self) -> None:
        """The window is closing: stop a recording without keeping it."""
        if self.recorder is not None and self.recorder.is_recording():
            self.recorder.stop()

    def _refused(self, text: str) -> bool:
        self.messages.show_message(text)
        set_checked_quietly(self.record_action, False)
        return False

    def _note_recorded(self, note: Note) -> None:
        self.recorded.append(note)
        self.statusChanged.emit(f"Recorded {len(self.recorded)} notes")
