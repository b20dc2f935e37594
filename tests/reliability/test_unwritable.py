"""Outputs that cannot be written (issue 17). Before the fix, ``--out /proc/x.mid``, a path under a regular file
(``notes.txt/inside.mid``) or a full disk ended in a traceback, after the work was done (a whole training, for
``train``). Now every writing command checks, before any work, that a file can be created where it would write,
and says in one line why not (exit status 1); an OS error while writing (a full disk) ends in one line too,
``composer COMMAND: REASON: PATH``, and the last good model file survives it.

The refusals need no model: they come before anything is loaded (the shipped files stand in as inputs, and are
never written). The full-disk cases run the real training and harmonization, with ``composer.core.atomic``'s
temporary-file writes failing with ENOSPC once the file being written passes 64 KiB.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from composer.cli.main import main
from composer.core import atomic
from composer.core.locks import lock_path
from composer.core.modelfile import load_checkpoint
from composer.shipped import BENCHMARKS, MELODY_MODEL
from tests.harmony import conftest as harmony_fixtures
from tests.training import conftest as training_fixtures
from tests.training.conftest import folk_files

micro_corpus = training_fixtures.micro_corpus
chorale_dir, tiny_harmony_path = harmony_fixtures.chorale_dir, harmony_fixtures.tiny_harmony_path

TINY_TRAIN = ["--epochs", "1", "--batch-size", "4", "--bptt", "32", "--hidden-size", "16", "--embedding-size", "16",
              "--num-layers", "1", "--seed", "1", "--device", "cpu", "--workers", "1", "--no-cache", "--quiet"]


@pytest.fixture
def melody(tmp_path) -> Path:
    path = tmp_path / "in.mid"
    shutil.copyfile(folk_files()[100], path)
    return path


@pytest.fixture
def notes(tmp_path) -> Path:
    """A regular file, under which nothing can be written."""
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    return path


def commands(out: Path, melody: Path, data: Path) -> dict[str, list]:
    """Each writing command, writing to ``out`` (a folder for generate)."""
    bench = BENCHMARKS / "jsb_chorales_quarter.json"
    return {
        "generate": ["generate", "--out", out, "--count", 1, "--bars", 1],
        "harmonize": ["harmonize", melody, "--out", out],
        "regenerate": ["regenerate", melody, "--out", out, "--bars", "1-2", "--voices", "alto"],
        "strip": ["strip", MELODY_MODEL, "--out", out],
        "train": ["train", data, "--out", out, *TINY_TRAIN],
        "benchmark train-polyphonic": ["benchmark", "train-polyphonic", "--data", bench, "--out", out],
        "evaluate": ["evaluate", MELODY_MODEL, "--data", data, "--json", out],
        "evaluate-harmony": ["evaluate-harmony", "--data", data, "--json", out],
    }


def one_line_failure(capsys, argv) -> str:
    """Run ``composer ARGV`` expecting exit status 1 and one line on stderr, no traceback; that line."""
    assert main([str(a) for a in argv]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err and len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("command", ["generate", "harmonize", "regenerate", "strip", "train",
                                     "benchmark train-polyphonic", "evaluate", "evaluate-harmony"])
def test_an_output_in_proc_is_refused_before_any_work(capsys, tmp_path, melody, command):
    out = Path("/proc/x.mid")
    line = one_line_failure(capsys, commands(out, melody, tmp_path)[command])
    assert line.startswith(f"composer {command}: cannot write to {out}: ")
    assert not out.exists()


@pytest.mark.parametrize("command", ["generate", "harmonize", "regenerate", "strip", "train",
                                     "benchmark train-polyphonic", "evaluate", "evaluate-harmony"])
def test_an_output_under_a_regular_file_is_refused_before_any_work(capsys, tmp_path, melody, notes, command):
    out = notes / "inside.mid"
    line = one_line_failure(capsys, commands(out, melody, tmp_path)[command])
    assert line == f"composer {command}: cannot write to {out}: {notes} is not a folder"
    assert notes.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mid", "notes.txt"]   # nothing else written


def test_an_output_that_is_a_folder_is_refused(capsys, tmp_path, melody):
    line = one_line_failure(capsys, ["harmonize", melody, "--out", tmp_path])
    assert line == f"composer harmonize: cannot write to {tmp_path}: it is a folder"


def test_an_output_in_a_missing_folder_is_still_written(capsys, tmp_path):
    out = tmp_path / "new" / "deeper" / "small.pt"
    assert main(["strip", str(MELODY_MODEL), "--out", str(out)]) == 0
    assert "resume" not in load_checkpoint(out)


# -- a full disk while writing --------------------------------------------------------------------------------
class FullDisk:
    """``composer.core.atomic``'s ``os``: the temporary file of ``target`` fails with ENOSPC past 64 KiB."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, *args, **kwargs):
        handle = os.fdopen(fd, *args, **kwargs)
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        return _Filling(handle) if name.startswith(f".{self.target}.") else handle


class _Filling:
    def __init__(self, handle) -> None:
        self._handle, self._written = handle, 0

    def write(self, data) -> int:
        self._written += len(data)
        if self._written > 65536:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


def test_a_full_disk_during_training_is_one_line_and_keeps_the_previous_model(capsys, monkeypatch, tmp_path,
                                                                              micro_corpus):
    model = tmp_path / "model.pt"
    shutil.copyfile(MELODY_MODEL, model)
    before = model.read_bytes()
    monkeypatch.setattr(atomic, "os", FullDisk("model.pt"))
    assert main(["train", str(micro_corpus), "--out", str(model), "--force", *TINY_TRAIN]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.strip().splitlines()[-1] == f"composer train: No space left on device: {model}"
    assert model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.data.csv", "model.pt"]   # no temporary, no lock
    assert not lock_path(model).exists()


def test_a_full_disk_writing_a_harmonization_is_one_line(capsys, monkeypatch, tmp_path, melody, tiny_harmony_path):
    out = tmp_path / "out.mid"
    monkeypatch.setattr(atomic, "os", FullDisk("out.mid"))
    monkeypatch.setattr(_Filling, "write", _fail_at_once)
    line = one_line_failure(capsys, ["harmonize", melody, "--out", out, "--model", tiny_harmony_path, "--seed", 1])
    assert line == f"composer harmonize: No space left on device: {out}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mid"]


def _fail_at_once(self, data) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
