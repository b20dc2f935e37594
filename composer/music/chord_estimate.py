"""Chords estimated for any piece, one per bar (or per half bar), by template matching.

Each span's pitch classes are weighted by how long they sound in it (its lowest sounding pitch class gets a
little extra, as a bass), and every triad and seventh that :mod:`composer.music.chords` knows (major, minor,
diminished, augmented; dominant, major, minor, half-diminished and diminished sevenths) at each of the 12
roots is scored by how much of that weight falls on its tones, less a cost for tones it lacks and for a seventh
(named only when it sounds for over 15 % of the span: passing notes do not make every bar a seventh chord).
Bars follow the piece's metre (a pickup is a span of its own). A span where nothing sounds keeps the previous
chord (or, before any note, takes the first chord found).
"""

from __future__ import annotations

import numpy as np

from composer.music.chords import NONE, QUALITIES, Chord, ChordSpan
from composer.music.metre import metre_of
from composer.music.notes import Piece

TEMPLATE_QUALITIES = ("", "m", "dim", "aug", "7", "maj7", "m7", "m7b5", "dim7")
TEMPLATES = tuple(QUALITIES[q] for q in TEMPLATE_QUALITIES)
MISSING_COST = 0.15     # per chord tone that does not sound in the span
SEVENTH_COST = 0.3      # per tone beyond a triad: a seventh is named when it has over 15 % of the span's weight
BASS_SHARE = 0.25       # extra weight of the lowest pitch class, as a share of the span's mean note weight


def span_starts(piece: Piece, per_half_bar: bool = False) -> list[int]:
    """Where the estimated spans start: each bar line of the piece (and each half bar when asked).

    Args:
        piece: the piece (its time signatures and pickup decide the bar lines).
        per_half_bar: also split each full bar in two halves.

    Returns:
        Ascending ticks from 0, covering the piece up to its end (empty for a piece without notes).
    """
    if not piece.notes:
        return []
    metre = metre_of(piece)
    starts = [0] if metre.phase else []
    step = _step(piece, per_half_bar)
    tick = metre.phase
    while tick < piece.end:
        starts.append(tick)
        tick += step
    return starts


def _step(piece: Piece, per_half_bar: bool) -> int:
    """The length of a full span: a bar, or half of one."""
    bar = metre_of(piece).bar_ticks
    return bar // 2 if per_half_bar and bar % 2 == 0 else bar


def pitch_class_weights(piece: Piece, start: int, end: int) -> np.ndarray:
    """float [12]: ticks each pitch class sounds within [start, end), the lowest one weighted a little more."""
    weights = np.zeros(12)
    sounding = [n for n in piece.notes if min(end, n.end) - max(start, n.start) > 0]
    for note in sounding:
        weights[note.pitch % 12] += min(end, note.end) - max(start, note.start)
    if sounding:
        weights[min(n.pitch for n in sounding) % 12] += BASS_SHARE * weights.sum() / len(sounding)
    return weights


def best_chord(weights: np.ndarray) -> Chord:
    """The triad or seventh (any of the 12 roots) that best matches pitch-class ``weights``.

    Args:
        weights: float [12], how much each pitch class sounds.

    Returns:
        The best chord; :data:`~composer.music.chords.NONE` when nothing sounds.
    """
    total = float(weights.sum())
    if total <= 0:
        return NONE
    share = weights / total
    best, best_score = NONE, -np.inf
    for intervals in TEMPLATES:
        for root in range(12):
            tones = [(root + i) % 12 for i in intervals]
            missing = sum(1 for t in tones if share[t] == 0)
            score = 2 * share[tones].sum() - MISSING_COST * missing - SEVENTH_COST * (len(tones) - 3)
            if score > best_score + 1e-9:
                best, best_score = Chord(root, tuple(intervals)), score
    return best


def estimate_chords(piece: Piece, per_half_bar: bool = False) -> list[ChordSpan]:
    """One estimated chord per bar (or half bar) of ``piece``.

    Args:
        piece: any piece, of one voice or many.
        per_half_bar: a chord per half bar instead of per bar.

    Returns:
        Spans covering the piece from tick 0 to the end of its last bar (empty for a piece without notes).
    """
    starts = span_starts(piece, per_half_bar)
    if not starts:
        return []
    ends = starts[1:] + [starts[-1] + _step(piece, per_half_bar)]
    chords: list[Chord | None] = []
    previous: Chord | None = None
    for start, end in zip(starts, ends):
        chord = best_chord(pitch_class_weights(piece, start, end))
        previous = previous if chord.root is None else chord
        chords.append(previous)
    first = next((c for c in chords if c is not None), NONE)
    return [ChordSpan(s, e, c if c is not None else first) for s, e, c in zip(starts, ends, chords)]
