"""Chord symbols round-trip: a slash bass is kept (and sounds in the chord), every quality has a standard name."""

from __future__ import annotations

import mido
import pytest

from composer.core.output_folder import PieceFolder
from composer.music.chords import QUALITIES, Chord, ChordSpan, parse_chord, parse_progression
from composer.music.notes import Note, Piece


@pytest.mark.parametrize("symbol", ["F/C", "G/B", "C/Bb", "Am/G", "D/F#", "Eb/Bb", "C7sus4", "Cmaj9", "Cm9", "C9",
                                    "Cadd9", "Cmmaj7", "Bm7b5", "Gdim7", "F#m", "Bb7", "C5", "Esus2", "N"])
def test_a_symbol_comes_back_as_written(symbol):
    chord = parse_chord(symbol)
    assert chord.name == symbol
    again = parse_chord(chord.name)
    assert again == chord and again.bass == chord.bass and again.name == symbol


def test_a_slash_bass_is_kept_and_sounds():
    f_over_c = parse_chord("F/C")
    assert f_over_c.bass == 0 and f_over_c.root == 5 and f_over_c.pitch_classes == {5, 9, 0}
    c_over_b_flat = parse_chord("C/Bb")
    assert c_over_b_flat.bass == 10 and 10 in c_over_b_flat.pitch_classes       # the bass is a chord tone too
    assert parse_chord("C/C") == parse_chord("C") and parse_chord("C/C").bass is None
    assert parse_chord("F/C").transpose(2).name == "G/D"
    assert Chord.from_code(f_over_c.code).name == "F"                          # a code carries no bass
    assert f_over_c == parse_chord("F")                                          # the same chord, written two ways


def test_every_quality_has_a_readable_name():
    for suffix, intervals in QUALITIES.items():
        name = Chord(0, tuple(sorted(intervals))).name
        assert "(" not in name, (suffix, name)


def test_chord_markers_in_written_midi_files_use_the_standard_names(tmp_path):
    spans = [ChordSpan(0, 48, c) for c, _ in parse_progression("F/C")] + \
        [ChordSpan(48, 96, parse_chord("C7sus4")), ChordSpan(96, 144, parse_chord("G/B"))]
    folder = PieceFolder(tmp_path, 1, 144, chord_spans=spans)
    folder.add([Piece((Note(0, 144, 60),), 12)])
    markers = [m.text for m in mido.MidiFile(tmp_path / "variation_01.mid").tracks[0] if m.type == "marker"]
    assert markers == ["F/C", "C7sus4", "G/B"]
