"""kill -9 the training process at random moments, in the middle of a model-file write too, and resume.

A real ``python -m composer train`` runs on 30 real folk melodies copied into a temporary folder and is
killed with SIGKILL (no handler, no cleanup) again and again:

1. shortly after its first checkpoint appears;
2. during a save, after the temporary file is complete but before it is renamed over the model file;
3. during a save, half-way through writing the temporary file;
4. at a random moment of start-up (imports, corpus loading, restoring the run); at a random moment
   after a save (mid-epoch); the instant a save's temporary file appears (mid-write, or just after the
   rename).

For 2 and 3 the child runs through a small wrapper that makes ``composer.core.atomic``'s rename (or its file
writes) stop for ten minutes at that point and leaves a marker, so the kill lands exactly there; the code
that writes the model file is the real one.

After every kill: the model file loads with ``load_checkpoint`` and ``build_model`` (best and resume
weights), its learning curve is epochs 1..E without gaps or repeats, earlier rows unchanged, steps evenly
spaced; a kill during a save leaves the old model file byte for byte and only a hidden ``.tmp`` beside it.
``--resume`` then continues, and finally training completes all epochs.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from composer.melody.model import from_checkpoint
from composer.core.modelfile import ModelFileError, load_checkpoint
from tests.reliability.conftest import scaled

FOLK = Path(__file__).resolve().parents[2] / "midi_data" / "folk_melodies"

EPOCHS = 8
TRAIN_FLAGS = ["--epochs", str(EPOCHS), "--batch-size", "4", "--bptt", "32", "--hidden-size", "32",
               "--embedding-size", "16", "--threads", "1", "--seed", "3", "--patience", "1000", "--workers", "1",
               "--quiet"]
START_TIMEOUT = 90  # CPU seconds a child may use to reach the point it is to be killed at (CPU, not the
                    # clock: a loaded machine slows the child without failing the test; a hang is the watchdog's)

# Runs the real CLI, with composer.core.atomic's os.replace (mode "replace") or its temporary file's writes
# (mode "write") stopping for 10 minutes at the moment to be hit, after touching a marker file.
SLOW_SAVE = r'''
import os, sys, time
from composer.core import atomic

MODE, MARKER, TARGET = os.environ["SLOW_SAVE_MODE"], os.environ["SLOW_SAVE_MARKER"], os.environ["SLOW_SAVE_TARGET"]


def stop_here(what):
    with open(MARKER, "w") as marker:
        marker.write(what)
    time.sleep(600)


class HalfWritten:
    """The temporary model file's handle: with exactly 64 KiB on disk it stops, part written."""

    def __init__(self, handle):
        self._handle, self._written = handle, 0

    def write(self, data):
        room = 65536 - self._written
        if len(data) >= room:
            self._handle.write(bytes(data[:room]))
            self._handle.flush()
            stop_here("write")
        self._written += len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


class SlowOs:
    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def replace(source, destination):
        if MODE == "replace" and os.path.basename(destination) == TARGET:
            stop_here("replace " + source)
        return os.replace(source, destination)

    @staticmethod
    def fdopen(fd, *args, **kwargs):
        handle = os.fdopen(fd, *args, **kwargs)
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if MODE == "write" and name.startswith("." + TARGET + "."):
            return HalfWritten(handle)
        return handle


atomic.os = SlowOs()
from composer.cli.main import main  # noqa: E402  (after the patch: checkpoint.py imports write_atomically)

sys.exit(main(sys.argv[1:]))
'''


def child_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process has used, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime (fields 14, 15)


def copy_folk(dest: Path, count: int = 30) -> None:
    files = sorted(FOLK.glob("*/*.mid"))
    assert len(files) >= 1000, f"bundled folk corpus missing in {FOLK}"
    for path in files[7::len(files) // count][:count]:
        (dest / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / path.parent.name / path.name)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Trainer:
    """Starts ``composer train`` children in their own process group and kills them with SIGKILL."""

    def __init__(self, root: Path) -> None:
        self.root, self.data, self.model = root, root / "data", root / "model.pt"
        self.marker = root / "slow-save.marker"
        self.script = root / "slow_save.py"
        self.script.write_text(SLOW_SAVE)
        self.env = {**os.environ, "COMPOSER_CACHE_DIR": str(root / "cache"), "PYTHONUNBUFFERED": "1",
                    "SLOW_SAVE_MARKER": str(self.marker), "SLOW_SAVE_TARGET": self.model.name}
        self.process: subprocess.Popen | None = None
        self.launches = 0

    def start(self, resume: bool, slow_save: str | None = None) -> subprocess.Popen:
        assert self.process is None
        self.launches += 1
        self.marker.unlink(missing_ok=True)
        program = [str(self.script)] if slow_save else ["-m", "composer"]
        command = [sys.executable, *program, "train", str(self.data), "--out", str(self.model), *TRAIN_FLAGS]
        if resume:
            command.append("--resume")
        log = open(self.root / f"run{self.launches}.log", "wb")
        self.process = subprocess.Popen(command, cwd=self.root, env={**self.env, "SLOW_SAVE_MODE": slow_save or ""},
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self.process

    def wait_for(self, condition, what: str) -> None:
        while not condition():
            assert self.process.poll() is None, f"the child ended (rc {self.process.returncode}) before {what}:\n" \
                                                f"{self.log()}"
            used = child_cpu_seconds(self.process.pid)
            assert used < START_TIMEOUT, f"no {what} after {used:.0f} s of the child's CPU:\n{self.log()}"
            time.sleep(0.005)

    def kill(self) -> bool:
        """SIGKILL the child's process group; True if it was still running (a real kill)."""
        process, self.process = self.process, None
        alive = process.poll() is None
        if alive:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=scaled(30))
        return alive and process.returncode == -signal.SIGKILL

    def finish(self) -> int:
        process, self.process = self.process, None
        return process.wait(timeout=scaled(240))

    def log(self) -> str:
        return (self.root / f"run{self.launches}.log").read_text(errors="replace")[-3000:]

    def temporaries(self) -> list[Path]:
        return sorted(self.root.glob(f".{self.model.name}.*.tmp"))


def check_model_file(path: Path, previous: dict | None, where: str) -> dict:
    """The model file loads and builds, and its learning curve continues ``previous``'s exactly."""
    try:
        checkpoint = load_checkpoint(path)
    except ModelFileError as error:
        pytest.fail(f"{where}: the model file does not load: {error}")
    for weights in ("model_state", "resume"):
        loaded = from_checkpoint(checkpoint, weights=weights)
        model, vocab = loaded.net, loaded.vocab
        assert model.config.vocab_size == len(vocab), where
    history = checkpoint["history"]
    assert [row["epoch"] for row in history] == list(range(1, checkpoint["epoch"] + 1)), (where, history)
    steps = [0] + [row["step"] for row in history]
    assert all(a < b for a, b in zip(steps, steps[1:])), (where, steps)  # every epoch trained, none twice
    assert checkpoint["resume"]["step"] == (steps[-1] if steps else 0), where
    if previous is not None:
        assert checkpoint["epoch"] >= previous["epoch"], where
        assert history[:len(previous["history"])] == previous["history"], f"{where}: earlier epochs rewritten"
        assert checkpoint["recipe"]["config"] == previous["recipe"]["config"], where
    return checkpoint


def test_kill_minus_nine_at_random_moments_then_resume(tmp_path, fuzz_tally):
    (tmp_path / "data").mkdir()
    copy_folk(tmp_path / "data")
    trainer = Trainer(tmp_path)
    rng = random.Random(2024)
    survived, notes = 0, []
    started = time.monotonic()
    try:
        # 1. a fresh run, killed just after its first checkpoint appears
        trainer.start(resume=False)
        trainer.wait_for(trainer.model.exists, "first checkpoint")
        time.sleep(rng.uniform(0.0, 0.3))
        assert trainer.kill(), "the first run ended before it could be killed"
        checkpoint = check_model_file(trainer.model, None, "after the first kill")
        survived += 1
        notes.append(f"after first checkpoint: epoch {checkpoint['epoch']}")

        # 2. killed between a complete temporary file and its rename over the model file
        before = digest(trainer.model)
        trainer.start(resume=True, slow_save="replace")
        trainer.wait_for(trainer.marker.exists, "save to reach the rename")
        assert trainer.kill()
        assert digest(trainer.model) == before, "a kill before the rename changed the model file"
        temporaries = trainer.temporaries()
        assert len(temporaries) == 1 and temporaries[0].name.startswith(".") and temporaries[0] != trainer.model
        stranded = load_checkpoint(temporaries[0])  # complete (written and synced), just never renamed
        assert stranded["epoch"] == checkpoint["epoch"] + 1
        checkpoint = check_model_file(trainer.model, checkpoint, "after a kill before the rename")
        survived += 1
        notes.append(f"before rename: model stays at epoch {checkpoint['epoch']}, epoch {stranded['epoch']} lost")

        # 3. killed half-way through writing the temporary file
        trainer.start(resume=True, slow_save="write")
        trainer.wait_for(trainer.marker.exists, "save to be half written")
        assert trainer.kill()
        assert digest(trainer.model) == before, "a kill during the write changed the model file"
        partial = [t for t in trainer.temporaries() if t not in temporaries]
        assert len(partial) == 1 and partial[0].stat().st_size == 65536 < trainer.model.stat().st_size
        with pytest.raises(ModelFileError):  # truncated: it would have been a disaster in the model's place
            load_checkpoint(partial[0])
        checkpoint = check_model_file(trainer.model, checkpoint, "after a kill during the write")
        survived += 1
        notes.append(f"mid-write: model stays at epoch {checkpoint['epoch']}, {partial[0].stat().st_size} bytes "
                     f"of temporary file stranded")

        # 4. kills at random moments of resumed runs: during start-up or corpus loading; mid-epoch (a random
        #    moment after a save); the instant a save's temporary file appears (mid-write or just after the rename)
        for moment in ("random", "after a save", "as a save starts"):
            known = set(trainer.temporaries())
            trainer.start(resume=True)
            if moment == "random":
                delay = rng.uniform(0.2, 1.5)  # start-up: imports, corpus loading, the resume itself
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline and trainer.process.poll() is None:
                    time.sleep(0.01)
                moment = f"at {delay:.2f} s"
            elif moment == "after a save":
                saved = trainer.model.stat().st_mtime_ns
                trainer.wait_for(lambda: trainer.model.stat().st_mtime_ns != saved, "a save")
                time.sleep(rng.uniform(0.0, 0.4))
            else:
                trainer.wait_for(lambda: set(trainer.temporaries()) - known, "a temporary file")
            killed = trainer.kill()
            checkpoint = check_model_file(trainer.model, checkpoint, f"after a kill {moment}")
            survived += killed
            notes.append(f"{moment}: {'killed' if killed else 'had already ended'}, model at epoch "
                         f"{checkpoint['epoch']}")

        # finally: resume to the end
        trainer.start(resume=True)
        assert trainer.finish() == 0, trainer.log()
        final = check_model_file(trainer.model, checkpoint, "after the final resume")
    finally:
        if trainer.process is not None:
            trainer.kill()
    assert final["epoch"] == EPOCHS and len(final["history"]) == EPOCHS, final["history"]
    assert final["recipe"]["stop_reason"] == "finished all epochs"
    assert final["metrics"]["valid"]["tokens"] > 0
    from_checkpoint(final)
    stranded = trainer.temporaries()  # never renamed, never loaded; later saves leave them where they are
    assert all(t.name.startswith(f".{trainer.model.name}.") and t.suffix == ".tmp" for t in stranded)
    notes.append(f"{len(stranded)} stranded temporary files left ({sum(t.stat().st_size for t in stranded)} bytes)")
    fuzz_tally["kills"] += survived
    summary = f"{survived} kill -9s survived in {time.monotonic() - started:.1f} s: " + "; ".join(notes)
    print(summary)
    assert survived >= 6, summary
