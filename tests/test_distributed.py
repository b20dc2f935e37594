"""torchrun with 2 CPU processes (DistributedDataParallel over gloo) learns what one process learns."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from composer.core.modelfile import load_checkpoint
from tests.waiting import scaled

FOLK = Path(__file__).resolve().parent.parent / "midi_data" / "folk_melodies" / "airdsAirs"
ARGS = ["--epochs", "2", "--batch-size", "8", "--bptt", "32", "--hidden-size", "32", "--embedding-size", "16",
        "--dropout", "0", "--threads", "1", "--seed", "3", "--quiet"]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=scaled(300))


def test_two_processes_match_one_process(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for path in sorted(FOLK.glob("*.mid"))[:40]:
        shutil.copy(path, data)
    single = run([sys.executable, "-m", "composer", "train", "data", "--out", "single.pt", *ARGS], tmp_path)
    assert single.returncode == 0, single.stderr
    ddp = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "composer", "train", "data", "--out", "ddp.pt", *ARGS], tmp_path)
    assert ddp.returncode == 0, ddp.stderr

    log = f"single:\n{single.stderr[-2000:]}\ntorchrun:\n{ddp.stderr[-4000:]}"
    one, two = load_checkpoint(tmp_path / "single.pt"), load_checkpoint(tmp_path / "ddp.pt")
    assert two["recipe"]["processes"] == 2 and one["recipe"]["processes"] == 1, log
    assert two["recipe"]["data"] == one["recipe"]["data"], log      # both saw the whole corpus
    for name, weights in one["model_state"].items():
        difference = (weights - two["model_state"][name]).abs().max().item()
        assert torch.allclose(weights, two["model_state"][name], atol=1e-5), f"{name}: {difference}\n{log}"
    assert abs(one["metrics"]["valid"]["loss"] - two["metrics"]["valid"]["loss"]) < 1e-5, log
    assert one["metrics"]["valid"]["tokens"] == two["metrics"]["valid"]["tokens"], log
    assert [r["epoch"] for r in two["history"]] == [1, 2], log
    for a, b in zip(one["history"], two["history"]):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-5, log
    # only rank 0 wrote: one model file, its side files, no stray temporary files
    assert sorted(p.name for p in tmp_path.glob("ddp*")) == ["ddp.curve.csv", "ddp.curve.png", "ddp.data.csv",
                                                             "ddp.pt"], log
    assert not list(tmp_path.glob(".*.tmp")), log
    assert ddp.stderr.count("done (finished all epochs)") == 1, log  # one rank reports


def test_batch_that_does_not_divide_among_processes_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for path in sorted(FOLK.glob("*.mid"))[:12]:
        shutil.copy(path, data)
    args = [a if a != "8" else "7" for a in ARGS]
    result = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                  "-m", "composer", "train", "data", "--out", "x.pt", *args], tmp_path)
    assert result.returncode != 0
    assert "batch_size 7 must divide evenly among 2 processes" in result.stderr
