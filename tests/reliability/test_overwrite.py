"""No command overwrites a file silently (issue 17). Before the fix, ``harmonize in.mid --out in.mid`` replaced the
melody with its harmonization, ``--out notes.txt`` replaced a text file, ``--count 3`` replaced
``song_1..3.mid``, ``generate --out DIR`` replaced an earlier run's ``variation_01.mid`` and ``manifest.json``,
``strip --out`` replaced anything, and ``train`` without ``--resume`` replaced a 3-epoch model with a 1-epoch
one, all with exit status 0. Now a command that would write over an existing file stops before any work with
a usage error (exit status 2) naming the file and ``--force``; ``--force`` overwrites; writing over an input
file (the melody, piece, primer, model or data) is refused even with ``--force``.

Everything is real: the ``composer`` command in-process, real folk tunes and chorales, and the tiny melody
and harmony models the training and harmony tests train (their fixtures, imported).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from composer.cli.main import main
from composer.core.modelfile import load_checkpoint
from composer.shipped import BENCHMARKS
from tests.harmony import conftest as harmony_fixtures
from tests.harmony.conftest import chorale_paths
from tests.training import conftest as training_fixtures
from tests.training.conftest import folk_files

# The tiny models of the training and harmony tests, and what they are trained on: their fixtures, used here.
small_corpus, micro_corpus, tiny_model = (training_fixtures.small_corpus, training_fixtures.micro_corpus,
                                          training_fixtures.tiny_model)
chorale_dir, tiny_harmony_path = harmony_fixtures.chorale_dir, harmony_fixtures.tiny_harmony_path

TINY_TRAIN = ["--epochs", "1", "--batch-size", "4", "--bptt", "32", "--hidden-size", "16", "--embedding-size", "16",
              "--num-layers", "1", "--seed", "1", "--device", "cpu", "--quiet"]


def refused(capsys, *argv) -> str:
    """Run ``composer ARGV`` expecting a usage error (exit status 2); its last stderr line."""
    with pytest.raises(SystemExit) as caught:
        main([str(a) for a in argv])
    assert caught.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in paths}


def assert_unchanged(before: dict[Path, bytes]) -> None:
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} was overwritten"


@pytest.fixture
def melody(tmp_path) -> Path:
    """A real folk tune, copied."""
    path = tmp_path / "in.mid"
    shutil.copyfile(folk_files()[100], path)
    return path


# -- harmonize, regenerate ---------------------------------------------------------------------------------------
def test_harmonize_never_writes_over_its_melody(capsys, melody, tiny_harmony_path):
    before = snapshot(melody)
    for force in ([], ["--force"]):
        line = refused(capsys, "harmonize", melody, "--out", melody, "--model", tiny_harmony_path, *force)
        assert str(melody) in line and "input" in line
    assert_unchanged(before)


def test_harmonize_refuses_an_existing_file_and_overwrites_it_with_force(capsys, tmp_path, melody,
                                                                        tiny_harmony_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    line = refused(capsys, "harmonize", melody, "--out", notes, "--model", tiny_harmony_path)
    assert str(notes) in line and "--force" in line
    assert notes.read_text() == "my notes\n"
    assert main(["harmonize", str(melody), "--out", str(notes), "--model", str(tiny_harmony_path), "--seed", "1",
                 "--force"]) == 0
    assert notes.read_bytes()[:4] == b"MThd"


def test_harmonize_count_refuses_when_any_numbered_file_exists(capsys, tmp_path, melody, tiny_harmony_path):
    second = tmp_path / "song_2.mid"
    second.write_bytes(b"an earlier take")
    line = refused(capsys, "harmonize", melody, "--out", tmp_path / "song.mid", "--count", 3, "--model",
                   tiny_harmony_path)
    assert str(second) in line and "--force" in line
    assert second.read_bytes() == b"an earlier take"
    assert not (tmp_path / "song_1.mid").exists() and not (tmp_path / "song_3.mid").exists()
    assert main(["harmonize", str(melody), "--out", str(tmp_path / "song.mid"), "--count", "3", "--model",
                 str(tiny_harmony_path), "--seed", "1", "--force"]) == 0
    for index in (1, 2, 3):
        assert (tmp_path / f"song_{index}.mid").read_bytes()[:4] == b"MThd"


def test_regenerate_refuses_its_piece_and_existing_files(capsys, tmp_path, tiny_harmony_path):
    piece = tmp_path / "piece.mid"
    shutil.copyfile(chorale_paths(10, 3)[0], piece)
    old = tmp_path / "old.mid"
    old.write_bytes(b"keep me")
    before = snapshot(piece, old)
    base = ["regenerate", piece, "--bars", "1-2", "--voices", "alto", "--model", tiny_harmony_path]
    assert "input" in refused(capsys, *base, "--out", piece, "--force")
    assert "--force" in refused(capsys, *base, "--out", old)
    assert_unchanged(before)
    assert main([str(a) for a in (*base, "--out", old, "--seed", 2, "--force")]) == 0
    assert old.read_bytes()[:4] == b"MThd" and piece.read_bytes() == before[piece]


# -- generate --------------------------------------------------------------------------------------------------------
def test_generate_refuses_an_earlier_runs_files_and_overwrites_them_with_force(capsys, tmp_path, tiny_model):
    out = tmp_path / "run"
    argv = ["generate", "--out", out, "--model", tiny_model.path, "--count", 2, "--bars", 2, "--seed", 1]
    assert main([str(a) for a in argv]) == 0
    before = snapshot(out / "variation_01.mid", out / "variation_02.mid", out / "manifest.json")
    line = refused(capsys, *argv[:-1], 2)
    assert str(out / "variation_01.mid") in line and "--force" in line
    assert_unchanged(before)
    assert main([str(a) for a in (*argv[:-1], 2, "--force")]) == 0
    assert (out / "variation_01.mid").read_bytes() != before[out / "variation_01.mid"]


def test_generate_refuses_a_lone_manifest(capsys, tmp_path, tiny_model):
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    line = refused(capsys, "generate", "--out", out, "--model", tiny_model.path, "--count", 1, "--bars", 1)
    assert str(out / "manifest.json") in line
    assert (out / "manifest.json").read_text() == "{}" and not (out / "variation_01.mid").exists()


def test_generate_never_writes_over_its_primer_or_model(capsys, tmp_path, tiny_model, melody):
    out = tmp_path / "run"
    out.mkdir()
    primer = out / "variation_01.mid"
    shutil.copyfile(melody, primer)
    before = snapshot(primer)
    line = refused(capsys, "generate", "--out", out, "--model", tiny_model.path, "--primer", primer, "--count", 1,
                   "--bars", 1, "--force")
    assert "input" in line
    model = out / "manifest.json"
    shutil.copyfile(tiny_model.path, model)
    assert "input" in refused(capsys, "generate", "--out", out, "--model", model, "--prefix", "x", "--count", 1,
                              "--bars", 1, "--force")
    assert_unchanged(before)
    assert model.read_bytes() == tiny_model.path.read_bytes()


def test_generate_with_a_harmony_model_refuses_existing_files(capsys, tmp_path, tiny_harmony_path):
    out = tmp_path / "chorales"
    out.mkdir()
    (out / "chorale_01.mid").write_bytes(b"earlier")
    line = refused(capsys, "generate", "--out", out, "--model", tiny_harmony_path, "--prefix", "chorale",
                   "--count", 1, "--bars", 2)
    assert str(out / "chorale_01.mid") in line
    assert (out / "chorale_01.mid").read_bytes() == b"earlier" and not (out / "manifest.json").exists()
    assert main(["generate", "--out", str(out), "--model", str(tiny_harmony_path), "--prefix", "chorale",
                 "--count", "1", "--bars", "2", "--seed", "1", "--force"]) == 0
    assert (out / "chorale_01.mid").read_bytes()[:4] == b"MThd" and (out / "manifest.json").is_file()


# -- strip, train ------------------------------------------------------------------------------------------------
def test_strip_refuses_an_existing_file_and_its_own_model(capsys, tmp_path, tiny_model):
    model = tmp_path / "model.pt"
    shutil.copyfile(tiny_model.path, model)
    other = tmp_path / "other.txt"
    other.write_text("not a model")
    before = snapshot(model, other)
    assert "--force" in refused(capsys, "strip", model, "--out", other)
    assert "input" in refused(capsys, "strip", model, "--out", model, "--force")
    assert_unchanged(before)
    assert main(["strip", str(model), "--out", str(other), "--force"]) == 0
    assert "resume" not in load_checkpoint(other)


def test_train_refuses_an_existing_model_without_resume_or_force(capsys, tmp_path, micro_corpus, tiny_model):
    out = tmp_path / "model.pt"
    shutil.copyfile(tiny_model.path, out)
    before = snapshot(out)
    for task in ([], ["--task", "harmony"]):
        line = refused(capsys, "train", micro_corpus, "--out", out, *task, "--epochs", 1)
        assert str(out) in line and "--force" in line and "--resume" in line
    assert_unchanged(before)
    assert not (tmp_path / "model.curve.csv").exists()          # nothing ran
    assert main(["train", str(micro_corpus), "--out", str(out), *TINY_TRAIN, "--force"]) == 0
    assert load_checkpoint(out)["epoch"] == 1


def test_benchmark_training_refuses_its_data_and_an_existing_ship_file(capsys, tmp_path):
    data = tmp_path / "bench.json"
    shutil.copyfile(BENCHMARKS / "jsb_chorales_quarter.json", data)
    ship = tmp_path / "ship.pt"
    ship.write_bytes(b"shipped before")
    before = snapshot(data, ship)
    assert "input" in refused(capsys, "benchmark", "train-polyphonic", "--data", data, "--out", data, "--force")
    line = refused(capsys, "benchmark", "train-polyphonic", "--data", data, "--out", tmp_path / "m.pt", "--ship",
                   ship)
    assert str(ship) in line and "--force" in line
    assert_unchanged(before)
    assert not (tmp_path / "m.pt").exists()
