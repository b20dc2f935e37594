"""The harmony commands end to end, on real files, read back by independent MIDI parsers."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pretty_midi
import pytest

from composer.cli.main import main
from composer.harmony.evaluate import voice_leading_counts
from composer.music.midi_io import read_midi, write_midi
from composer.music.notes import select_voices
from tests.harmony.conftest import REPO, chorale_paths
from tests.harmony.grids import grid


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_harmonize_writes_four_named_tracks_with_the_melody_unchanged(tmp_path, capsys, tiny_harmony_path):
    melody_path = tmp_path / "melody.mid"
    melody = select_voices(read_midi(chorale_paths(10, 8)[0]), [0])
    write_midi(melody, melody_path)
    code, out, err = run(capsys, "harmonize", melody_path, "--out", tmp_path / "satb.mid", "--model",
                         tiny_harmony_path, "--count", 2, "--seed", 3, "--key", "Bb")
    assert code == 0, err
    assert "harmonized in Bb" in out
    for name in ("satb_1.mid", "satb_2.mid"):
        midi = mido.MidiFile(tmp_path / name)
        names = [m.name for t in midi.tracks for m in t if m.type == "track_name"]
        assert [n for n in names if n in ("Soprano", "Alto", "Tenor", "Bass")] == ["Soprano", "Alto", "Tenor", "Bass"]
        pm = pretty_midi.PrettyMIDI(str(tmp_path / name))
        sung = [i for i in pm.instruments if i.notes]
        assert len(sung) == 4
        back = read_midi(tmp_path / name)
        assert sorted((n.start, n.end, n.pitch) for n in back.notes if n.voice == 0) == \
            sorted((n.start, n.end, n.pitch) for n in melody.notes)
    assert "seed 3" in out


def test_harmonize_picks_a_track_and_rejects_bad_input(tmp_path, capsys, tiny_harmony_path):
    chorale = chorale_paths(10, 9)[0]
    code, out, err = run(capsys, "harmonize", chorale, "--track", 2, "--out", tmp_path / "alto.mid", "--model",
                         tiny_harmony_path, "--seed", 1)
    assert code == 0, err
    alto = read_midi(chorale)
    back = read_midi(tmp_path / "alto.mid")
    assert sorted((n.start, n.pitch) for n in back.notes if n.voice == 0) == \
        sorted((n.start, n.pitch) for n in alto.notes if n.voice == 1)
    code, _, err = run(capsys, "harmonize", chorale, "--track", 9, "--out", tmp_path / "x.mid", "--model",
                       tiny_harmony_path)
    assert code == 2 and "--track: " in err and "4 track(s)" in err
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    code, _, err = run(capsys, "harmonize", empty, "--out", tmp_path / "x.mid", "--model", tiny_harmony_path)
    assert code == 1 and "empty.mid" in err
    chords = tmp_path / "chords.mid"
    write_midi(read_midi(chorale).replace(notes=tuple(n.__class__(n.start, n.end, n.pitch, n.velocity, 0)
                                                      for n in read_midi(chorale).notes)), chords)
    code, _, err = run(capsys, "harmonize", chords, "--out", tmp_path / "x.mid", "--model", tiny_harmony_path)
    assert code == 1 and "not a single line" in err
    code, _, err = run(capsys, "harmonize", chorale, "--out", tmp_path / "x.mid", "--model",
                       REPO / "midi_data" / "models" / "melody.pt")
    assert code == 1 and "needs a 4-part harmony model file" in err
    code, _, err = run(capsys, "harmonize", chorale, "--out", tmp_path / "x.mid", "--temperature", "-1")
    assert code == 2 and "--temperature" in err


def test_regenerate_command_rewrites_only_the_chosen_bars_and_voices(tmp_path, capsys, tiny_harmony_path):
    chorale = chorale_paths(10, 1)[0]
    code, out, err = run(capsys, "regenerate", chorale, "--bars", "2-3", "--voices", "alto,bass", "--out",
                         tmp_path / "new.mid", "--model", tiny_harmony_path, "--seed", 5)
    assert code == 0, err
    before, after = read_midi(chorale), read_midi(tmp_path / "new.mid")
    bar = before.ticks_per_bar
    for voice in (0, 2):
        assert sorted((n.start, n.end, n.pitch) for n in after.notes if n.voice == voice) == \
            sorted((n.start, n.end, n.pitch) for n in before.notes if n.voice == voice)
    for voice in (1, 3):
        keep = lambda piece: sorted((n.start, n.end, n.pitch) for n in piece.notes      # noqa: E731
                                    if n.voice == voice and (n.end <= bar or n.start >= 3 * bar))
        assert keep(after) == keep(before)
    code, _, err = run(capsys, "regenerate", chorale, "--bars", "3-2", "--voices", "A", "--out", tmp_path / "x.mid")
    assert code == 2 and "--bars" in err
    code, _, err = run(capsys, "regenerate", chorale, "--bars", "1", "--voices", "piano", "--out", tmp_path / "x.mid")
    assert code == 2 and "unknown voice 'piano'" in err
    code, _, err = run(capsys, "regenerate", chorale, "--bars", "900-901", "--voices", "S", "--out",
                       tmp_path / "x.mid", "--model", tiny_harmony_path)
    assert code == 2 and "bar(s)" in err


def test_generate_with_a_harmony_model_writes_four_part_pieces(tmp_path, capsys, tiny_harmony_path):
    code, out, err = run(capsys, "generate", "--model", tiny_harmony_path, "--out", tmp_path / "gen", "--count", 2,
                         "--bars", 4, "--seed", 2)
    assert code == 0, err
    manifest = json.loads((tmp_path / "gen" / "manifest.json").read_text())
    assert len(manifest["files"]) == 2
    for item in manifest["files"]:
        piece = read_midi(tmp_path / "gen" / item["file"])
        assert len(piece.voices) == 4 and piece.end <= 4 * piece.ticks_per_bar
    code, _, err = run(capsys, "generate", "--model", tiny_harmony_path, "--out", tmp_path / "g2", "--beam", 2)
    assert code == 2 and "--beam: not supported with a 4-part harmony model" in err
    code, _, err = run(capsys, "generate", "--model", tiny_harmony_path, "--out", tmp_path / "g3", "--key", "Em",
                       "--bars", 2, "--count", 1)
    assert code == 0, err
    assert read_midi(tmp_path / "g3" / "variation_01.mid").key == "Em"


def test_train_task_harmony_skips_and_reports_bad_files(tmp_path, capsys, chorale_dir):
    import csv

    mixed = tmp_path / "mixed"
    shutil.copytree(chorale_dir, mixed)
    (mixed / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (mixed / "notes.txt").write_text("not music")
    melody = read_midi(chorale_paths(10, 0)[0])
    write_midi(select_voices(melody, [0]).replace(voices=melody.voices[:1]), mixed / "one_part.mid")
    out = tmp_path / "m.pt"
    code, _, err = run(capsys, "train", mixed, "--out", out, "--task", "harmony", "--epochs", 1, "--hidden-size", 16,
                       "--embedding-size", 8, "--num-layers", 1, "--quiet", "--threads", 1)
    assert code == 0, err
    assert "skipped 2 file(s)" in err and "broken.mid" in err and "one_part.mid" in err
    rows = {r["file"]: r for r in csv.DictReader(open(tmp_path / "m.data.csv"))}
    assert rows["broken.mid"]["status"] == "skipped" and "four parts" in rows["one_part.mid"]["reason"]
    assert sum(r["status"] in ("train", "valid", "test") for r in rows.values()) == 16
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "train", empty, "--out", tmp_path / "e.pt", "--task", "harmony")
    assert code == 1 and "no usable four-part MIDI files" in err


def test_train_task_harmony_rejects_event_model_settings(tmp_path, capsys, chorale_dir):
    code, _, err = run(capsys, "train", chorale_dir, "--out", tmp_path / "m.pt", "--task", "harmony", "--bptt", 64)
    assert code == 2 and "--bptt: not a setting of harmony models" in err


def test_train_task_harmony_trains_and_resumes(tmp_path, capsys, chorale_dir):
    out = tmp_path / "h.pt"
    config = tmp_path / "h.json"
    config.write_text(json.dumps({"task": "harmony", "embedding_size": 8, "encoder_size": 8, "hidden_size": 16,
                                  "num_layers": 1, "head_size": 8, "batch_size": 8, "device": "cpu"}))
    code, _, err = run(capsys, "train", chorale_dir, "--out", out, "--config", config, "--epochs", 1, "--quiet",
                       "--threads", 1)
    assert code == 0, err
    assert "epoch   1" in err and (tmp_path / "h.curve.csv").exists()
    import torch
    first = torch.load(out, weights_only=True)
    first["recipe"]["config"]["epochs"] = 2               # ask the saved run for one more epoch
    torch.save(first, out)
    code, _, err = run(capsys, "train", chorale_dir, "--out", out, "--resume", "--quiet")
    assert code == 0, err
    resumed = torch.load(out, weights_only=True)
    assert resumed["epoch"] == 2 and [r["epoch"] for r in resumed["history"]] == [1, 2]


def test_evaluate_harmony_prints_a_table_and_writes_json(tmp_path, capsys, tiny_harmony_path, chorale_dir):
    code, out, err = run(capsys, "evaluate-harmony", "--model", tiny_harmony_path, "--data", chorale_dir,
                         "--split", "all", "--json", tmp_path / "e.json")
    assert code == 0, err
    assert "token accuracy" in out and "parallel fifths" in out
    report = json.loads((tmp_path / "e.json").read_text())
    totals = report["totals"]
    assert totals["pieces"] == 16 and len(report["pieces"]) == 16
    for voice in ("alto", "tenor", "bass"):
        assert 0 <= totals["token_accuracy"][voice] <= 1 and totals["nll_per_token"][voice] > 0
    assert totals["original"]["parallel_fifths"] < 1.0       # Bach hardly ever writes them
    assert "temperature 0.4, seed 0," in out and report["temperature"] == 0.4   # harmonize's default
    for line in ("final bass = original's", "final chord = original's", "alto attacks per 100 beats",
                 "chord attacks per 100 beats", "on-beat clashes with soprano", "95% bootstrap interval"):
        assert line in out
    for side in ("original", "model"):
        rate, (low, high) = totals["attacks_per_100_beats"][side]["chord"], totals["chord_attacks_ci"][side]
        assert low <= rate <= high and f"{rate:6.1f} [{low:.1f}, {high:.1f}]" in out
        assert 0 <= totals["clash_rate"][side] <= 1 and len(totals["clash_rate_ci"][side]) == 2
    assert totals["note_accuracy_ci"][0] <= totals["note_accuracy"]["mean"] <= totals["note_accuracy_ci"][1]
    assert 0 <= totals["final_bass_match"] <= 1 and totals["seeds"] == 1
    empty = tmp_path / "none"
    empty.mkdir()
    code, _, err = run(capsys, "evaluate-harmony", "--model", tiny_harmony_path, "--data", empty, "--split", "all")
    assert code == 1 and "no four-part pieces" in err


def test_evaluate_harmony_averages_seeds_and_reports_their_spread(tmp_path, capsys, tiny_harmony_path):
    for path in chorale_paths(2, 4):
        shutil.copyfile(path, tmp_path / path.name)
    code, out, err = run(capsys, "evaluate-harmony", "--model", tiny_harmony_path, "--data", tmp_path,
                         "--split", "all", "--seeds", 3, "--seed", 7, "--json", tmp_path / "e.json")
    assert code == 0, err
    assert "3 seeds 7..9" in out and "spread over 3 seeds (7..9)" in out
    report = json.loads((tmp_path / "e.json").read_text())
    per_seed = report["totals"]["per_seed"]
    assert report["seeds"] == 3 and per_seed["seed"] == [7, 8, 9]
    assert all(len(p["per_seed"]) == 3 for p in report["pieces"])
    assert report["totals"]["note_accuracy"]["mean"] == pytest.approx(np.mean(per_seed["note_accuracy"]))
    code, out, err = run(capsys, "evaluate-harmony", "--model", tiny_harmony_path, "--data", tmp_path,
                         "--split", "all", "--seeds", 2, "--temperature", 0, "--json", tmp_path / "g.json")
    assert code == 0, err
    assert "temperature 0, 2 seeds 0..1," in out
    greedy = json.loads((tmp_path / "g.json").read_text())["totals"]["per_seed"]
    for key in ("note_accuracy", "chord_attacks_per_100_beats", "clash_rate"):
        assert greedy[key][0] == greedy[key][1]                  # greedy: every seed writes the same
    code, _, err = run(capsys, "evaluate-harmony", "--model", tiny_harmony_path, "--seeds", 0)
    assert code == 2 and "--seeds" in err


def test_voice_leading_counts_find_each_fault_and_spare_good_writing():
    # S/B in parallel fifths C->D over G->A? no: soprano 67->69, bass 60->62: fifths moving up together.
    parallel = grid([67, 69], [64, 65], [60, 60], [60, 62])
    counts = voice_leading_counts(parallel)
    assert counts["parallel_fifths"] == 1 and counts["parallel_octaves"] == 0
    contrary = grid([67, 65], [64, 64], [60, 60], [48, 50])   # fifth->... in contrary motion
    assert voice_leading_counts(contrary)["parallel_fifths"] == 0
    octaves = grid([72, 74], [67, 67], [64, 64], [48, 50])
    assert voice_leading_counts(octaves)["parallel_octaves"] == 1
    held = grid([67, "-"], [64, 64], [60, 60], [60, "-"])
    assert voice_leading_counts(held)["parallel_fifths"] == 0
    crossing = grid([67], [69], [60], [48])
    assert voice_leading_counts(crossing)["crossings"] == 1
    spaced = grid([79], [64], [60], [48])                      # 15 semitones between S and A
    assert voice_leading_counts(spaced)["spacing"] == 1
    low = grid([67], [64], [60], [30])                        # a bass below E2
    assert voice_leading_counts(low)["out_of_range"] == 1


def test_a_bach_chorale_has_few_faults():
    chorale = read_midi(chorale_paths(10, 0)[0])
    from composer.harmony.grid import piece_to_frames
    counts = voice_leading_counts(piece_to_frames(chorale))
    frames = len(piece_to_frames(chorale))
    assert counts["parallel_fifths"] + counts["parallel_octaves"] <= 0.01 * frames


def test_info_and_strip_read_harmony_model_files(tmp_path, capsys, tiny_harmony_path):
    code, out, err = run(capsys, "info", tiny_harmony_path)
    assert code == 0, err
    assert "4-part harmony model file" in out and "resumable: True" in out
    code, out, err = run(capsys, "strip", tiny_harmony_path, "--out", tmp_path / "small.pt")
    assert code == 0, err
    code, out, err = run(capsys, "info", tmp_path / "small.pt", "--json")
    summary = json.loads(out)
    assert summary["kind"] == "composer-harmony-model" and summary["resumable"] is False
    from composer.harmony.inference import load_harmony_model
    assert load_harmony_model(tmp_path / "small.pt").voice_limits


def test_harmonize_says_when_it_sings_the_top_notes_of_chords(capsys, tmp_path, tiny_harmony_path):
    tune = REPO / "midi_data" / "folk_melodies" / "airdsAirs" / "book4_0000.mid"   # double stops
    code, out, err = run(capsys, "harmonize", tune, "--out", tmp_path / "h.mid", "--model", tiny_harmony_path)
    assert code == 0, err
    assert "chords at 2 place(s)" in out and "top note" in out


def test_generate_with_a_harmony_model_reads_it_once(tmp_path, capsys, tiny_harmony_path, monkeypatch):
    import composer.core.modelfile as modelfile

    paths = []
    real = modelfile.load_checkpoint
    monkeypatch.setattr(modelfile, "load_checkpoint",
                        lambda path, *a, **k: paths.append(str(path)) or real(path, *a, **k))
    code, out, err = run(capsys, "generate", "--model", tiny_harmony_path, "--out", tmp_path / "gen", "--count", 1,
                         "--bars", 2, "--seed", 1)
    assert code == 0, err
    assert paths == [str(tiny_harmony_path)]
    assert "variation_01.mid: " in out and "notes in 4 parts, 2 bars" in out


def test_the_chorale_manifest_has_the_melody_manifests_shape(tmp_path, capsys, tiny_harmony_path):
    import hashlib

    from composer.shipped import MODELS

    code, _, err = run(capsys, "generate", "--model", tiny_harmony_path, "--out", tmp_path / "satb", "--count", 2,
                       "--bars", 4, "--seed", 2, "--key", "G", "--prefix", "chorale")
    assert code == 0, err
    code, _, err = run(capsys, "generate", "--model", MODELS / "melody_chords.pt", "--out", tmp_path / "tune",
                       "--count", 1, "--bars", 2, "--seed", 2, "--chords", "C G")
    assert code == 0, err
    chorale = json.loads((tmp_path / "satb" / "manifest.json").read_text())
    tune = json.loads((tmp_path / "tune" / "manifest.json").read_text())
    assert set(chorale) == set(tune)
    assert set(chorale["model"]) == set(tune["model"]) == {"path", "kind", "sha256", "metrics", "epoch"}
    assert set(chorale["files"][0]) == set(tune["files"][0]) - {"chord_tone_fraction"}   # a melody over chords
    assert tune["chords"] == [{"chord": "C", "start_beat": 0.0, "beats": 4.0}, {"chord": "G", "start_beat": 4.0,
                                                                                "beats": 4.0}]
    assert chorale["model"] == {"path": str(tiny_harmony_path), "kind": "composer-harmony-model",
                                "sha256": hashlib.sha256(tiny_harmony_path.read_bytes()).hexdigest(),
                                "metrics": chorale["model"]["metrics"], "epoch": 2}
    assert chorale["model"]["metrics"]["valid"]["loss"] > 0
    assert chorale["parameters"] == {"count": 2, "bars": 4, "temperature": 0.9, "key": "G", "seed": 2, "tempo": 80.0}
    assert chorale["primer_ticks"] == 0 and chorale["key_token"] == "G" and chorale["chords"] == []
    assert chorale["ticks_per_beat"] == 12 and chorale["generation_seconds"] > 0
    assert [f["file"] for f in chorale["files"]] == ["chorale_01.mid", "chorale_02.mid"]
    for item in chorale["files"]:
        piece = read_midi(tmp_path / "satb" / item["file"])
        assert item["voices"] == 4 and item["bars"] == 4 and item["beats"] == 16
        assert item["seconds"] == mido.MidiFile(tmp_path / "satb" / item["file"]).length == 12.0  # 16 beats at 80
        assert item["notes"] == len(piece.notes) > 0
        assert item["pitch_range"] == [min(n.pitch for n in piece.notes), max(n.pitch for n in piece.notes)]
        assert item["estimated_key"] and 0 <= item["in_scale"] <= 1


def test_write_chorales_to_folder_writes_what_generate_chorale_returned(tmp_path, tiny_harmony):
    from composer.core.output_folder import write_chorales_to_folder
    from composer.harmony.inference import generate_chorale

    result = generate_chorale(tiny_harmony, 1, count=1, temperature=0.5, seed=4, qpm=100.0)
    manifest = write_chorales_to_folder(tiny_harmony, tmp_path / "lib", result, 1, 0.5, 100.0)
    assert [f["file"] for f in manifest["files"]] == ["variation_01.mid"]
    assert manifest == json.loads((tmp_path / "lib" / "manifest.json").read_text())
    assert manifest["parameters"] == {"count": 1, "bars": 1, "temperature": 0.5, "key": None, "seed": 4,
                                      "tempo": 100.0}
    assert manifest["key_token"] is None and manifest["files"][0]["seconds"] == 4 * 60 / 100


def test_train_resume_recognises_a_harmony_model_file(tmp_path, tiny_harmony_path):
    from composer.cli.common import model_file_kind

    assert model_file_kind(tiny_harmony_path) == "composer-harmony-model"
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    assert model_file_kind(junk) is None


def test_the_command_line_and_the_library_agree_on_the_harmony_temperature():
    from composer.cli.harmony import DEFAULT_TEMPERATURE as CLI_DEFAULT
    from composer.harmony.inference import DEFAULT_TEMPERATURE

    assert CLI_DEFAULT == DEFAULT_TEMPERATURE


def test_harmonize_takes_no_key_guide(tmp_path):
    from composer.cli.main import main
    from tests.harmony.conftest import chorale_paths
    from composer.music.midi_io import read_midi, write_midi
    from composer.music.notes import select_voices

    melody = tmp_path / "melody.mid"
    write_midi(select_voices(read_midi(chorale_paths(1)[0]), [0]), melody)
    assert main(["harmonize", str(melody), "--out", str(tmp_path / "free.mid"), "--seed", "1", "--no-key-guide"]) == 0
    from composer.harmony.inference import DEFAULT_HARMONY_MODEL, DEFAULT_TEMPERATURE, harmonize, load_harmony_model

    expected = harmonize(load_harmony_model(DEFAULT_HARMONY_MODEL), read_midi(melody), seed=1,
                         temperature=DEFAULT_TEMPERATURE, key_guide=0.0).pieces[0]
    written = read_midi(tmp_path / "free.mid")
    assert sorted((n.start, n.pitch) for n in written.notes) == sorted((n.start, n.pitch) for n in expected.notes)
