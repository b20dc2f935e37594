"""``--format musicxml,abc`` on generate, harmonize and regenerate, score primers and melodies, key reporting and the
drum-only message, with the shipped models; every file read back by an independent parser (music21, mido)."""

from __future__ import annotations

import json

import mido
import pytest

from composer.cli.main import main
from composer.music.midi_io import read_midi, write_midi
from composer.music.notes import Note, Piece, Voice
from tests.notation.conftest import JIG_ABC, music21_notes, parse_musicxml, piece_notes, small_piece


def _run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.slow
def test_generate_with_chords_writes_scores_beside_the_midi_files(tmp_path, capsys):
    out = tmp_path / "out"
    status, stdout, _ = _run(capsys, "generate", "--out", out, "--model", "midi_data/models/melody_chords.pt",
                             "--chords", "F/C G7 C7sus4 C", "--count", 2, "--bars", 4, "--seed", 5,
                             "--format", "musicxml,abc")
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "variation_01.abc", "variation_01.mid",
                                                       "variation_01.musicxml", "variation_02.abc",
                                                       "variation_02.mid", "variation_02.musicxml"]
    assert "variation_01.musicxml: MusicXML score in" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["chord"] for c in manifest["chords"]] == ["F/C", "G7", "C7sus4", "C"]
    markers = [m.text for m in mido.MidiFile(out / "variation_01.mid").tracks[0] if m.type == "marker"]
    assert markers == ["F/C", "G7", "C7sus4", "C"]          # standard names in the MIDI file too
    piece = read_midi(out / "variation_01.mid")
    score = parse_musicxml(out / "variation_01.musicxml")
    assert music21_notes(score) == piece_notes(piece)
    from music21 import harmony

    symbols = list(score.parts[0].recurse().getElementsByClass(harmony.ChordSymbol))
    assert [s.root().name for s in symbols] == ["F", "G", "C", "C"] and symbols[0].bass().name == "C"
    assert '"C7sus4"' in (out / "variation_01.abc").read_text()


@pytest.mark.slow
def test_an_abc_tune_primes_generation(tmp_path, capsys):
    tune = tmp_path / "jig.abc"
    tune.write_text(JIG_ABC)
    out = tmp_path / "out"
    status, _, _ = _run(capsys, "generate", "--out", out, "--primer", tune, "--count", 1, "--bars", 2, "--seed", 1)
    assert status == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["primer"] == str(tune)
    from composer.music.notation import read_score

    primer = read_score(tune)
    result = read_midi(out / "variation_01.mid")
    scale = result.ticks_per_beat / primer.ticks_per_beat
    kept = [(round(n.start * scale), n.pitch) for n in primer.notes]
    assert [(n.start, n.pitch) for n in result.notes[:len(kept)]] == kept    # the tune, then new music
    assert len(result.notes) > len(kept) and result.key == "G"


def test_a_bad_abc_primer_is_one_line_and_writes_nothing(tmp_path, capsys):
    tune = tmp_path / "bad.abc"
    tune.write_text("X:1\nT:Nothing\nK:C\n")
    out = tmp_path / "out"
    status, _, err = _run(capsys, "generate", "--out", out, "--primer", tune, "--count", 1, "--bars", 2)
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("composer generate: argument --primer:") and "bad.abc" in err
    assert not list(out.glob("*.mid"))


@pytest.mark.slow
def test_harmonize_an_abc_tune_reports_the_key_and_writes_a_four_staff_score(tmp_path, capsys):
    tune = tmp_path / "jig.abc"
    tune.write_text(JIG_ABC)
    out = tmp_path / "h.mid"
    status, stdout, _ = _run(capsys, "harmonize", tune, "--out", out, "--seed", 2, "--format", "musicxml")
    assert status == 0
    assert "harmonized in G (from the key signature)" in stdout
    score = parse_musicxml(out.with_suffix(".musicxml"))
    assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert music21_notes(score) == piece_notes(read_midi(out))
    assert score.parts[0].recurse().getElementsByClass("KeySignature").first().sharps == 1
    measures = list(score.parts[0].getElementsByClass("Measure"))
    assert measures[0].number == 0 and measures[0].duration.quarterLength == 0.5   # the pickup


@pytest.mark.slow
def test_a_melody_without_a_key_signature_gets_the_models_key_in_file_and_score(tmp_path, capsys):
    melody = tmp_path / "melody.mid"
    write_midi(small_piece(key=None), melody)
    assert read_midi(melody).key is None
    out = tmp_path / "h.mid"
    status, stdout, _ = _run(capsys, "harmonize", melody, "--out", out, "--seed", 1, "--format", "musicxml")
    assert status == 0
    told = stdout.split("harmonized in ")[1].split(" ")[0]
    assert "(estimated: the melody has no key signature)" in stdout
    assert read_midi(out).key == told                           # the MIDI file carries the key it was made in
    assert f"h.musicxml: MusicXML score in {told} (its key signature)" in stdout


@pytest.mark.slow
def test_key_contradicting_the_primer_gets_a_warning(tmp_path, capsys):
    melody = tmp_path / "g.mid"
    write_midi(small_piece(key="G"), melody)
    status, _, err = _run(capsys, "harmonize", melody, "--out", tmp_path / "h.mid", "--key", "F#m", "--seed", 1)
    assert status == 0
    assert "warning: --key F#m contradicts the melody's key signature, written in G" in err
    status, _, err = _run(capsys, "harmonize", melody, "--out", tmp_path / "h2.mid", "--key", "Em", "--seed", 1)
    assert status == 0 and "warning" not in err                 # the relative minor: the same signature


@pytest.mark.slow
def test_regenerate_writes_a_score_too(tmp_path, capsys):
    out = tmp_path / "r.mid"
    status, stdout, _ = _run(capsys, "regenerate", "midi_data/bach_chorales_satb/bwv250.mid", "--out", out,
                             "--bars", "2-3", "--voices", "alto", "--seed", 1, "--format", "abc")
    assert status == 0 and out.with_suffix(".abc").is_file() and "r.abc: ABC score in G" in stdout
    text = out.with_suffix(".abc").read_text()
    assert [line for line in text.splitlines() if line.startswith("V:")] == [
        'V:1 name="Soprano"', 'V:2 name="Alto"', 'V:3 name="Tenor"', 'V:4 name="Bass"']


def test_an_existing_score_needs_force_and_is_checked_before_any_work(tmp_path, capsys):
    melody = tmp_path / "m.mid"
    write_midi(small_piece(), melody)
    (tmp_path / "h.musicxml").write_text("mine")
    with pytest.raises(SystemExit):
        main(["harmonize", str(melody), "--out", str(tmp_path / "h.mid"), "--format", "musicxml"])
    assert "h.musicxml exists; pass --force" in capsys.readouterr().err
    assert not (tmp_path / "h.mid").exists() and (tmp_path / "h.musicxml").read_text() == "mine"


def test_an_unknown_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--out", str(tmp_path), "--format", "pdf"])
    assert "unknown format 'pdf'" in capsys.readouterr().err


def test_a_drum_only_file_is_named_as_such(tmp_path, capsys):
    drums = tmp_path / "drums.mid"
    write_midi(Piece((Note(0, 12, 36), Note(12, 24, 38)), 12, (Voice("Kit", is_drum=True),)), drums)
    status, _, err = _run(capsys, "harmonize", drums, "--out", tmp_path / "h.mid")
    assert status == 1
    assert err == f"composer harmonize: {drums} has only drums (channel 10); choose a pitched track\n"
    status, _, err = _run(capsys, "generate", "--out", tmp_path / "g", "--primer", drums, "--count", 1)
    assert status == 1 and "has only drums (channel 10); choose a pitched track" in err
