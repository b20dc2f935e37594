"""Key names: parsing, canonical names, scale pitch classes."""

from __future__ import annotations

import pytest

from composer.music.keys import MODES, key_name, parse_key, scale_mask, scale_pitch_classes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C", (0, "major")),
        ("Am", (9, "minor")),
        ("F#m", (6, "minor")),
        ("Bb major", (10, "major")),
        ("Ddor", (2, "dorian")),
        ("G mixolydian", (7, "mixolydian")),
        # lowercase tonics mean the same as uppercase (case does not imply minor)
        ("g", (7, "major")),
        ("c#m", (1, "minor")),
        ("bb", (10, "major")),
        ("e minor", (4, "minor")),
        # more spellings of the modes
        ("Amin", (9, "minor")),
        ("Cmaj", (0, "major")),
        ("Eb", (3, "major")),
        ("Ebm", (3, "minor")),
        ("F# minor", (6, "minor")),
        ("Ephr", (4, "phrygian")),
        ("Flyd", (5, "lydian")),
        ("Aaeo", (9, "aeolian")),
        ("Bloc", (11, "locrian")),
        ("C ionian", (0, "major")),
        ("Cb", (11, "major")),  # accidentals wrap around the octave
        ("B#", (0, "major")),
        ("  D  ", (2, "major")),  # surrounding blanks are ignored
        ("DDOR", (2, "dorian")),  # mode words are case-insensitive
    ],
)
def test_parse_key(name, expected):
    assert parse_key(name) == expected


@pytest.mark.parametrize("name", ["H", "Xm", "C foo", "", "m", "C##", "Am7", "Do", "C#b", "1"])
def test_parse_key_rejects_non_keys(name):
    with pytest.raises(ValueError) as excinfo:
        parse_key(name)
    assert repr(name) in str(excinfo.value)  # the message names the offending input


def test_unknown_mode_message_lists_known_modes():
    with pytest.raises(ValueError, match="unknown mode 'foo'.*dorian"):
        parse_key("C foo")


def test_scale_pitch_classes_of_c_major():
    assert scale_pitch_classes("C") == frozenset({0, 2, 4, 5, 7, 9, 11})


@pytest.mark.parametrize(
    ("name", "classes"),
    [
        ("G", {7, 9, 11, 0, 2, 4, 6}),
        ("Ddor", {2, 4, 5, 7, 9, 11, 0}),  # dorian on D: the white notes
        ("G mixolydian", {7, 9, 11, 0, 2, 4, 5}),  # mixolydian on G: the white notes
        ("Am", {9, 11, 0, 2, 4, 5, 6, 7, 8}),  # minor admits the raised 6th and 7th
        ("Bb major", {10, 0, 2, 3, 5, 7, 9}),
    ],
)
def test_scale_pitch_classes(name, classes):
    assert scale_pitch_classes(name) == frozenset(classes)


def test_scale_pitch_classes_rejects_bad_names():
    with pytest.raises(ValueError):
        scale_pitch_classes("H")


def test_scale_mask_matches_pitch_classes():
    mask = scale_mask("D")
    assert len(mask) == 128
    classes = scale_pitch_classes("D")
    assert [p for p in range(128) if mask[p]] == [p for p in range(128) if p % 12 in classes]
    assert mask[62] and mask[66] and not mask[65] and not mask[60]


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("tonic", range(12))
def test_key_name_round_trip(tonic, mode):
    name = key_name(tonic, mode)
    assert parse_key(name) == (tonic, mode)
    # and the name is canonical: parsing and naming again gives the same string
    assert key_name(*parse_key(name)) == name


@pytest.mark.parametrize(
    ("tonic", "mode", "name"),
    [(0, "major", "C"), (9, "minor", "Am"), (1, "major", "C#"), (3, "minor", "Ebm"), (10, "major", "Bb"),
     (2, "dorian", "Ddorian"), (14, "major", "D"), (-1, "minor", "Bm")],
)
def test_key_name_canonical_spelling(tonic, mode, name):
    assert key_name(tonic, mode) == name


@pytest.mark.parametrize("name", ["F#m", "bb", "G mixolydian", "c#", "Eb minor", "Ddor"])
def test_parse_then_name_is_stable(name):
    canonical = key_name(*parse_key(name))
    assert parse_key(canonical) == parse_key(name)
