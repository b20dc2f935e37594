"""Form statistics of a piece: does it end on the tonic, repeat its bars and rhythms, keep a singable range
and keep to its key (issue 14).

Per piece (:func:`form_statistics`):

* ``ends_on_tonic``: 1.0 when the last note's pitch class is the tonic of the piece's key, else 0.0. The key is
  the Krumhansl-Schmuckler estimate over the whole piece (:func:`composer.music.analysis.estimate_key`); the
  last note is the one with the latest onset (the highest of a chord there).
* ``repeated_bars``: share of the non-empty bars whose set of (onset within the bar, pitch) pairs equals that of
  an earlier non-empty bar.
* ``repeated_rhythms``: share of the non-empty bars whose set of onsets within the bar equals that of an earlier
  non-empty bar.
* ``pitch_range``: highest minus lowest pitch, in semitones.
* ``in_scale``: share of sounding time on the estimated key's scale (``estimate_key``'s ``in_scale``).

Bars are the piece's own (:func:`composer.music.metre.metre_of`): a pickup written as a short opening time
signature is a bar of its own, and the bars after it are counted from the first full bar's downbeat; a piece
without one has bars of its opening time signature from tick 0. A note belongs to the bar of its onset (a note held over a bar line is not in
the next bar). Empty bars (rests only) are neither counted nor repeated.

Over a collection (:func:`summarize`): per statistic the mean and median over pieces, and a bootstrap 95 %
interval of the mean over pieces (numpy, fixed seed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from composer.music.analysis import estimate_key
from composer.music.keys import parse_key
from composer.music.metre import metre_of
from composer.music.notes import Piece

STATISTICS = ("ends_on_tonic", "repeated_bars", "repeated_rhythms", "pitch_range", "in_scale")
DESCRIPTIONS = {
    "ends_on_tonic": "last note is the tonic of the piece's key",
    "repeated_bars": "bars that exactly repeat an earlier bar",
    "repeated_rhythms": "bars whose rhythm repeats an earlier bar's",
    "pitch_range": "pitch range (semitones)",
    "in_scale": "in-scale share of note time",
}
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 14


@dataclass(frozen=True)
class FormStatistics:
    """The form statistics of one piece (see the module docstring)."""

    ends_on_tonic: float
    repeated_bars: float
    repeated_rhythms: float
    pitch_range: float
    in_scale: float
    key: str
    bars: int            # non-empty bars

    def values(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in STATISTICS}

    def to_dict(self) -> dict:
        return asdict(self)


def bar_contents(piece: Piece) -> list[frozenset[tuple[int, int]]]:
    """The (onset within the bar, pitch) pairs of each bar (the pickup bar first, if any) up to the last onset's
    bar; bars without onsets are empty sets."""
    if not piece.notes:
        return []
    metre = metre_of(piece)
    first = metre.bar_index(0)                     # -1 with a pickup
    bars: list[set[tuple[int, int]]] = [set() for _ in range(metre.bar_index(max(n.start for n in piece.notes))
                                                               - first + 1)]
    for note in piece.notes:
        bars[metre.bar_index(note.start) - first].add((metre.position(note.start), note.pitch))
    return [frozenset(bar) for bar in bars]


def repeat_shares(piece: Piece) -> tuple[float, float, int]:
    """(share of non-empty bars repeating an earlier bar exactly, share repeating an earlier bar's rhythm,
    number of non-empty bars); shares are 0.0 for a piece without notes."""
    seen_bars: set[frozenset] = set()
    seen_rhythms: set[frozenset] = set()
    bars = repeated = rhythms = 0
    for content in bar_contents(piece):
        if not content:
            continue
        rhythm = frozenset(onset for onset, _ in content)
        bars += 1
        repeated += content in seen_bars
        rhythms += rhythm in seen_rhythms
        seen_bars.add(content)
        seen_rhythms.add(rhythm)
    if bars == 0:
        return 0.0, 0.0, 0
    return repeated / bars, rhythms / bars, bars


def form_statistics(piece: Piece) -> FormStatistics | None:
    """The form statistics of ``piece``; None for a piece without notes."""
    estimate = estimate_key(piece)
    if estimate is None:
        return None
    tonic, _ = parse_key(estimate.key)
    last_start = max(n.start for n in piece.notes)
    last = max(n.pitch for n in piece.notes if n.start == last_start)
    pitches = [n.pitch for n in piece.notes]
    repeated, rhythms, bars = repeat_shares(piece)
    return FormStatistics(ends_on_tonic=float(last % 12 == tonic), repeated_bars=repeated,
                          repeated_rhythms=rhythms, pitch_range=float(max(pitches) - min(pitches)),
                          in_scale=estimate.in_scale, key=estimate.key, bars=bars)


def bootstrap_interval(values, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampling the values); (nan, nan) when empty."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def summarize(statistics: list[FormStatistics | None]) -> dict:
    """Mean, median and bootstrap 95 % interval of the mean of every statistic over the pieces (pieces without
    notes left out), and the number of pieces counted."""
    counted = [s for s in statistics if s is not None]
    summary: dict = {"pieces": len(counted)}
    for name in STATISTICS:
        values = np.array([getattr(s, name) for s in counted], dtype=float)
        low, high = bootstrap_interval(values)
        summary[name] = {"mean": float(values.mean()) if len(values) else float("nan"),
                         "median": float(np.median(values)) if len(values) else float("nan"),
                         "ci95": [low, high]}
    return summary


def section_bars(piece: Piece, sections: int) -> list[list[frozenset[tuple[int, int]]]]:
    """The piece's full bars (the pickup bar left out) cut into ``sections`` equal runs of bars (the bars that
    do not divide evenly, at the end, left out)."""
    bars = bar_contents(piece)
    if metre_of(piece).phase:
        bars = bars[1:]
    per_section = len(bars) // sections if sections else 0
    return [bars[i * per_section:(i + 1) * per_section] for i in range(sections)] if per_section else []


def form_match(piece: Piece, form: str) -> dict[str, float]:
    """How recognisable a form is in a piece: aligned bars that are identical between two sections.

    The piece's bars are cut into ``len(form)`` equal sections; for every pair of sections, the share of
    their aligned bars (first with first...) whose (onset, pitch) sets are equal. ``same``: the mean over pairs
    with the same letter (the A sections of AABA); ``different``: over pairs with different letters (A and
    B). A piece that carries its form scores ``same`` far above ``different``.

    Returns:
        {"same": float or nan, "different": float or nan} (nan where the form has no such pair).
    """
    letters = form.upper()
    sections = section_bars(piece, len(letters))
    same, different = [], []
    for i in range(len(sections)):
        for j in range(i + 1, len(sections)):
            pairs = list(zip(sections[i], sections[j]))
            share = sum(a == b and bool(a) for a, b in pairs) / len(pairs) if pairs else 0.0
            (same if letters[i] == letters[j] else different).append(share)
    return {"same": float(np.mean(same)) if same else float("nan"),
            "different": float(np.mean(different)) if different else float("nan")}
