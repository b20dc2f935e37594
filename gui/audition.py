"""Letting the user hear a note clicked or drawn in the piano roll, through the transport's current output.

The note is played on its own (with its voice's instrument and the piece's tempo) for at most a beat, from
where it is, so the playhead stays where the user is looking. Nothing is auditioned while the piece itself
plays: an audition only ever replaces another audition.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject

from composer.music.notes import Note, Piece
from gui.transport import BUILT_IN_SYNTH, Transport


def audition_piece(piece: Piece, notes: tuple[Note, ...]) -> Piece:
    """``piece`` holding only ``notes``, each cut to at most a beat (its voices, tempo and metre kept).

    Args:
        piece: the piece the notes belong to (or are drawn into).
        notes: the notes to hear.

    Returns:
        The short piece to play.
    """
    beat = piece.ticks_per_beat
    short = tuple(dataclasses.replace(n, end=n.start + min(n.duration, beat)) for n in notes
                  if n.voice < len(piece.voices))
    return piece.replace(notes=short)


class Auditioner(QObject):
    """Plays notes the piano roll asks to be heard (``RollCanvas.auditionRequested``).

    Args:
        transport: its output box picks the player (the built-in synth or the MIDI port).
        canvas: the roll whose piece the notes belong to.
        parent: Qt parent.

    Attributes:
        enabled: False turns auditioning off.
        last: the last piece auditioned (tests read it), or None.
    """

    def __init__(self, transport: Transport, canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.transport = transport
        self.canvas = canvas
        self.enabled = True
        self.last: Piece | None = None
        self._ours = None            # the player while it plays an audition
        for player in (transport.player, transport.midi_out):
            if player is not None:
                player.stateChanged.connect(self._state_changed)
        canvas.auditionRequested.connect(self.audition)

    def _player(self):
        transport = self.transport
        return transport.player if transport.output_combo.currentText() == BUILT_IN_SYNTH else transport.midi_out

    def _busy(self) -> bool:
        """True while the piece (not an audition) is playing."""
        players = [p for p in (self.transport.player, self.transport.midi_out) if p is not None]
        return any(p.is_playing() and p is not self._ours for p in players)

    def audition(self, notes: tuple[Note, ...]) -> bool:
        """Play ``notes`` briefly, unless the piece is playing or there is no output.

        Returns:
            True when the notes were sent to the output.
        """
        player = self._player()
        if not self.enabled or not notes or player is None or self._busy() or not self._audible(player):
            return False
        piece = audition_piece(self.canvas.piece, tuple(notes))
        if not piece.notes:
            return False
        start = min(n.start for n in piece.notes)
        if player is self.transport.player:
            player.play(piece, start, False, 1.0)
        else:
            player.play(piece, self.transport.output_combo.currentText(), start, False, 1.0)
        self._ours, self.last = player, piece   # after play(), whose stop of the last audition clears _ours
        return True

    def _audible(self, player) -> bool:
        """The MIDI port always; the built-in synth only with an audio device (never a silent playhead run)."""
        if player is not self.transport.player:
            return True
        available = getattr(player, "available", None)
        return available is not None and bool(available()[0])

    def _state_changed(self, playing: bool) -> None:
        if not playing:
            self._ours = None
