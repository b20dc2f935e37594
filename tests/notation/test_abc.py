"""ABC in and out: tunes read through music21's ABC parser, tunes written here read back by that parser."""

from __future__ import annotations

import pytest

from composer.music.chords import ChordSpan, parse_chord
from composer.music.midi_io import read_midi
from composer.music.notation import NotationError, read_score, write_abc
from composer.music.notes import Note, Piece, TimeSignature, Voice
from tests.notation.conftest import JIG_ABC, PICKUP_TUNE, piece_notes, small_piece


def _parse_abc(path):
    from music21 import converter

    return converter.parse(str(path), format="abc", forceSource=True)


def test_an_abc_tune_is_read_with_its_key_metre_pickup_tempo_and_ties(tmp_path):
    path = tmp_path / "jig.abc"
    path.write_text(JIG_ABC)
    piece = read_score(path)
    tpb = piece.ticks_per_beat
    assert piece.key == "G" and piece.qpm == pytest.approx(150.0)   # Q:3/8=100 is 150 quarters a minute
    assert piece.time_signatures == (TimeSignature(0, 1, 8), TimeSignature(tpb // 2, 6, 8))   # the pickup D
    pitches = [n.pitch for n in piece.notes]
    assert pitches[:4] == [62, 67, 69, 71] and pitches[-1] == 71
    assert 73 in pitches and 72 in pitches            # ^c then =c in the same bar
    last = piece.notes[-1]
    assert last.end - last.start == 5 * tpb // 2      # B3-B2 tied: one note of five eighths
    triplet = [n for n in piece.notes if (n.end - n.start) * 3 == tpb]
    assert len(triplet) == 3                          # (3ABc: three notes in one beat


def test_a_written_melody_reads_back_note_for_note_with_chord_symbols(tmp_path):
    piece = read_midi(PICKUP_TUNE)
    tpb = piece.ticks_per_beat
    spans = [ChordSpan(tpb // 2, tpb // 2 + 3 * tpb, parse_chord("G/B")),
             ChordSpan(tpb // 2 + 3 * tpb, tpb // 2 + 6 * tpb, parse_chord("C7sus4"))]
    out = tmp_path / "tune.abc"
    written = write_abc(piece, out, spans)
    text = out.read_text()
    assert text.startswith("X:1\n") and "M:6/8" in text and f"K:{written.name}" in text
    assert f"Q:3/8={round(piece.qpm / 1.5)}" in text                # a jig's tempo counts dotted quarters
    assert '"G/B"' in text and '"C7sus4"' in text and text.rstrip().endswith("|]")
    back = read_score(out)
    assert piece_notes(back) == piece_notes(piece)
    assert back.time_signatures[:2] == (TimeSignature(0, 1, 8), TimeSignature(240, 6, 8))


def test_accidentals_ties_triplets_and_several_voices_survive_abc(tmp_path):
    melody = small_piece()
    triplets = tuple(Note(96 + 4 * i, 100 + 4 * i, 67 + i, voice=0) for i in range(3))
    lower = tuple(Note(12 * i, 12 * i + 12, 53, voice=1) for i in range(8))
    piece = melody.replace(notes=melody.notes + triplets + lower, voices=(Voice("Flute"), Voice("Cello")))
    out = tmp_path / "two.abc"
    write_abc(piece, out)
    text = out.read_text()
    assert 'V:1 name="Flute"' in text and 'V:2 name="Cello"' in text and "(3" in text and "-" in text
    assert piece_notes(read_score(out)) == piece_notes(piece)
    score = _parse_abc(out)
    assert len(score.parts) == 2


def test_a_key_in_a_mode_is_written_as_abc_names_it(tmp_path):
    piece = Piece((Note(0, 12, 62), Note(12, 24, 65), Note(24, 36, 71), Note(36, 48, 62)), 12, key="Ddorian")
    out = tmp_path / "dorian.abc"
    write_abc(piece, out)
    assert "K:DDor" in out.read_text()
    back = read_score(out)
    assert piece_notes(back) == piece_notes(piece) and back.key == "Ddorian"


@pytest.mark.parametrize("text, reason", [
    ("this is not music at all \x00\x01", "no notes"),
    ("X:1\nT:Empty\nM:4/4\nK:C\n", "no notes"),
    ("", "no notes"),
])
def test_bad_abc_is_one_line(tmp_path, text, reason):
    path = tmp_path / "bad.abc"
    path.write_text(text)
    with pytest.raises(NotationError) as error:
        read_score(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message and len(message) < 400


def test_a_missing_or_huge_score_is_refused_unread(tmp_path):
    with pytest.raises(NotationError, match="no such file"):
        read_score(tmp_path / "none.abc")
    huge = tmp_path / "huge.abc"
    with open(huge, "wb") as handle:
        handle.truncate(9 * 1024 * 1024)
    with pytest.raises(NotationError, match="no score is this large"):
        read_score(huge)
