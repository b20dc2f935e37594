"""Two trainings into one model file, and two writers of one corpus cache (issue 17).

Before the fix, a second ``composer train`` on the ``--out`` of a running one trained too and both reported
success, the last save winning: one model was silently lost. Now every training holds its model file's lock
(``MODEL.pt.lock``, an flock: the OS drops it when the process dies) for the whole run, and a second one, of any
family, stops at once with one line naming the first's pid, writing nothing. A corpus cache whose lock another
process holds is left to it (the training goes on, it only costs speed next time).

Everything is real: the first training is a real ``python -m composer train`` child on real folk tunes, held busy
by many epochs (and killed at the end); the second runs in-process through the real ``composer`` command.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from composer.cli.main import main
from composer.core.locks import lock_path, try_lock
from composer.core.modelfile import load_checkpoint
from composer.core.training import TrainingError
from composer.melody import corpus as corpus_module
from composer.melody.corpus import load_corpus
from composer.melody.encoding import Vocabulary
from composer.melody.train import train
from composer.shipped import BENCHMARKS
from tests.reliability.test_kill_training import child_cpu_seconds
from tests.training.conftest import MICRO_CONFIG, copy_folk_subset

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
START_CPU_SECONDS = 90    # CPU seconds the child may use to take its lock (CPU, not the clock: a busy machine
                          # slows it without failing the test; a hang is the watchdog's)
TINY = ["--batch-size", "4", "--bptt", "32", "--hidden-size", "16", "--embedding-size", "16", "--num-layers", "1",
        "--seed", "1", "--device", "cpu", "--threads", "1", "--workers", "1", "--no-cache", "--quiet"]


def wait_for(condition, child: subprocess.Popen, what: str) -> None:
    """Poll until ``condition()`` holds, failing if the child ends or uses START_CPU_SECONDS of CPU first."""
    while not condition():
        assert child.poll() is None, f"the child ended (status {child.returncode}) before {what}"
        assert child_cpu_seconds(child.pid) < START_CPU_SECONDS, f"the child never got to {what}"
        time.sleep(0.05)


@pytest.fixture
def running_training(tmp_path):
    """A real ``composer train`` child busy on ``tmp_path/model.pt`` (many epochs), once it holds the lock; killed
    with SIGKILL afterwards. Yields (child, data folder, model file)."""
    data, model = tmp_path / "data", tmp_path / "model.pt"
    copy_folk_subset(data, 4, offset=5)
    child = subprocess.Popen([str(PYTHON), "-m", "composer", "train", str(data), "--out", str(model), "--epochs",
                              "10000", "--patience", "10000", "--max-minutes", "30", *TINY],
                             cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: lock_path(model).is_file() and lock_path(model).read_text().strip().isdigit(), child,
                 "its lock")
        yield child, data, model
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def last_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    return err[-1]


def test_a_second_training_on_the_same_out_is_refused_and_writes_nothing(capsys, tmp_path, running_training):
    child, _, model = running_training
    other = tmp_path / "other"
    copy_folk_subset(other, 4, offset=40)
    expected = (f"{model} is being written by another training (pid {child.pid}); wait for it or choose another "
                f"--out")
    for task in ([], ["--task", "harmony"]):
        assert main(["train", str(other), "--out", str(model), "--force", "--epochs", "1", *task, *TINY]) == 1
        assert last_line(capsys) == f"composer train: {expected}"
    bench = tmp_path / "bench.json"
    shutil.copyfile(BENCHMARKS / "jsb_chorales_quarter.json", bench)
    assert main(["benchmark", "train-polyphonic", "--data", str(bench), "--out", str(model), "--force",
                 "--epochs", "1"]) == 1
    assert last_line(capsys) == f"composer benchmark: {expected}"
    # nothing of the refused runs was written: the first's files list only its own data, and it still holds the lock
    report = model.with_name("model.data.csv")
    wait_for(report.is_file, child, "its data report")
    assert not any(path.name in report.read_text() for path in other.rglob("*.mid"))
    assert lock_path(model).read_text().strip() == str(child.pid)
    assert child.poll() is None


def test_the_training_loop_itself_refuses_a_locked_model_file(running_training):
    """Library callers (the app's training dialog) go through the shared loop, which takes the lock too."""
    child, data, model = running_training
    with pytest.raises(TrainingError, match=f"being written by another training \\(pid {child.pid}\\)"):
        train(data, model, MICRO_CONFIG, workers=1, use_cache=False)
    assert lock_path(model).read_text().strip() == str(child.pid)


def test_a_killed_trainings_lock_does_not_block_the_next_and_is_removed(capsys, tmp_path, running_training):
    child, data, model = running_training
    os.killpg(child.pid, signal.SIGKILL)   # no cleanup: its lock file stays, but the OS dropped the lock
    child.wait()
    assert lock_path(model).is_file()
    assert main(["train", str(data), "--out", str(model), "--force", "--epochs", "1", *TINY]) == 0
    assert load_checkpoint(model)["epoch"] == 1
    assert not lock_path(model).exists()


def test_a_finished_training_leaves_no_lock_file(tmp_path):
    data, model = tmp_path / "data", tmp_path / "m.pt"
    copy_folk_subset(data, 4, offset=9)
    train(data, model, MICRO_CONFIG, workers=1, use_cache=False)
    assert model.is_file() and not lock_path(model).exists()


# -- the corpus cache ------------------------------------------------------------------------------------------
HOLDER = """
import sys
from composer.core.locks import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_cache_locked_by_another_process_is_left_alone_and_training_data_still_loads(tmp_path, monkeypatch):
    data, cache = tmp_path / "data", tmp_path / "cache"
    copy_folk_subset(data, 4, offset=11)
    vocab = Vocabulary(MICRO_CONFIG.encoding_config())
    cache_file = corpus_module._cache_path(data, vocab, 8, cache)
    monkeypatch.setattr(corpus_module, "try_lock", functools.partial(try_lock, wait_s=0.2))
    holder = subprocess.Popen([str(PYTHON), "-c", HOLDER, str(cache_file)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        corpus = load_corpus(data, vocab, workers=1, cache_dir=cache)
        assert sum(len(files) for files in corpus.files.values()) == 4
        assert not cache_file.exists()          # another process is writing it: not written here
    finally:
        holder.stdin.close()
        holder.wait()
    assert not lock_path(cache_file).exists()
    load_corpus(data, vocab, workers=1, cache_dir=cache)
    assert cache_file.is_file() and not lock_path(cache_file).exists()
    again = load_corpus(data, vocab, workers=1, cache_dir=cache)
    assert again.stats["cached"] == 4


def test_a_cache_another_process_just_wrote_is_not_rewritten(tmp_path, monkeypatch):
    data, cache = tmp_path / "data", tmp_path / "cache"
    copy_folk_subset(data, 4, offset=13)
    vocab = Vocabulary(MICRO_CONFIG.encoding_config())
    load_corpus(data, vocab, workers=1, cache_dir=cache)
    cache_file = corpus_module._cache_path(data, vocab, 8, cache)
    written = cache_file.stat().st_mtime_ns
    # a second process that read the cache before the first wrote it: it prepared everything again
    monkeypatch.setattr(corpus_module, "_read_cache", functools.partial(_read_cache_once, corpus_module._read_cache))
    corpus = load_corpus(data, vocab, workers=1, cache_dir=cache)
    assert corpus.stats["prepared"] == 4
    assert cache_file.stat().st_mtime_ns == written


_SEEN: set = set()


def _read_cache_once(read, path):
    """The first read of each cache sees none (as a process that started before it was written); later reads
    see the file."""
    if path in _SEEN:
        return read(path)
    _SEEN.add(path)
    return {}
