"""Key names and the pitch classes of their scales.

Accepted key names: a tonic (``C``, ``F#``, ``Bb``, ``c#``...) optionally followed by a mode: ``m`` or
``min``/``minor`` (minor), ``maj``/``major`` (major, the default), or a church mode as in ABC notation
(``dor``, ``phr``, ``lyd``, ``mix``, ``aeo``, ``loc``, and the full names). Examples: ``C``, ``Am``,
``F# minor``, ``Ddor``, ``G mixolydian``.
"""

from __future__ import annotations

import re

_TONICS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARP_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

# Scale degrees in semitones above the tonic. Minor admits the raised 6th and 7th (melodic/harmonic
# minor) because a minor-key melody without a leading tone sounds wrong to most listeners.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 9, 10, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
# Modes with a minor third, which count as minor where only major and minor are told apart.
MINOR_MODES = frozenset({"minor", "dorian", "phrygian", "aeolian", "locrian"})
_MODE_ALIASES = {
    "": "major", "maj": "major", "major": "major", "ion": "major", "ionian": "major",
    "m": "minor", "min": "minor", "minor": "minor",
    "dor": "dorian", "dorian": "dorian", "phr": "phrygian", "phrygian": "phrygian",
    "lyd": "lydian", "lydian": "lydian", "mix": "mixolydian", "mixolydian": "mixolydian",
    "aeo": "aeolian", "aeolian": "aeolian", "loc": "locrian", "locrian": "locrian",
}
_KEY_RE = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)\s*$")


def parse_key(name: str) -> tuple[int, str]:
    """Parse a key name.

    Args:
        name: e.g. ``"C"``, ``"Am"``, ``"Bb major"``, ``"Edor"``.

    Returns:
        (tonic pitch class 0..11, mode name from :data:`MODES`).

    Raises:
        ValueError: the name is not a key this module knows.
    """
    match = _KEY_RE.match(name)
    if not match:
        raise ValueError(f"not a key name: {name!r} (examples: C, Am, F#m, Bb major, Ddor)")
    letter, accidental, mode_word = match.groups()
    mode = _MODE_ALIASES.get(mode_word.lower())
    if mode is None:
        known = ", ".join(sorted(set(_MODE_ALIASES) - {""}))
        raise ValueError(f"unknown mode {mode_word!r} in key {name!r} (known: {known})")
    tonic = _TONICS[letter.upper()] + {"": 0, "#": 1, "b": -1}[accidental]
    return tonic % 12, mode


def key_name(tonic: int, mode: str) -> str:
    """Canonical name of a key: ``C``, ``Am``, ``Ddorian``."""
    suffix = {"major": "", "minor": "m"}.get(mode, mode)
    return _SHARP_NAMES[tonic % 12] + suffix


def scale_pitch_classes(name: str) -> frozenset[int]:
    """Pitch classes (0..11) of the scale of key ``name``.

    Raises:
        ValueError: the name is not a key.
    """
    tonic, mode = parse_key(name)
    return frozenset((tonic + step) % 12 for step in MODES[mode])


def scale_mask(name: str) -> list[bool]:
    """For each MIDI pitch 0..127, whether it belongs to the scale of key ``name``."""
    classes = scale_pitch_classes(name)
    return [p % 12 in classes for p in range(128)]


def key_distribution_text(counts, top: int = 6) -> str:
    """The likeliest keys of 24 counts in the order of the melody vocabulary's KEY tokens (12 major keys from C,
    then 12 minor; a model file's ``key_counts``, a list or tuple), for people: "G 30%, D 29%, ... of 3,654
    pieces" ("" for none or a malformed list)."""
    if not isinstance(counts, (list, tuple)) or len(counts) != 24 or not all(type(n) is int for n in counts):
        return ""
    total = sum(counts)
    if total <= 0:
        return ""
    names = [key_name(k % 12, "minor" if k >= 12 else "major") for k in range(24)]
    ranked = sorted(zip(counts, names), key=lambda pair: -pair[0])[:top]
    return ", ".join(f"{name} {100 * n / total:.0f}%" for n, name in ranked if n) + f" of {total:,} pieces"
