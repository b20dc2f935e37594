"""Which voices are heard and which are shown: per-voice mute, solo and hide, as a DAW's track header keeps them.

This is view state of one window's document: it is not an edit (never on the undo stack, never written into
the MIDI file) and it starts afresh when a new piece is opened or started. Voices are numbered as the piece's
(``Note.voice``).

- A muted voice is not played. While any voice is soloed, only soloed voices are played (a muted voice stays
  silent even when soloed: mute wins).
- A hidden voice's notes are neither painted nor hit by the mouse in the piano roll; they stay in the piece.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from composer.music.notes import Piece

MUTE, SOLO, HIDE = "mute", "solo", "hide"


class VoiceMix(QObject):
    """The muted, soloed and hidden voices.

    Signals:
        changed(): a voice was muted, soloed, hidden (or the reverse), or everything was reset.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sets: dict[str, set[int]] = {MUTE: set(), SOLO: set(), HIDE: set()}

    # -- state -------------------------------------------------------------------------------------
    @property
    def muted(self) -> frozenset[int]:
        return frozenset(self._sets[MUTE])

    @property
    def soloed(self) -> frozenset[int]:
        return frozenset(self._sets[SOLO])

    @property
    def hidden(self) -> frozenset[int]:
        return frozenset(self._sets[HIDE])

    def is_on(self, kind: str, voice: int) -> bool:
        """Whether ``voice`` is muted, soloed or hidden (``kind`` is MUTE, SOLO or HIDE)."""
        return voice in self._sets[kind]

    def is_audible(self, voice: int) -> bool:
        """Whether ``voice`` is played: not muted, and soloed when any voice is."""
        return voice not in self._sets[MUTE] and (not self._sets[SOLO] or voice in self._sets[SOLO])

    # -- changes -----------------------------------------------------------------------------------
    def set(self, kind: str, voice: int, on: bool) -> None:
        """Mute, solo or hide ``voice`` (``on``), or undo that.

        Args:
            kind: MUTE, SOLO or HIDE.
            voice: the voice's number in the piece.
            on: True to mute/solo/hide.

        Raises:
            KeyError: ``kind`` is not one of the three.
        """
        chosen = self._sets[kind]
        if (voice in chosen) == on:
            return
        (chosen.add if on else chosen.discard)(voice)
        self.changed.emit()

    def reset(self) -> None:
        """Every voice heard and shown again (a new or opened piece)."""
        if any(self._sets.values()):
            for chosen in self._sets.values():
                chosen.clear()
            self.changed.emit()

    # -- what the player gets ----------------------------------------------------------------------
    def for_playback(self, piece: Piece) -> Piece:
        """``piece`` without the notes of the voices that are not heard (``piece`` itself when all are).

        Args:
            piece: what would be played.

        Returns:
            The piece to hand to the player.
        """
        kept = tuple(n for n in piece.notes if self.is_audible(n.voice))
        return piece if len(kept) == len(piece.notes) else piece.replace(notes=kept)
