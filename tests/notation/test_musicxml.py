"""MusicXML written by composer.music.notation, read back by music21 (an independent parser) and by MuseScore."""

from __future__ import annotations

from fractions import Fraction
from xml.etree import ElementTree

import mido
import pytest

from composer.music.chords import ChordSpan, parse_chord
from composer.music.midi_io import read_midi
from composer.music.notation import NotationError, bars_of, read_score, write_musicxml
from composer.music.notes import Note, Piece, TimeSignature, Voice
from tests.notation.conftest import (CHORALE, PICKUP_TUNE, musescore_convert, music21_notes, needs_musescore,
                                     parse_musicxml, piece_notes, small_piece)


def test_a_four_part_chorale_comes_back_with_its_notes_key_metre_and_named_staves(tmp_path):
    piece = read_midi(CHORALE)
    out = tmp_path / "chorale.musicxml"
    written = write_musicxml(piece, out)
    assert (written.name, written.source) == ("G", "key signature")
    score = parse_musicxml(out)
    assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert music21_notes(score) == piece_notes(piece)
    key = score.parts[0].recurse().getElementsByClass("KeySignature").first()
    assert key.sharps == 1 and key.mode == "major"
    signature = score.parts[0].recurse().getElementsByClass("TimeSignature").first()
    assert signature.ratioString == "4/4"
    clefs = [p.recurse().getElementsByClass("Clef").first().sign for p in score.parts]
    assert clefs == ["G", "G", "G", "F"]   # the tenor on the treble clef an octave down, the bass on the F clef


def test_a_pickup_is_an_incomplete_bar_0_under_the_tunes_own_time_signature(tmp_path):
    piece = read_midi(PICKUP_TUNE)   # written as 1/8 then 6/8
    assert [(s.numerator, s.denominator) for s in piece.time_signatures[:2]] == [(1, 8), (6, 8)]
    out = tmp_path / "tune.musicxml"
    write_musicxml(piece, out)
    part = parse_musicxml(out).parts[0]
    measures = list(part.getElementsByClass("Measure"))
    assert measures[0].number == 0 and measures[1].number == 1
    assert measures[0].duration.quarterLength == 0.5 and measures[0].paddingLeft == 2.5
    assert [ts.ratioString for ts in part.recurse().getElementsByClass("TimeSignature")] == ["6/8"]
    assert 'implicit="yes"' in out.read_text()
    assert music21_notes(parse_musicxml(out)) == piece_notes(piece)
    assert read_score(out).time_signatures[:2] == (TimeSignature(0, 1, 8), TimeSignature(480 // 2, 6, 8))


def test_notes_over_a_bar_line_are_tied_and_accidentals_follow_the_key(tmp_path):
    out = tmp_path / "small.musicxml"
    write_musicxml(small_piece(), out)
    score = parse_musicxml(out)
    notes = list(score.parts[0].recurse().notes)
    held = [n for n in notes if n.tie is not None]
    assert [(n.nameWithOctave, n.tie.type) for n in held] == [("B-4", "start"), ("B-4", "stop")]
    assert [n.quarterLength for n in held] == [1.0, 1.0]
    names = [n.pitch.name for n in notes]
    assert names[:3] == ["F", "F#", "B"]              # spelled in F major: B natural, not C flat
    shown = [n.pitch.accidental.displayStatus if n.pitch.accidental else None for n in notes[:3]]
    assert shown[1] is True and shown[2] is True      # the sharp and the natural are printed
    assert not held[1].pitch.accidental or not held[1].pitch.accidental.displayStatus   # not on the tied note
    assert music21_notes(score) == piece_notes(small_piece())


def test_a_piece_without_a_key_gets_the_given_key_else_the_estimate_and_says_which(tmp_path):
    piece = small_piece(key=None)
    assert write_musicxml(piece, tmp_path / "a.musicxml", key="Dm").source == "asked"
    estimated = write_musicxml(piece, tmp_path / "b.musicxml")
    assert estimated.source == "estimated" and estimated.name
    key = parse_musicxml(tmp_path / "a.musicxml").parts[0].recurse().getElementsByClass("KeySignature").first()
    assert key.sharps == -1 and key.mode == "minor"


def test_chord_symbols_keep_their_slash_bass_and_standard_names(tmp_path):
    piece = small_piece()
    spans = [ChordSpan(0, 24, parse_chord("F/C")), ChordSpan(24, 48, parse_chord("C7sus4")),
             ChordSpan(48, 72, parse_chord("Bb7")), ChordSpan(72, 96, parse_chord("N"))]
    out = tmp_path / "chords.musicxml"
    write_musicxml(piece, out, spans)
    from music21 import harmony

    part = parse_musicxml(out).parts[0]
    symbols = list(part.recurse().getElementsByClass(harmony.Harmony))
    assert [float(s.getOffsetInHierarchy(part)) for s in symbols] == [0.0, 2.0, 4.0, 6.0]
    f_over_c, sus, b_flat, no_chord = symbols
    assert f_over_c.root().name == "F" and f_over_c.bass().name == "C"
    assert sus.root().name == "C" and {p.name for p in sus.pitches} == {"C", "F", "G", "B-"}
    assert b_flat.root().name == "B-" and {p.name for p in b_flat.pitches} == {"B-", "D", "F", "A-"}
    assert isinstance(no_chord, harmony.NoChord)
    text = out.read_text()
    assert '<kind text="7sus4">suspended-fourth</kind>' in text and "<bass-step>C</bass-step>" in text


def test_chords_in_a_voice_and_overlapping_lines_keep_every_note(tmp_path):
    notes = (Note(0, 24, 60), Note(0, 24, 64), Note(0, 24, 67),       # a chord
             Note(24, 72, 48), Note(36, 48, 72), Note(48, 60, 74))     # a held note under a moving line
    piece = Piece(notes, 12, (Voice("Piano"),), key="C")
    out = tmp_path / "poly.musicxml"
    write_musicxml(piece, out)
    assert music21_notes(parse_musicxml(out)) == piece_notes(piece)


def test_bars_follow_time_signature_changes():
    piece = Piece((Note(0, 12, 60), Note(84, 96, 60)), 12,
                  time_signatures=(TimeSignature(0, 3, 4), TimeSignature(72, 4, 4)))
    assert [(b.start, b.stop, b.signature.numerator, b.number) for b in bars_of(piece, piece.end)] == \
        [(0, 36, 3, 1), (36, 72, 3, 2), (72, 120, 4, 3)]


def test_an_unwritable_score_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        write_musicxml(small_piece(), blocker / "inside.musicxml")
    with pytest.raises(NotationError) as error:
        read_score(tmp_path / "missing.musicxml")
    assert "\n" not in str(error.value) and "no such file" in str(error.value)


@pytest.mark.slow
@needs_musescore
def test_musescore_loads_the_harmonized_chorale_and_plays_back_the_same_notes(tmp_path):
    piece = read_midi(CHORALE)
    score = tmp_path / "chorale.musicxml"
    write_musicxml(piece, score)
    own = tmp_path / "chorale.mscx"   # MuseScore's own format: what it made of the score
    result = musescore_convert(score, own)
    assert own.is_file(), result.stderr[-2000:]
    tree = ElementTree.parse(own).getroot()
    assert [part.findtext("trackName") for part in tree.iter("Part")] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert {key.findtext("accidental") for key in tree.iter("KeySig")} == {"1"}   # one sharp: G major
    assert [(s.findtext("sigN"), s.findtext("sigD")) for s in tree.iter("TimeSig")][:1] == [("4", "4")]
    back = tmp_path / "from_musescore.mid"
    musescore_convert(score, back)
    midi = mido.MidiFile(back)   # MuseScore's MIDI, read by mido
    onsets = []
    for index, track in enumerate(t for t in midi.tracks if any(m.type == "note_on" for m in t)):
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity:
                onsets.append((index, Fraction(tick, midi.ticks_per_beat), message.note))
    assert sorted(onsets) == sorted({(v, start, pitch) for v, start, _, pitch in piece_notes(piece)})
    keys = [m for t in midi.tracks for m in t if m.type == "key_signature"]
    assert keys and keys[0].key == "G"


@pytest.mark.slow
@needs_musescore
def test_musescore_renders_a_pickup_tune_with_chords(tmp_path):
    piece = read_midi(PICKUP_TUNE)
    score = tmp_path / "tune.musicxml"
    tpb = piece.ticks_per_beat
    write_musicxml(piece, score, [ChordSpan(tpb // 2, tpb // 2 + 3 * tpb, parse_chord("D/F#"))])
    png = tmp_path / "tune.png"
    result = musescore_convert(score, png)
    pages = sorted(tmp_path.glob("tune*.png"))
    assert pages and pages[0].stat().st_size > 10_000, result.stderr[-2000:]
