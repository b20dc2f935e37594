"""A built wheel installed into a fresh virtual environment generates and harmonizes with the shipped models, run
from outside the repository (issue 18: every install path works, not only an editable install)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from composer.music.midi_io import read_midi, write_midi
from tests.notation.conftest import REPO_ROOT, small_piece
from tests.waiting import scaled

MAX_WHEEL_BYTES = 40 * 1024 * 1024


def _run(command: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=scaled(timeout),
                            env=env)
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip wheel . --no-deps`` builds from the repository (with this environment's setuptools)."""
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", REPO_ROOT, "--no-deps", "--no-build-isolation", "-q", "-w", dist],
         cwd=dist)
    (path,) = dist.glob("composer-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Path:
    """A fresh venv with the wheel installed (no dependencies: it borrows this environment's packages through a
    path file, which runs none of their .pth files, so the repository's editable install is not seen there)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         cwd=venv.parent)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], venv).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


@pytest.mark.slow
def test_the_wheel_carries_the_shipped_models_and_not_the_corpora(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for model in ("melody.pt", "melody_chords.pt", "chorale.pt", "melody.json", "chorale.json", "README.md"):
        assert f"composer/_data/models/{model}" in names
    assert not any("folk_melodies" in n or "bach_chorales" in n or "benchmarks/" in n for n in names)
    assert "composer/music/notation.py" in names and "gui/jobs/notation.py" in names
    assert wheel.stat().st_size < MAX_WHEEL_BYTES


@pytest.mark.slow
def test_the_installed_wheel_generates_and_harmonizes_from_outside_the_repository(installed, tmp_path):
    python, composer = installed / "bin" / "python", installed / "bin" / "composer"
    where = _run([python, "-c", "import composer, gui; print(composer.__file__)"], tmp_path).stdout.strip()
    assert Path(where).is_relative_to(installed)          # the wheel's copy, not the repository's
    _run([composer, "generate", "--bars", 2, "--count", 1, "--seed", 3, "--out", "out"], tmp_path)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert Path(manifest["model"]["path"]).is_relative_to(installed)
    assert Path(manifest["model"]["path"]).name == "melody.pt" and manifest["files"][0]["notes"] > 0
    melody = tmp_path / "melody.mid"
    write_midi(small_piece(), melody)
    result = _run([composer, "harmonize", melody, "--out", "h.mid", "--seed", 1], tmp_path)
    assert "harmonized in F" in result.stdout
    assert len(read_midi(tmp_path / "h.mid").voices) == 4
