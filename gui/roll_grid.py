"""The piano roll's grid: its sizes, the snap choices and tools, voice colours, pitch names and bar lines.

Shared by the canvas (:mod:`gui.piano_roll`), its painter (:mod:`gui.roll_painter`) and its mouse gestures
(:mod:`gui.roll_gesture`); :mod:`gui.piano_roll` re-exports the names other modules use.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtGui import QColor

from composer.music.notes import Piece

KEY_WIDTH = 58        # px, the piano keys on the left
RULER_HEIGHT = 22     # px, the bar numbers on top
EDGE_GRAB = 6         # px near a note's right edge that resize instead of move
BASE_BEAT_WIDTH = 40  # px per beat at zoom 1
BASE_ROW_HEIGHT = 13  # px per pitch at zoom 1
MIN_ZOOM, MAX_ZOOM = 0.125, 8.0

VOICE_COLOURS = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")
BLACK_KEYS = {1, 3, 6, 8, 10}
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Snap choices: label -> length in quarter-note beats (0 means off: one tick)
SNAP_CHOICES: dict[str, float] = {
    "1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/32": 0.125, "1/8 triplet": 1 / 3, "1/16 triplet": 1 / 6, "Off": 0.0,
}


class Tool(Enum):
    DRAW = "Draw"
    SELECT = "Select"


def voice_colour(voice: int) -> QColor:
    """The colour of a voice (cycling through a palette that tells 8 voices apart)."""
    return QColor(VOICE_COLOURS[voice % len(VOICE_COLOURS)])


def pitch_name(pitch: int) -> str:
    """``60`` -> ``"C4"``."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def is_black_key(pitch: int) -> bool:
    return pitch % 12 in BLACK_KEYS


def bar_lines(piece: Piece, end_tick: int, first: int = 0, last: int | None = None) -> list[tuple[int, bool, int]]:
    """Bar and beat lines up to ``end_tick``, following the piece's time signatures.

    Args:
        piece: gives the time signatures.
        end_tick: where the last time signature's lines end.
        first, last: only the bars that reach from ``first`` up to ``last`` (a painted view); they are numbered
            as in the whole piece.

    Returns:
        (tick, is_bar_line, bar_number starting at 1) for each line.
    """
    lines = []
    signatures = list(piece.time_signatures)
    bar_number = 1
    for index, signature in enumerate(signatures):
        segment_end = signatures[index + 1].tick if index + 1 < len(signatures) else end_tick
        if last is not None:
            segment_end = min(segment_end, last + 1)
        bar = signature.ticks_per_bar(piece.ticks_per_beat)
        beat = max(1, piece.ticks_per_beat * 4 // signature.denominator)
        skipped = max(0, min(first, segment_end) - signature.tick) // bar   # whole bars before ``first``
        tick = signature.tick + skipped * bar
        bar_number += skipped
        while tick < segment_end:
            lines.append((tick, True, bar_number))
            beat_tick = tick + beat
            while beat_tick < min(tick + bar, segment_end):
                lines.append((beat_tick, False, bar_number))
                beat_tick += beat
            tick += bar
            bar_number += 1
    return lines
