"""Report files and a training's side files follow the overwrite rule (issue 17, item 1, found afterwards).

Before the fix, ``composer evaluate ... --json FILE`` and ``evaluate-harmony --json FILE`` replaced an existing
FILE silently (there was no ``--force``); ``composer train`` without ``--force`` replaced an existing
``MODEL.curve.csv``, ``.curve.png`` or ``.data.csv`` whenever MODEL itself did not exist; and a library
training (the app's) refused because another process held the model file's lock had already rewritten the
other run's ``MODEL.data.csv``. Now each refusal comes before any work or write, in one line.

Everything is real: the ``composer`` command in-process, the shipped models, real folk tunes and chorales, and a
real child process holding the lock.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from composer.cli.main import main
from composer.core.locks import lock_path
from composer.core.training import TrainingError
from composer.harmony.train import HarmonyTrainConfig, train_harmony
from composer.melody.train import train
from composer.shipped import HARMONY_MODEL, MELODY_MODEL
from tests.training.conftest import MICRO_CONFIG, copy_folk_subset

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
SENTINEL = b"the other run's report\n"
HOLDER = """
import sys
from composer.core.locks import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def refused(capsys, *argv) -> str:
    """Run ``composer ARGV`` expecting a usage error (exit status 2); its last stderr line."""
    with pytest.raises(SystemExit) as caught:
        main([str(a) for a in argv])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.fixture
def folk(tmp_path) -> Path:
    folder = tmp_path / "folk"
    copy_folk_subset(folder, 3, offset=21)
    return folder


@pytest.fixture
def report(tmp_path) -> Path:
    path = tmp_path / "report.json"
    path.write_text("my notes\n")
    return path


def test_evaluate_json_never_overwrites_without_force(capsys, folk, report):
    line = refused(capsys, "evaluate", MELODY_MODEL, "--data", folk, "--count", "1", "--bars", "1", "--json", report)
    assert f"argument --json: {report} exists; pass --force to overwrite it" in line
    assert report.read_text() == "my notes\n"
    line = refused(capsys, "evaluate", MELODY_MODEL, "--data", folk, "--json", MELODY_MODEL, "--force")
    assert "is an input file" in line
    assert main(["evaluate", str(MELODY_MODEL), "--data", str(folk), "--count", "1", "--bars", "1", "--json",
                 str(report), "--force", "--threads", "1"]) == 0
    assert json.loads(report.read_text())["likelihood"]["pieces"] == 3


def test_evaluate_harmony_json_never_overwrites_without_force(capsys, tmp_path, report):
    data = tmp_path / "chorales"
    data.mkdir()
    for path in sorted(CHORALES.glob("*.mid"))[:2]:
        shutil.copy(path, data)
    line = refused(capsys, "evaluate-harmony", "--data", data, "--split", "all", "--json", report)
    assert f"argument --json: {report} exists; pass --force to overwrite it" in line
    assert report.read_text() == "my notes\n"
    line = refused(capsys, "evaluate-harmony", "--data", data, "--json", HARMONY_MODEL, "--force")
    assert "is an input file" in line


@pytest.mark.parametrize("side", [".curve.csv", ".curve.png", ".data.csv"])
def test_train_does_not_replace_side_files_without_force(capsys, tmp_path, folk, side):
    model = tmp_path / "m.pt"
    kept = model.with_name("m" + side)
    kept.write_bytes(SENTINEL)
    line = refused(capsys, "train", folk, "--out", model, "--epochs", "1")
    assert f"argument --out: {kept} exists; pass --force to overwrite it" in line
    assert kept.read_bytes() == SENTINEL and not model.exists()


def test_benchmark_training_does_not_replace_its_curve_without_force(capsys, tmp_path):
    model = tmp_path / "poly.pt"
    kept = model.with_name("poly.curve.csv")
    kept.write_bytes(SENTINEL)
    data = REPO / "midi_data" / "benchmarks" / "jsb_chorales_quarter.json"
    line = refused(capsys, "benchmark", "train-polyphonic", "--data", data, "--out", model, "--epochs", "1")
    assert f"{kept} exists" in line and kept.read_bytes() == SENTINEL


@pytest.fixture
def locked_model(tmp_path):
    """``tmp_path/busy.pt`` whose lock a real child process holds, with another run's data report beside it."""
    model = tmp_path / "busy.pt"
    model.with_name("busy.data.csv").write_bytes(SENTINEL)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(model)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield model, holder.pid
    finally:
        holder.stdin.close()
        holder.wait()


def test_a_refused_library_training_writes_nothing(locked_model, folk, tmp_path):
    model, pid = locked_model
    with pytest.raises(TrainingError, match=f"being written by another training \\(pid {pid}\\)"):
        train(folk, model, MICRO_CONFIG, workers=1, use_cache=False)
    chorales = tmp_path / "chorales"
    chorales.mkdir()
    for path in sorted(CHORALES.glob("*.mid"))[:4]:
        shutil.copy(path, chorales)
    with pytest.raises(TrainingError, match=f"being written by another training \\(pid {pid}\\)"):
        train_harmony(chorales, model, HarmonyTrainConfig.of(epochs=1, device="cpu"))
    assert model.with_name("busy.data.csv").read_bytes() == SENTINEL
    assert not model.exists() and lock_path(model).read_text().strip() == str(pid)
    assert not model.with_name("busy.curve.csv").exists()
