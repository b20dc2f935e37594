"""Musical measurements of pieces: key estimation and how well the notes keep to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.music.keys import key_name, scale_pitch_classes
from composer.music.notes import Piece

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class KeyEstimate:
    """The likeliest key of a piece and the share of its note time that lies in that key's scale.

    Attributes:
        key: e.g. ``"G"`` or ``"Em"``.
        correlation: Pearson correlation of the piece's pitch-class durations with the key profile.
        in_scale: fraction (0..1) of sounding time on pitches of the key's scale (for minor keys, the
            natural, harmonic and melodic minor together).
    """

    key: str
    correlation: float
    in_scale: float


def pitch_class_durations(piece: Piece) -> np.ndarray:
    """float [12]: total sounding ticks of each pitch class."""
    histogram = np.zeros(12)
    for note in piece.notes:
        histogram[note.pitch % 12] += note.end - note.start
    return histogram


def estimate_key(piece: Piece) -> KeyEstimate | None:
    """Krumhansl-Schmuckler key finding, weighted by duration. None for a piece without notes."""
    histogram = pitch_class_durations(piece)
    if histogram.sum() == 0:
        return None
    correlation, tonic, mode = _ranked_keys(histogram)[0]
    name = key_name(tonic, mode)
    scale = scale_pitch_classes(name)
    in_scale = float(sum(histogram[pc] for pc in scale) / histogram.sum())
    return KeyEstimate(name, correlation, in_scale)


def key_candidates(piece: Piece, count: int = 3) -> list[str]:
    """The ``count`` keys Krumhansl-Schmuckler ranks highest for a piece, best first (empty without notes)."""
    histogram = pitch_class_durations(piece)
    if histogram.sum() == 0:
        return []
    return [key_name(tonic, mode) for _, tonic, mode in _ranked_keys(histogram)[:count]]


def _ranked_keys(histogram: np.ndarray) -> list[tuple[float, int, str]]:
    """(correlation, tonic, mode) of the 24 keys with a pitch-class histogram, best first (ties: major before
    minor, lower tonic first, as the first found wins)."""
    scored = []
    for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            rotated = np.roll(profile, tonic)
            correlation = 0.0 if histogram.std() == 0 else float(np.corrcoef(histogram, rotated)[0, 1])
            scored.append((correlation, tonic, mode))
    order = sorted(range(len(scored)), key=lambda i: (-scored[i][0], i))
    return [scored[i] for i in order]


# Modes a tune's final can be the tonic of, and the key (major or minor) each is named by.
_FINAL_MODES = (("major", "major"), ("mixolydian", "major"), ("minor", "minor"), ("dorian", "minor"))
FINAL_IN_SCALE = 0.9


def estimate_tune_key(piece: Piece) -> KeyEstimate | None:
    """The key a tune is in, as a folk musician names it: its last note is the tonic when the tune keeps to a
    scale on that note.

    Among the major, mixolydian, minor and dorian scales on the last note's pitch class, the one holding the most
    note time wins if it holds at least 90 %; the key is then the major (major, mixolydian) or minor (minor,
    dorian) key on that note, so a D dorian tune is in D minor, not C major as Krumhansl-Schmuckler would have
    it. Otherwise (a tune that ends elsewhere) the :func:`estimate_key` estimate. None for a piece without notes.
    """
    estimate = estimate_key(piece)
    if estimate is None:
        return None
    name = final_key(piece, _FINAL_MODES)
    if name is None:
        return estimate
    histogram = pitch_class_durations(piece)
    in_scale = float(sum(histogram[pc] for pc in scale_pitch_classes(name)) / histogram.sum())
    return KeyEstimate(name, estimate.correlation if name == estimate.key else float("nan"), in_scale)


def closing_key(piece: Piece) -> str | None:
    """The key a melody closes in, for the chord under its last note: the key on its last note when the melody
    keeps to a major, mixolydian, minor, dorian or harmonic minor scale on that note (at least 90 % of its note
    time); None otherwise (a melody that ends on another degree, e.g. the third of its key).

    Bach closes a chorale on its melody's last note: in 284 of the 292 chorales of the bundled train and valid
    splits the final bass is that note's pitch class, where the key signature's tonic is the bass in 226. A
    dorian melody written with its parent key's signature ends on its own final, as does a mixolydian folk
    tune. Phrygian is left out: a major-key tune ending on its third fits the phrygian scale on that note, and
    wants its tonic chord, not the major chord a phrygian close would give it.
    """
    return final_key(piece, _FINAL_MODES + (("harmonic minor", "minor"),))


def final_key(piece: Piece, modes: tuple[tuple[str, str], ...]) -> str | None:
    """The major or minor key on a piece's last note (its lowest note, if several start last), named by the best
    fitting of ``modes`` ((mode, "major" or "minor") pairs) when that mode's scale on the note holds at least
    :data:`FINAL_IN_SCALE` of the note time; None otherwise, or for a piece without notes."""
    if not piece.notes:
        return None
    last_start = max(n.start for n in piece.notes)
    final = min(n.pitch for n in piece.notes if n.start == last_start) % 12
    histogram = pitch_class_durations(piece)
    if histogram.sum() == 0:
        return None
    share, named = max(((float(sum(histogram[(final + step) % 12] for step in _MODE_STEPS[mode]) / histogram.sum()),
                         named) for mode, named in modes), key=lambda pair: pair[0])
    return key_name(final, named) if share >= FINAL_IN_SCALE else None


_MODE_STEPS = {"major": (0, 2, 4, 5, 7, 9, 11), "mixolydian": (0, 2, 4, 5, 7, 9, 10),
               "minor": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10),
               "harmonic minor": (0, 2, 3, 5, 7, 8, 11)}
