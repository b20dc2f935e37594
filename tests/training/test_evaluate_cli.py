"""``composer evaluate MODEL --data DIR`` (issue 14): nats per note on held-out files and the form statistics
of generated pieces beside the files', with the shipped melody model on a tiny folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from composer import shipped
from composer.cli.main import main
from composer.melody.evaluate import nats_per_note, read_held_out
from composer.melody.form import form_statistics, summarize
from composer.melody.generate import GenerationRequest, generate
from composer.melody.model import load_melody_model
from composer.melody.train import evaluate, form_ids
from composer.music.metre import metre_of
from composer.music.midi_io import write_midi
from composer.music.notes import Note, Piece

from tests.training.conftest import REPO, copy_folk_subset
from tests.waiting import scaled

MELODY = shipped.MELODY_MODEL


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    """Three real folk tunes and one file too short to score."""
    root = tmp_path_factory.mktemp("held_out")
    copy_folk_subset(root, 3, offset=5)
    write_midi(Piece(tuple(Note(i * 12, i * 12 + 12, 60 + i) for i in range(3)), 12), root / "short.mid")
    return root


@pytest.fixture(scope="module")
def shipped_melody():
    return load_melody_model(MELODY)


@pytest.fixture(scope="module")
def report(held_out, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluate") / "report.json"
    code = main(["evaluate", str(MELODY), "--data", str(held_out), "--count", "3", "--bars", "4", "--seed", "2",
                 "--json", str(out)])
    assert code == 0
    return json.loads(out.read_text())


def test_the_report_scores_every_usable_file_and_skips_the_short_one(report, held_out):
    assert report["likelihood"]["pieces"] == 3
    assert list(report["skipped"]) == ["short.mid"] and "fewer than 8" in report["skipped"]["short.mid"]
    assert report["settings"] == {"count": 3, "bars": 4, "seed": 2, "form": "", "time_signature": None,
                                  "cadence": True, "key_guide": True, "temperature": 0.9}
    assert len(report["pieces"]["corpus"]) == 3 and len(report["pieces"]["generated"]) == 3


def test_nats_per_note_is_training_s_token_loss_summed_over_each_piece_and_divided_by_its_notes(
        report, held_out, shipped_melody):
    pieces, _ = read_held_out(held_out, shipped_melody.vocab)
    sequences = [p.ids for p in pieces]
    forms = form_ids(shipped_melody.net, shipped_melody.vocab, sequences, [metre_of(p.piece) for p in pieces])
    metrics = evaluate(shipped_melody.net, sequences, torch.device("cpu"), forms=forms)
    notes = sum(len(p.piece.notes) for p in pieces)
    likelihood = report["likelihood"]
    assert likelihood["notes"] == notes and likelihood["tokens"] == metrics.tokens
    assert likelihood["nats_per_token"] == pytest.approx(metrics.loss, rel=1e-5)
    assert likelihood["nats_per_note"] == pytest.approx(metrics.loss * metrics.tokens / notes, rel=1e-5)
    low, high = likelihood["nats_per_note_ci95"]
    assert low <= likelihood["nats_per_note"] <= high
    # each piece from a fresh state: scoring them one at a time gives the same total
    one_by_one = sum(nats_per_note(shipped_melody.net, [p], shipped_melody.vocab)["nats"] for p in pieces)
    assert one_by_one == pytest.approx(likelihood["nats"], rel=1e-5)


def test_the_form_statistics_are_those_of_the_files_and_of_the_seeded_generation(report, held_out, shipped_melody):
    pieces, _ = read_held_out(held_out, shipped_melody.vocab)
    corpus = summarize([form_statistics(p.piece) for p in pieces])
    assert report["form"]["corpus"] == json.loads(json.dumps(corpus))
    result = generate(shipped_melody.net, shipped_melody.vocab, GenerationRequest(count=3, bars=4, seed=2))
    generated = summarize([form_statistics(p) for p in result.pieces])
    assert report["form"]["generated"] == json.loads(json.dumps(generated))
    for name in ("ends_on_tonic", "repeated_bars", "repeated_rhythms", "in_scale"):
        for side in ("generated", "corpus"):
            summary = report["form"][side][name]
            assert 0.0 <= summary["ci95"][0] <= summary["mean"] <= summary["ci95"][1] <= 1.0


def test_the_table_is_printed(held_out, capsys):
    assert main(["evaluate", str(MELODY), "--data", str(held_out), "--count", "2", "--bars", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 pieces" in out and "1 files skipped" in out and "nats per note" in out
    for row in ("last note on the tonic", "bars repeating an earlier bar", "bars repeating an earlier rhythm",
                "pitch range (semitones)", "in-scale share"):
        assert row in out


def test_a_harmony_model_or_an_empty_folder_is_refused_in_one_line(held_out, tmp_path, capsys):
    assert main(["evaluate", str(shipped.HARMONY_MODEL), "--data", str(held_out), "--count", "1", "--bars", "1"]) == 1
    assert capsys.readouterr().err.startswith("composer evaluate: ")
    assert main(["evaluate", str(MELODY), "--data", str(tmp_path), "--count", "1", "--bars", "1"]) == 1
    assert "no usable MIDI file" in capsys.readouterr().err


def test_help_lists_evaluate_without_loading_torch():
    code = ("import sys; from composer.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=scaled(120),
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert "evaluate " in result.stdout and "evaluate-harmony" in result.stdout
