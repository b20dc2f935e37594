"""Continuing one voice of a piece of several voices with a melody model (no Qt here: it runs on the worker).

A melody model writes one line: given a 4-part piece it would reduce the primer to its top line and hand back
a one-voice piece. Instead, the melody voice (the voice of the selected notes, else the highest one) alone is
the primer, and each result is the original piece, every voice as it was and at its own resolution, with the
new notes appended to that voice. The other voices simply stop where the piece stops.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from composer.melody.encoding import EncodingConfig, prepare
from composer.music.notes import Note, Piece, select_voices

if TYPE_CHECKING:   # the generation library imports torch: imported when a continuation is merged (on the worker)
    from composer.melody.generate import GenerationResult


def continues_one_voice(config: EncodingConfig, piece: Piece | None) -> bool:
    """Whether the model would flatten or drop voices of ``piece`` (so one voice is continued instead): the piece
    has notes in several voices and the model writes one line, or fewer voices than the piece has."""
    if piece is None or len({note.voice for note in piece.notes}) < 2:
        return False
    return config.monophonic or config.num_voices < len(piece.voices)


def melody_voice(piece: Piece, selected: Iterable[Note] = ()) -> int:
    """The voice to continue: the one all ``selected`` notes belong to, else the highest sounding voice."""
    voices = {note.voice for note in selected}
    if len(voices) == 1:
        return voices.pop()
    sounding = [v for v in range(len(piece.voices)) if piece.voice_notes(v)]
    if not sounding:
        return 0
    return max(sounding, key=lambda v: (sum(n.pitch for n in piece.voice_notes(v)) / len(piece.voice_notes(v)), -v))


def voice_name(piece: Piece, voice: int) -> str:
    """``"Soprano"``, or ``"voice 2"`` for a voice without a name."""
    return piece.voices[voice].name or f"voice {voice + 1}"


def voice_primer(piece: Piece, voice: int) -> Piece:
    """The primer given to the model: ``voice`` of ``piece`` alone."""
    return select_voices(piece, [voice])


def merge_continuation(original: Piece, voice: int, result: GenerationResult,
                       config: EncodingConfig) -> GenerationResult:
    """``result`` (continuations of ``voice`` alone, at the model's grid) as continuations of the whole piece.

    Args:
        original: the piece continued, every voice.
        voice: the voice that was the primer.
        result: what the model wrote from :func:`voice_primer`.
        config: the model's encoding (to tell the primer's notes from the new ones).

    Returns:
        The result with each piece the original plus the new notes in ``voice``, at the original's
        resolution; its ticks (``primer_ticks``, ``length_ticks``, chord spans) at that resolution too.
    """
    from composer.melody.generate import new_notes

    primer_notes = prepare(voice_primer(original, voice), config).notes
    pieces = []
    for piece in result.pieces:
        new = new_notes(piece, primer_notes)
        scale = _scaler(piece.ticks_per_beat, original.ticks_per_beat)
        moved = tuple(dataclasses.replace(n, start=scale(n.start), end=max(scale(n.end), scale(n.start) + 1),
                                          voice=voice) for n in new)
        pieces.append(original.replace(notes=original.notes + moved))
    scale = _scaler(result.pieces[0].ticks_per_beat if result.pieces else original.ticks_per_beat,
                    original.ticks_per_beat)
    spans = [dataclasses.replace(s, start=scale(s.start), end=scale(s.end)) for s in result.chord_spans]
    return dataclasses.replace(result, pieces=pieces, primer_ticks=scale(result.primer_ticks),
                               length_ticks=scale(result.length_ticks), chord_spans=spans)


def _scaler(from_ticks_per_beat: int, to_ticks_per_beat: int):
    """Ticks at one resolution to the nearest tick at another."""
    return lambda tick: (2 * tick * to_ticks_per_beat + from_ticks_per_beat) // (2 * from_ticks_per_beat)
