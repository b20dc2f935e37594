"""Ticks to seconds and back, following a piece's tempo map, for many ticks at once.

Both synthesizers place notes with these, and the app's playhead uses them, so the playhead and the
sound agree.
"""

from __future__ import annotations

import numpy as np

from composer.music.notes import Piece


def _tempo_map(piece: Piece) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(change ticks, seconds at each change, seconds per tick after each change), first change at 0."""
    ticks, qpms = [0], [piece.tempos[0].qpm]
    for change in piece.tempos[1:]:
        if change.tick > ticks[-1]:
            ticks.append(change.tick)
            qpms.append(change.qpm)
        elif change.tick == ticks[-1]:
            qpms[-1] = change.qpm  # Piece.seconds: the later change at the same tick wins
    seconds_per_tick = 60.0 / (np.asarray(qpms, dtype=np.float64) * piece.ticks_per_beat)
    change_ticks = np.asarray(ticks, dtype=np.float64)
    starts = np.concatenate([[0.0], np.cumsum(np.diff(change_ticks) * seconds_per_tick[:-1])])
    return change_ticks, starts, seconds_per_tick


def seconds_at(piece: Piece, ticks) -> np.ndarray:
    """Wall-clock seconds of many ticks at once, following the tempo map (as :meth:`Piece.seconds`).

    Args:
        piece: gives the resolution and tempo changes.
        ticks: an array (or list) of ticks.

    Returns:
        float64 array of the same shape.
    """
    ticks = np.asarray(ticks, dtype=np.float64)
    change_ticks, starts, seconds_per_tick = _tempo_map(piece)
    index = np.clip(np.searchsorted(change_ticks, ticks, side="right") - 1, 0, None)
    return starts[index] + (ticks - change_ticks[index]) * seconds_per_tick[index]


def tick_at_seconds(piece: Piece, seconds: float) -> float:
    """The (fractional) tick reached ``seconds`` after tick 0: the inverse of :func:`seconds_at`."""
    change_ticks, starts, seconds_per_tick = _tempo_map(piece)
    index = max(0, int(np.searchsorted(starts, seconds, side="right")) - 1)
    return float(change_ticks[index] + (seconds - starts[index]) / seconds_per_tick[index])
