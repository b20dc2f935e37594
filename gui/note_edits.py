"""The Edit menu's operations on the piano roll's selected notes: Delete, Duplicate (Ctrl+D), Transpose (Up/Down
a semitone, Shift+Up/Down an octave) and Quantize (Q) to the roll's grid.

Each is one undoable step of the document (the pieces are built by the pure helpers of :mod:`gui.commands`),
and the notes it made stay selected, so it can be repeated. The arrow keys and Q work while the piano roll has
the keyboard focus (elsewhere they belong to lists, boxes and text fields); Ctrl+D and Delete in the whole window.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from composer.music.notes import Note, Piece
from gui.actions import make_action
from gui.commands import with_duplicate, with_quantized, with_transposed
from gui.messages import Messages
from gui.piano_roll import RollCanvas

TRANSPOSE_STEPS = (("Transpose &up", 1, "Up", "a semitone up"), ("Transpose &down", -1, "Down", "a semitone down"),
                   ("Transpose up an &octave", 12, "Shift+Up", "an octave up"),
                   ("Transpose down an oc&tave", -12, "Shift+Down", "an octave down"))


class NoteEdits(QObject):
    """The note operations and their actions.

    Args:
        canvas: the piano roll whose selection is edited (its document takes the steps, its grid quantizes).
        roll: the widget whose keyboard focus enables the arrow keys and Q (the piano roll's scroll area).
        window: gets the window-wide actions (Delete, Duplicate) and the messages.
        messages: where a refused operation says why (default ``window``).
    """

    def __init__(self, canvas: RollCanvas, roll: QWidget, window: QWidget, messages: Messages | None = None) -> None:
        super().__init__(window)
        self.canvas = canvas
        self.messages = messages if messages is not None else window
        self.delete_action = make_action(self, "&Delete notes", self.delete_selection, QKeySequence.Delete,
                                         "Delete the selected notes (Delete)")
        self.duplicate_action = make_action(self, "D&uplicate notes", self.duplicate, "Ctrl+D",
                                            "Copy the selected notes right after themselves (Ctrl+D)")
        window.addActions([self.delete_action, self.duplicate_action])
        self.transpose_actions = [self._roll_action(roll, text, self._transposer(semitones), key,
                                                    f"Move the selected notes {how} ({key})")
                                  for text, semitones, key, how in TRANSPOSE_STEPS]
        self.quantize_action = self._roll_action(roll, "&Quantize notes", self.quantize, "Q",
                                                 "Move the selected notes' starts and ends to the grid of Snap (Q)")
        canvas.selectionChanged.connect(self._enable)
        self._enable()

    def _enable(self, _count: int = 0) -> None:
        """The operations on the selection are offered while notes of the piece are selected (otherwise the arrow
        keys and Q go to the roll itself, which scrolls)."""
        on = bool(self.canvas.selection) and not self.canvas.read_only
        for action in (self.duplicate_action, *self.transpose_actions, self.quantize_action):
            action.setEnabled(on)

    def _roll_action(self, roll: QWidget, text: str, slot: Callable, key: str, tip: str) -> QAction:
        """An action whose shortcut works while ``roll`` (or a child) has the focus."""
        action = make_action(self, text, slot, key, tip)
        action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        roll.addAction(action)
        return action

    def _transposer(self, semitones: int) -> Callable[[], bool]:
        return lambda: self.transpose(semitones)

    def actions(self) -> list[QAction | None]:
        """The Edit menu's entries, in order (None: a separator)."""
        return [self.delete_action, self.duplicate_action, None, *self.transpose_actions, self.quantize_action]

    # -- the operations ----------------------------------------------------------------------------
    def _selected(self, what: str) -> list[Note]:
        """The selected notes, or [] (with a message saying why nothing happens)."""
        if self.canvas.read_only:
            self.messages.show_message(f"{what}: a result is shown; make it your piece first (Use this one)")
            return []
        notes = sorted(self.canvas.selection)
        if not notes:
            self.messages.show_message(f"{what}: select some notes first")
        return notes

    def _apply(self, piece: Piece, label: str, notes: tuple[Note, ...]) -> bool:
        """Make ``piece`` the document's (one undoable step) and select ``notes`` in it."""
        document = self.canvas.document
        document.apply(piece, label)
        self.canvas.select(set(notes) & set(document.piece.notes))
        self.canvas.update()
        return True

    def delete_selection(self) -> None:
        """Delete the selected notes (one step)."""
        self.canvas.delete_notes(sorted(self.canvas.selection))

    def duplicate(self) -> bool:
        """Copy the selected notes right after themselves (their span, rounded up to the grid); the copies
        become the selection. Returns False when nothing was done."""
        notes = self._selected("Duplicate")
        if not notes:
            return False
        piece, copies = with_duplicate(self.canvas.piece, notes, self.canvas.snap_ticks)
        return self._apply(piece, "Duplicate notes", copies)

    def transpose(self, semitones: int) -> bool:
        """Move the selected notes by ``semitones``; refused (False, with a message) when a note would leave
        MIDI's pitches 0..127."""
        notes = self._selected("Transpose")
        if not notes:
            return False
        edited = with_transposed(self.canvas.piece, notes, semitones)
        if edited is None:
            self.messages.show_message("Transpose: a selected note would go past the highest or lowest MIDI pitch")
            return False
        return self._apply(edited[0], "Transpose notes", edited[1])

    def quantize(self) -> bool:
        """Move the selected notes' starts and ends to the nearest lines of the roll's grid (Snap). Returns
        False when nothing changed."""
        notes = self._selected("Quantize")
        if not notes:
            return False
        if not self.canvas.snap_beats:
            self.messages.show_message("Quantize: Snap is Off; choose a grid first")
            return False
        piece, moved = with_quantized(self.canvas.piece, notes, self.canvas.snap_ticks)
        if piece is self.canvas.piece:
            self.messages.show_message("Quantize: the selected notes are already on the grid")
            return False
        return self._apply(piece, "Quantize notes", moved)
