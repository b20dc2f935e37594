"""Shared fixtures: the real MIDI corpora shipped with the project.

The data lives in ``<repo>/midi_data`` (``bach_chorales_satb/*.mid`` and ``folk_melodies/<collection>/*.mid``).
Tests never reach outside the repository for data: if the folder is missing the data fixtures fail with a
message saying what to put where, rather than silently skipping.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from composer.music.midi_io import read_midi
from composer.music.notes import Piece
from tests.waiting import stretch_qtbot_waits

REPO_ROOT = Path(__file__).resolve().parent.parent
MIDI_DATA = REPO_ROOT / "midi_data"
CHORALE_DIR = MIDI_DATA / "bach_chorales_satb"
FOLK_DIR = MIDI_DATA / "folk_melodies"


@pytest.fixture(autouse=True, scope="session")
def private_corpus_cache(tmp_path_factory):
    """Keep the prepared-corpus cache of the tests out of the user's ~/.cache (child processes too)."""
    os.environ["COMPOSER_CACHE_DIR"] = str(tmp_path_factory.mktemp("corpus-cache"))


@pytest.fixture
def qtbot(qtbot):
    """pytest-qt's ``qtbot``, its waits stretched by the machine's load (:mod:`tests.waiting`): at load 16 a
    window's job takes eight times as long, and a fixed timeout would fail a test that is merely slow."""
    stretch_qtbot_waits(qtbot)
    return qtbot


@pytest.fixture(autouse=True)
def progress_never_on_its_own(monkeypatch):
    """Commands show progress once they have run a second (``COMPOSER_PROGRESS_DELAY``): on a busy machine any
    command may, and a test that checks stderr would then see a bar. Tests never get one unless they ask for
    it (tests/test_progress.py sets the delay itself); child processes inherit the setting."""
    monkeypatch.setenv("COMPOSER_PROGRESS_DELAY", "1e9")


# Sizes of the corpora as shipped; a much smaller count means a broken or partial copy.
MIN_CHORALES = 300
MIN_FOLK = 4000


def _find(folder: Path, pattern: str, minimum: int) -> list[Path]:
    files = sorted(folder.glob(pattern))
    if len(files) < minimum:
        pytest.fail(f"expected at least {minimum} MIDI files matching {pattern!r} in {folder}, found {len(files)}; "
                    f"copy the corpora into {MIDI_DATA} (bach_chorales_satb/, folk_melodies/)")
    return files


@pytest.fixture(scope="session")
def chorale_files() -> list[Path]:
    """Every Bach chorale (SATB, one track per part)."""
    return _find(CHORALE_DIR, "*.mid", MIN_CHORALES)


@pytest.fixture(scope="session")
def folk_files() -> list[Path]:
    """Every folk melody (one track, monophonic)."""
    return _find(FOLK_DIR, "*/*.mid", MIN_FOLK)


def sample_files(files: list[Path], count: int, seed: int = 0) -> list[Path]:
    """A fixed (seeded) sample of ``count`` files, drawn across all collections."""
    return sorted(random.Random(seed).sample(files, min(count, len(files))))


@pytest.fixture(scope="session")
def folk_sample(folk_files) -> list[Path]:
    """A fixed sample of 300 folk melodies from all three collections."""
    return sample_files(folk_files, 300, seed=300)


@pytest.fixture(scope="session")
def chorale_pieces(chorale_files) -> list[tuple[Path, Piece]]:
    """Every chorale read once with read_midi (reading is the slow part; tests share the result)."""
    return [(path, read_midi(path)) for path in chorale_files]


@pytest.fixture(scope="session")
def folk_pieces(folk_sample) -> list[tuple[Path, Piece]]:
    """The folk sample read once with read_midi."""
    return [(path, read_midi(path)) for path in folk_sample]


@pytest.fixture(scope="session")
def small_chorale(chorale_files) -> Path:
    """One real chorale file, for tests that need a single real file."""
    path = CHORALE_DIR / "bwv250.mid"
    return path if path in chorale_files else chorale_files[0]
