"""Choosing the instrument of each voice: ``VOICE=PROGRAM`` overrides of the General MIDI programs.

A voice is named by its number counted from 1 (as the app and the track names show them), by its name
(``soprano``, ``Bass``: case does not matter), or ``all``. A program is a General MIDI program number 0..127
as MIDI files store it (0 Acoustic Grand Piano, 19 Church Organ, 40 Violin, 52 Choir Aahs, 73 Flute), or its
General MIDI name (``violin``, ``"church organ"``; case and spaces do not matter).
"""

from __future__ import annotations

from composer.music.notes import Piece, Voice

ALL_VOICES = "all"
SATB_PROGRAM = 52   # Choir Aahs: what a part named Soprano/Alto/Tenor/Bass plays when its program is left at 0
_SATB_WORDS = ("soprano", "alto", "tenor", "bass", "choir", "chorale", "satb")


class ProgramError(ValueError):
    """A ``VOICE=PROGRAM`` text that cannot be used; the message says why, in one line."""


def gm_program_names() -> list[str]:
    """The 128 General MIDI program names, by program number (pretty_midi's table)."""
    from pretty_midi.constants import INSTRUMENT_MAP

    return list(INSTRUMENT_MAP)


def _squash(text: str) -> str:
    return "".join(text.lower().split())


def parse_program(text: str) -> int:
    """A General MIDI program from a number 0..127 or a General MIDI name.

    Raises:
        ProgramError: neither.
    """
    text = text.strip()
    if text.lstrip("-").isdigit():
        number = int(text)
        if not 0 <= number <= 127:
            raise ProgramError(f"a General MIDI program is 0..127, got {number}")
        return number
    names = [_squash(name) for name in gm_program_names()]
    if _squash(text) in names:
        return names.index(_squash(text))
    close = [name for name in gm_program_names() if _squash(text) in _squash(name)][:4]
    hint = f" (did you mean: {', '.join(close)}?)" if close else " (a number 0..127, or a name such as violin)"
    raise ProgramError(f"unknown General MIDI program {text!r}{hint}")


def split_override(text: str) -> tuple[str, str]:
    """``VOICE=PROGRAM`` into its two sides (checked for shape only).

    Raises:
        ProgramError: no ``=``, or an empty side.
    """
    voice, sep, program = text.partition("=")
    if not sep or not voice.strip() or not program.strip():
        raise ProgramError(f"expected VOICE=PROGRAM (such as 1=73, bass=32 or all=19), got {text!r}")
    return voice.strip(), program.strip()


def _voice_indices(piece: Piece, name: str) -> list[int]:
    """The voice indices ``name`` refers to: ``all``, a number from 1, or a voice name.

    Raises:
        ProgramError: no such voice.
    """
    count = len(piece.voices)
    if name.lower() == ALL_VOICES:
        return list(range(count))
    if name.isdigit():
        number = int(name)
        if not 1 <= number <= count:
            raise ProgramError(f"voice {number} does not exist: the piece has {count} voice(s), numbered from 1")
        return [number - 1]
    matches = [i for i, voice in enumerate(piece.voices) if voice.name.strip().lower() == name.lower()]
    if not matches:
        names = ", ".join(v.name or str(i + 1) for i, v in enumerate(piece.voices))
        raise ProgramError(f"no voice named {name!r}; the voices are: {names}")
    return matches


def resolve_programs(piece: Piece, overrides: list[str] | tuple[str, ...]) -> dict[int, int]:
    """The program of each overridden voice, from ``VOICE=PROGRAM`` texts (later ones win).

    Args:
        piece: whose voices are named.
        overrides: texts such as ``"1=73"``, ``"bass=32"``, ``"all=19"``.

    Returns:
        General MIDI program by voice index (drum voices keep their kit and are left out).

    Raises:
        ProgramError: a text names no voice or no program.
    """
    result: dict[int, int] = {}
    for text in overrides:
        voice, program = split_override(text)
        number = parse_program(program)
        for index in _voice_indices(piece, voice):
            if not piece.voices[index].is_drum:
                result[index] = number
    return result


def sounding_program(voice: Voice) -> int:
    """The General MIDI program a voice plays when none is chosen for it: its own, except that a sung part
    (a name with soprano, alto, tenor, bass, choir...) left at program 0, as 4-part files are written, sings
    (:data:`SATB_PROGRAM`) rather than playing the piano, as the additive synth gives it a choir timbre."""
    if voice.program == 0 and not voice.is_drum and any(word in voice.name.lower() for word in _SATB_WORDS):
        return SATB_PROGRAM
    return voice.program


def with_programs(piece: Piece, programs: dict[int, int] | None) -> Piece:
    """The piece with its voices' programs replaced by ``programs`` (by voice index)."""
    if not programs:
        return piece
    voices = tuple(Voice(v.name, programs.get(i, v.program), v.is_drum) for i, v in enumerate(piece.voices))
    return piece.replace(voices=voices)
