"""Comparing two results of the history: both on the piano roll at once, and A/B switching of what is heard.

The two results are overlaid on one timeline as one read-only piece (:func:`compare_piece`): A's voices first,
then B's, so each result's voices get their own roll colours (A's melody the first colour, B's the second; for
two 4-part results, A's four and then B's four) and their own entries in the voice legend, named ``A: ...`` and
``B: ...``. Hearing A, B or both (:class:`ABSwitch`) solos that result's voices in the window's voice mix, which is
what the legend's S buttons do; while playing, a switch takes effect from the playhead, as a DAW's A/B does.
"""

from __future__ import annotations

import dataclasses

from composer.music.notes import Piece, Voice, quantize
from gui.voice_mix import SOLO, VoiceMix

A, B, BOTH = "a", "b", "both"


def compare_piece(a: Piece, b: Piece, a_name: str = "A", b_name: str = "B") -> Piece:
    """``a`` and ``b`` overlaid: ``a``'s notes and voices, then ``b``'s with their voice numbers after ``a``'s.

    Args:
        a, b: the two results' pieces (``b`` is brought to ``a``'s resolution when they differ).
        a_name, b_name: what the voices' names start with in the legend.

    Returns:
        One piece with ``a``'s tempo, metre and key, and ``len(a.voices) + len(b.voices)`` voices.
    """
    if b.ticks_per_beat != a.ticks_per_beat:
        b = quantize(b, a.ticks_per_beat)
    offset = len(a.voices)

    def named(prefix: str, voices: tuple[Voice, ...]) -> tuple[Voice, ...]:
        return tuple(Voice(f"{prefix}: {voice.name}" if voice.name and len(voices) > 1 else prefix,
                           voice.program, voice.is_drum) for voice in voices)

    notes = a.notes + tuple(dataclasses.replace(n, voice=n.voice + offset) for n in b.notes)
    return a.replace(notes=notes, voices=named(a_name, a.voices) + named(b_name, b.voices),
                     name=f"{a_name} / {b_name}")


class ABSwitch:
    """Which of the compared results is heard: A, B or both, by soloing their voices in ``mix``.

    Only the solos it set are undone (:meth:`release`, when the comparison ends), so a solo the user set in the
    legend for another voice is left alone.

    Args:
        mix: the window's voice mix (the legend's M/S/eye state).
        a_voices: how many voices A has (B's follow).
        b_voices: how many voices B has.
    """

    def __init__(self, mix: VoiceMix, a_voices: int, b_voices: int) -> None:
        self.mix = mix
        self.voices = {A: range(0, a_voices), B: range(a_voices, a_voices + b_voices)}
        self.hearing = BOTH
        self._set: set[int] = set()

    def hear(self, which: str) -> None:
        """Hear ``which`` (A, B or BOTH): solo its voices (BOTH: none), with one change of the mix."""
        wanted = set(self.voices[which]) if which in (A, B) else set()
        self._apply(wanted)
        self.hearing = which

    def release(self) -> None:
        """Undo the solos this switch set (the comparison ended)."""
        self._apply(set())
        self.hearing = BOTH

    def _apply(self, wanted: set[int]) -> None:
        mix = self.mix
        changes = [(voice, voice in wanted) for voice in sorted(self._set | wanted)
                   if mix.is_on(SOLO, voice) != (voice in wanted)]
        if not changes:
            self._set = wanted
            return
        mix.blockSignals(True)   # one change, so playback restarts from the playhead once
        try:
            for voice, on in changes:
                mix.set(SOLO, voice, on)
        finally:
            mix.blockSignals(False)
        self._set = wanted
        mix.changed.emit()
