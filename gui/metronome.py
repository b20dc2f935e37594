"""The metronome's clicks and the count-in, as notes of a drum voice added to what is played.

The clicks go through the same output as the music (the SoundFont's drum kit, the additive synth's noise burst,
or channel 10 of a MIDI port), so they are timed exactly as the notes are. A click falls on every beat of the
piece's metre: a quarter in 4/4 and 3/4, a half in 2/2, a dotted quarter in the compound metres (6/8, 9/8,
12/8), the bar's first beat accented (a high wood block, louder; the other beats a low one). A pickup bar (a
short first bar before the tune's metre) clicks on the tune's beats counted back from its bar line, unaccented.
No Qt in here.
"""

from __future__ import annotations

from composer.music.notes import Note, Piece, TimeSignature, Voice

ACCENT_PITCH = 76      # General MIDI drum kit: Hi Wood Block (the bar's first beat)
BEAT_PITCH = 77        # Low Wood Block (the other beats)
ACCENT_VELOCITY = 120
BEAT_VELOCITY = 80
CLICK_VOICE = Voice("Metronome", 0, is_drum=True)


def beat_ticks(signature: TimeSignature, ticks_per_beat: int) -> int:
    """The metronome's beat in ``signature``: the denominator's note, or a dotted quarter (three eighths) in a
    compound metre (6/8, 9/8, 12/8: a numerator above 3 divisible by 3, over 8 or shorter)."""
    unit = max(1, ticks_per_beat * 4 // signature.denominator)
    if signature.denominator >= 8 and signature.numerator > 3 and signature.numerator % 3 == 0:
        unit *= 3
    return unit


def signature_at(piece: Piece, tick: int) -> TimeSignature:
    """The time signature in force at ``tick``."""
    current = piece.time_signatures[0]
    for signature in piece.time_signatures:
        if signature.tick <= tick:
            current = signature
    return current


def click_ticks(piece: Piece, begin: int, end: int) -> list[tuple[int, bool]]:
    """The metronome's clicks from ``begin`` up to (not including) ``end``.

    Returns:
        (tick, accented) for each beat, in time order; accented on each bar's first beat.
    """
    tpb = piece.ticks_per_beat
    signatures = list(piece.time_signatures)
    clicks: list[tuple[int, bool]] = []
    for index, signature in enumerate(signatures):
        segment_end = signatures[index + 1].tick if index + 1 < len(signatures) else end
        bar = signature.ticks_per_bar(tpb)
        unit = beat_ticks(signature, tpb)
        pickup = index == 0 and index + 1 < len(signatures) and segment_end - signature.tick == bar \
            and bar < signatures[1].ticks_per_bar(tpb)
        if pickup:   # the tune's beats, counted back from its first bar line
            unit = beat_ticks(signatures[1], tpb)
            beats = range(segment_end - unit, signature.tick - 1, -unit)
            clicks.extend((tick, False) for tick in sorted(beats) if begin <= tick < end)
            continue
        bar_start = signature.tick
        while bar_start < min(segment_end, end):
            tick = bar_start
            while tick < min(bar_start + bar, segment_end):
                if begin <= tick < end:
                    clicks.append((tick, tick == bar_start))
                tick += unit
            bar_start += bar
    return clicks


def click_notes(clicks: list[tuple[int, bool]], ticks_per_beat: int, voice: int, end: int,
                shift: int = 0) -> list[Note]:
    """The clicks as short notes of drum voice ``voice``, moved by ``shift`` ticks, none sounding past ``end``
    (a tick after the shift)."""
    length = max(1, ticks_per_beat // 4)
    notes = []
    for tick, accented in clicks:
        start = tick + shift
        if start >= end:
            continue
        notes.append(Note(start, min(start + length, end), ACCENT_PITCH if accented else BEAT_PITCH,
                          ACCENT_VELOCITY if accented else BEAT_VELOCITY, voice))
    return notes


def count_in_bar(piece: Piece, tick: int) -> tuple[int, list[tuple[int, bool]]]:
    """One bar of count-in before ``tick``, in the metre in force there.

    Returns:
        (the bar's length in ticks, its clicks as (tick from the bar's start, accented)).
    """
    signature = signature_at(piece, tick)
    bar = signature.ticks_per_bar(piece.ticks_per_beat)
    unit = beat_ticks(signature, piece.ticks_per_beat)
    return bar, [(t, t == 0) for t in range(0, bar, unit)]


def with_clicks(piece: Piece, notes: list[Note]) -> Piece:
    """``piece`` with the click ``notes`` (made for voice :func:`click_voice_index`) added, on a drum voice of their
    own after its voices."""
    if not notes:
        return piece
    padding = (Voice(),) * (click_voice_index(piece) - len(piece.voices))
    return piece.replace(notes=piece.notes + tuple(notes), voices=tuple(piece.voices) + padding + (CLICK_VOICE,))


def click_voice_index(piece: Piece) -> int:
    """The index the click voice gets in ``piece``: after every voice it has (and every voice its notes use)."""
    return max(len(piece.voices), max((n.voice + 1 for n in piece.notes), default=0))
