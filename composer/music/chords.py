"""Chord symbols, chord codes, and chord labels for music that has none.

Chord symbols: a root (``C``, ``F#``, ``Bb``...) then a quality, optionally ``/BASS``: ``C``, ``Am``,
``F#m``, ``Bb7``, ``Gdim``, ``Esus4``, ``Cmaj7``, ``Dm7``, ``Bm7b5``, ``C6``, ``G/B``; ``N`` (or ``NC``)
is "no chord". :data:`QUALITIES` lists every quality.

A chord is stored as one integer *code* so it can travel beside the token ids: ``-1`` for no chord,
else ``root + 12 * mask`` where bit ``i`` of ``mask`` means "the pitch class ``i`` semitones above the
root sounds". Transposing a code moves only the root. (How the melody model reads chords:
:mod:`composer.melody.conditioning`.)

Progressions (``GenerationRequest.chords``, ``composer generate --chords``): one item per chord, each
lasting one bar, or ``SYMBOL:BEATS`` for a length in beats (quarter notes): ``"C G Am F"``,
``"C:2 G:2 Am F"``. ``|`` may be written between items for readability and is ignored. The progression
repeats until the requested length is filled.

The bundled corpora carry no chord labels, so training labels are derived (see
``midi_data/models/README.md``):

* :func:`label_harmony` labels spans of music from all its voices (the chorales): the pitch classes
  sounding in the span, weighted by duration, matched against chord templates.
* :func:`label_melody` labels spans of a single melody (the folk tunes) with the *melody-implied*
  harmony: the diatonic triad of the key that best covers the span's notes, with a prior toward the
  primary chords. This is an analysis of the melody, not a harmony anyone wrote down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from composer.music.keys import parse_key
from composer.music.notes import Note, Piece

NO_CHORD = -1  # the code of "no chord"


_ROOTS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

# quality suffix -> semitones above the root
QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "maj": (0, 4, 7), "M": (0, 4, 7),
    "m": (0, 3, 7), "min": (0, 3, 7), "-": (0, 3, 7),
    "dim": (0, 3, 6), "o": (0, 3, 6), "°": (0, 3, 6),
    "aug": (0, 4, 8), "+": (0, 4, 8),
    "5": (0, 7),
    "sus2": (0, 2, 7), "sus4": (0, 5, 7), "sus": (0, 5, 7),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10), "min7": (0, 3, 7, 10), "-7": (0, 3, 7, 10),
    "mmaj7": (0, 3, 7, 11), "m7b5": (0, 3, 6, 10), "ø": (0, 3, 6, 10), "ø7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9), "o7": (0, 3, 6, 9), "°7": (0, 3, 6, 9),
    "7sus4": (0, 5, 7, 10), "9": (0, 2, 4, 7, 10), "maj9": (0, 2, 4, 7, 11), "m9": (0, 2, 3, 7, 10),
    "add9": (0, 2, 4, 7),
}
_CANONICAL = {(0, 4, 7): "", (0, 3, 7): "m", (0, 3, 6): "dim", (0, 4, 8): "aug", (0, 4, 7, 10): "7",
              (0, 4, 7, 11): "maj7", (0, 3, 7, 10): "m7", (0, 3, 6, 10): "m7b5", (0, 3, 6, 9): "dim7",
              (0, 2, 7): "sus2", (0, 5, 7): "sus4", (0, 7): "5", (0, 4, 7, 9): "6", (0, 3, 7, 9): "m6",
              (0, 3, 7, 11): "mmaj7", (0, 5, 7, 10): "7sus4", (0, 2, 4, 7, 10): "9", (0, 2, 4, 7, 11): "maj9",
              (0, 2, 3, 7, 10): "m9", (0, 2, 4, 7): "add9"}
_SYMBOL_RE = re.compile(r"^([A-Ga-g])([#b]?)(.*?)(?:/([A-Ga-g])([#b]?))?$")


@dataclass(frozen=True)
class Chord:
    """A chord: a root and the pitch classes above it, or no chord.

    Attributes:
        root: pitch class of the root 0..11, or None for no chord.
        intervals: sorted semitones above the root (0 first), a slash bass included; empty for no chord.
        bass: pitch class of a slash bass (``F/C``: 0), or None when the root is the bass. It is part of the
            name, not of the code (the model hears the bass as one of the pitch classes), nor of equality: ``F/C``
            and ``F`` are the same chord, written two ways.
    """

    root: int | None
    intervals: tuple[int, ...] = ()
    bass: int | None = field(default=None, compare=False)

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The chord's pitch classes (empty for no chord)."""
        if self.root is None:
            return frozenset()
        return frozenset((self.root + i) % 12 for i in self.intervals)

    @property
    def code(self) -> int:
        """The integer code (see the module docstring)."""
        if self.root is None:
            return NO_CHORD
        return self.root + 12 * sum(1 << i for i in set(self.intervals))

    @property
    def quality_intervals(self) -> tuple[int, ...]:
        """The intervals the chord's name is made of: without a slash bass that is no chord tone (``C/Bb``:
        C E G), with it when it is one (``F/C``, ``G/B``: the triad)."""
        if self.bass is None or self.root is None:
            return self.intervals
        without = tuple(i for i in self.intervals if i != (self.bass - self.root) % 12)
        return without if len(without) >= 3 and without in _CANONICAL else self.intervals

    @property
    def name(self) -> str:
        """A standard symbol: ``C``, ``Am``, ``G7``, ``C7sus4``, ``F/C``, ``N``; unnamed shapes list their
        intervals (``C(0,1,7)``)."""
        if self.root is None:
            return "N"
        slash = f"/{_NAMES[self.bass]}" if self.bass is not None else ""
        return _NAMES[self.root] + self.suffix + slash

    @property
    def suffix(self) -> str:
        """The quality as written after the root: ``""``, ``m``, ``7sus4``...; ``(0,1,7)`` for an unnamed shape."""
        suffix = _CANONICAL.get(self.quality_intervals)
        return suffix if suffix is not None else "(" + ",".join(str(i) for i in self.quality_intervals) + ")"

    @classmethod
    def from_code(cls, code: int) -> Chord:
        if code < 0:
            return cls(None)
        root, mask = code % 12, code // 12
        return cls(root, tuple(i for i in range(12) if mask >> i & 1))

    def transpose(self, semitones: int) -> Chord:
        if self.root is None:
            return self
        bass = None if self.bass is None else (self.bass + semitones) % 12
        return Chord((self.root + semitones) % 12, self.intervals, bass)


NONE = Chord(None)


def parse_chord(symbol: str) -> Chord:
    """Parse one chord symbol.

    Args:
        symbol: e.g. ``"C"``, ``"Am"``, ``"F#m"``, ``"Bb7"``, ``"Gdim"``, ``"Esus4"``, ``"G/B"``, ``"N"``.

    Returns:
        The chord; a slash bass is kept as its ``bass`` (and in its name) and added to its pitch classes.

    Raises:
        ValueError: the symbol is not a chord (the message names it and shows examples).
    """
    text = symbol.strip()
    if text.upper() in ("N", "NC", "N.C.", "N.C"):
        return NONE
    match = _SYMBOL_RE.match(text)
    examples = "examples: C, Am, F#m, Bb7, Gdim, Esus4, Cmaj7, G/B, N for no chord"
    if not match:
        raise ValueError(f"not a chord symbol: {symbol!r} ({examples})")
    letter, accidental, quality, bass_letter, bass_accidental = match.groups()
    if quality not in QUALITIES:
        raise ValueError(f"unknown chord quality {quality!r} in {symbol!r} ({examples})")
    root = (_ROOTS[letter.upper()] + {"": 0, "#": 1, "b": -1}[accidental]) % 12
    intervals = set(QUALITIES[quality])
    bass = None
    if bass_letter:
        bass = (_ROOTS[bass_letter.upper()] + {"": 0, "#": 1, "b": -1}[bass_accidental]) % 12
        intervals.add((bass - root) % 12)
    return Chord(root, tuple(sorted(intervals)), None if bass == root else bass)


# -- progressions and schedules ------------------------------------------------------------------------
@dataclass(frozen=True)
class ChordSpan:
    """A chord sounding from ``start`` (inclusive) to ``end`` (exclusive), in grid ticks."""

    start: int
    end: int
    chord: Chord


def parse_progression(items: str | tuple[str, ...] | list[str]) -> list[tuple[Chord, float | None]]:
    """Parse a progression: ``"C G Am F"``, ``"C:2 G:2 | Am F"``, or the same as a list of items.

    Returns:
        (chord, beats) per item; beats is None for "one bar".

    Raises:
        ValueError: an empty progression, a bad chord symbol, or a bad length (each named).
    """
    if isinstance(items, str):
        items = items.split()
    words = [w for item in items for w in str(item).replace("|", " ").split()]
    if not words:
        raise ValueError("the chord progression is empty (example: \"C G Am F\")")
    progression = []
    for word in words:
        symbol, _, length = word.partition(":")
        beats = None
        if length:
            try:
                beats = float(length)
            except ValueError:
                raise ValueError(f"bad chord length {length!r} in {word!r}: write SYMBOL:BEATS, "
                                 f"e.g. C:2") from None
            if not 0 < beats <= 64:
                raise ValueError(f"chord length in {word!r} must be more than 0 and at most 64 beats")
        progression.append((parse_chord(symbol), beats))
    return progression


def progression_spans(progression: list[tuple[Chord, float | None]], start: int, end: int, bar_ticks: int,
                      ticks_per_beat: int) -> list[ChordSpan]:
    """Lay a progression out from ``start`` to ``end``, repeating it as often as needed.

    Args:
        progression: from :func:`parse_progression`.
        start, end: the ticks to fill.
        bar_ticks: length of one bar (an item without a length lasts one bar).
        ticks_per_beat: grid steps per beat (quarter note).

    Raises:
        ValueError: a chord length that rounds to less than one grid step.
    """
    lengths = []
    for chord, beats in progression:
        ticks = bar_ticks if beats is None else round(beats * ticks_per_beat)
        if ticks < 1:
            raise ValueError(f"chord {chord.name} lasts {beats} beats: less than one grid step")
        lengths.append(ticks)
    spans, tick, index = [], start, 0
    while tick < end:
        chord, length = progression[index % len(progression)][0], lengths[index % len(progression)]
        spans.append(ChordSpan(tick, min(end, tick + length), chord))
        tick += length
        index += 1
    return spans


# -- labelling music --------------------------------------------------------------------------------
def _span_weights(notes: tuple[Note, ...], start: int, end: int, strong_weight: float = 1.0) -> np.ndarray:
    """float [12]: ticks each pitch class sounds within [start, end); a note sounding at ``start`` counts
    ``strong_weight`` times (the downbeat of the span is metrically strong)."""
    weights = np.zeros(12)
    for note in notes:
        overlap = min(end, note.end) - max(start, note.start)
        if overlap > 0:
            weights[note.pitch % 12] += overlap * (strong_weight if note.start <= start < note.end else 1.0)
    return weights


def _spans_of(piece: Piece, span_ticks: int) -> range:
    if span_ticks < 1:
        raise ValueError(f"span_ticks must be at least 1, got {span_ticks}")
    return range(0, piece.end, span_ticks)


_HARMONY_TEMPLATES = [(0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8), (0, 4, 7, 10), (0, 3, 7, 10),
                      (0, 4, 7, 11), (0, 3, 6, 10), (0, 3, 6, 9)]


def label_harmony(piece: Piece, span_ticks: int) -> list[ChordSpan]:
    """Chord labels of many-voice music (e.g. a chorale), one per span of ``span_ticks``.

    Each span's pitch classes are weighted by how long they sound in it, the lowest voice's pitch
    class counts double, and every template (major, minor, diminished, augmented triads; dominant,
    minor, major, half-diminished and diminished sevenths) at every root is scored as
    ``chord-tone weight - other weight - 0.15 * missing tones (share of the span)``, with a small
    bonus when the bass is the root and a small cost for a seventh. A span where nothing sounds keeps
    the previous chord.

    Returns:
        Spans covering the piece from tick 0 (empty list for a piece without notes).
    """
    spans: list[ChordSpan] = []
    previous = NONE
    starts = np.array([n.start for n in piece.notes])
    ends = np.array([n.end for n in piece.notes])
    pitches = np.array([n.pitch for n in piece.notes])
    for start in _spans_of(piece, span_ticks):
        end = start + span_ticks
        overlap = np.minimum(ends, end) - np.maximum(starts, start)          # [notes]
        sounding = overlap > 0
        if not sounding.any():
            spans.append(ChordSpan(start, end, previous))
            continue
        weights = np.bincount(pitches[sounding] % 12, weights=overlap[sounding], minlength=12).astype(float)
        bass = int(pitches[sounding].min()) % 12
        weights[bass] += weights.sum() / int(sounding.sum())
        share = weights / weights.sum()
        best, best_score = NONE, -np.inf
        for intervals in _HARMONY_TEMPLATES:
            for root in range(12):
                tones = [(root + i) % 12 for i in intervals]
                covered = share[tones].sum()
                missing = sum(1 for t in tones if share[t] == 0)
                score = 2 * covered - 1 - 0.15 * missing + 0.05 * (bass == root) - 0.08 * (len(tones) - 3)
                if score > best_score:
                    best, best_score = Chord(root, intervals), score
        spans.append(ChordSpan(start, end, best))
        previous = best
    return spans


def diatonic_triads(key: str) -> list[tuple[Chord, float]]:
    """The triads a melody in ``key`` most likely implies, each with its prior weight.

    Major (and major-like modes): I, ii, iii, IV, V, vi. Minor (and minor-like modes): i, III, iv, v,
    V, VI, VII. The tonic, dominant and subdominant get the larger priors.

    Raises:
        ValueError: not a key name.
    """
    tonic, mode = parse_key(key)
    major, minor = (0, 4, 7), (0, 3, 7)
    if mode in ("major", "lydian", "mixolydian"):
        degrees = [(0, major, 0.12), (2, minor, 0.02), (4, minor, 0.0), (5, major, 0.08), (7, major, 0.10),
                   (9, minor, 0.04)]
        if mode == "mixolydian":
            degrees.append((10, major, 0.06))
    else:
        degrees = [(0, minor, 0.12), (3, major, 0.05), (5, minor, 0.08), (7, minor, 0.03), (7, major, 0.08),
                   (8, major, 0.04), (10, major, 0.06)]
    return [(Chord((tonic + step) % 12, intervals), prior) for step, intervals, prior in degrees]


def label_melody(piece: Piece, span_ticks: int, key: str) -> list[ChordSpan]:
    """Melody-implied chord labels of a single line, one per span of ``span_ticks``.

    For each span: the duration-weighted pitch classes of the notes sounding in it (the note sounding
    at the span's start counts double), and of the key's diatonic triads (:func:`diatonic_triads`)
    the one with the largest share of that weight on its chord tones plus its prior, plus 0.05 for
    keeping the previous span's chord. A span without notes keeps the previous chord; the first spans
    before any note take the first labelled chord.

    Args:
        piece: the melody (every note counts, whatever its voice).
        span_ticks: length of one labelled span in the piece's ticks.
        key: the key the melody is in (e.g. from :func:`composer.melody.encoding.piece_key`).

    Returns:
        Spans covering the piece from tick 0.
    """
    candidates = diatonic_triads(key)
    tones = [np.isin(np.arange(12), sorted(c.pitch_classes)) for c, _ in candidates]
    labels: list[Chord | None] = []
    previous = None
    for start in _spans_of(piece, span_ticks):
        weights = _span_weights(piece.notes, start, start + span_ticks, strong_weight=2.0)
        if weights.sum() == 0:
            labels.append(previous)
            continue
        share = weights / weights.sum()
        scores = [share[mask].sum() + prior + (0.05 if chord == previous else 0.0)
                  for mask, (chord, prior) in zip(tones, candidates)]
        previous = candidates[int(np.argmax(scores))][0]
        labels.append(previous)
    first = next((c for c in labels if c is not None), NONE)
    return [ChordSpan(i * span_ticks, (i + 1) * span_ticks, c if c is not None else first)
            for i, c in enumerate(labels)]


def chord_tone_fraction(piece: Piece, spans: list[ChordSpan]) -> float:
    """Share of the note time inside chord spans that lies on the pitch classes of the sounding chord.

    Time under no-chord spans is left out. Returns NaN when no note sounds under a chord.
    """
    on_chord, total = 0, 0
    for span in spans:
        if span.chord.root is None:
            continue
        pcs = span.chord.pitch_classes
        for note in piece.notes:
            overlap = min(span.end, note.end) - max(span.start, note.start)
            if overlap > 0:
                total += overlap
                on_chord += overlap * (note.pitch % 12 in pcs)
    return on_chord / total if total else float("nan")


def infer_key(chords: list[Chord]) -> str | None:
    """The key whose diatonic triads best explain a progression (the first chord weighs double).

    Returns:
        A key name such as ``"C"`` or ``"Am"``, or None when every chord is no-chord.
    """
    real = [c for c in chords if c.root is not None]
    if not real:
        return None
    best, best_score = None, -np.inf
    for tonic in range(12):
        for suffix in ("", "m"):
            key = _NAMES[tonic] + suffix
            triads = diatonic_triads(key)
            score = 0.0
            for index, chord in enumerate(real):
                weight = 2.0 if index == 0 else 1.0
                fits = max(len(chord.pitch_classes & t.pitch_classes) / len(chord.pitch_classes) + p
                           for t, p in triads)
                score += weight * (fits + 0.2 * (chord.root == tonic))
            if score > best_score:
                best, best_score = key, score
    return best


