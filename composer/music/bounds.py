"""How long a piece Composer works on: bounded by what a user can mean, not by what a file can say.

A MIDI file may hold a note hours long (the reader allows 100,000 beats, see :mod:`composer.music.midi_io`), and
harmonizing or continuing it costs time and memory in proportion to its length: a 164-byte melody with a two-hour
note once kept ``harmonize`` busy for many minutes. A melody, piece or primer longer than :data:`MAX_WORK_BEATS`
is refused at once, in one line, before any work.
"""

from __future__ import annotations

from composer.music.notes import Piece

MAX_WORK_BEATS = 2048   # 512 bars of 4/4: as long as the longest piece generate writes (--bars 512)


def check_length(piece: Piece, what: str, error: type[ValueError] = ValueError) -> None:
    """Refuse a piece longer than :data:`MAX_WORK_BEATS` beats.

    Args:
        piece: the melody, piece or primer to work on.
        what: how the message names it ("the melody", "the primer").
        error: the exception class to raise (the caller's own ValueError subclass).

    Raises:
        ValueError: (of class ``error``) the piece ends past the limit; the message says by how much.
    """
    beats = piece.end / piece.ticks_per_beat
    if beats > MAX_WORK_BEATS:
        longest = max(piece.notes, key=lambda note: note.end - note.start)
        held = (longest.end - longest.start) / piece.ticks_per_beat
        raise error(f"{what} lasts {beats:,.0f} beats, over the limit of {MAX_WORK_BEATS:,} (512 bars of 4/4)"
                    + (f"; one note is held for {held:,.0f} beats" if held > MAX_WORK_BEATS / 4 else ""))
