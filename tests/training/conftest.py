"""Shared fixtures for the training / sampling / generation / CLI tests.

Everything here is real: real MIDI files copied out of ``midi_data/folk_melodies`` into temporary
folders, and one tiny model really trained on them once per session (a few seconds on a CPU) that the
sampling, generation and CLI tests share. Nothing writes into ``midi_data/`` or ``runs/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from composer.melody.model import load_melody_model
from composer.core.corpus_files import find_midi_files
from composer.melody.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[2]
FOLK = REPO / "midi_data" / "folk_melodies"
VENV_BIN = REPO / ".venv" / "bin"

# The whole folder must stay fast on a busy 2-core machine: tiny models, tiny corpora.
TINY_CONFIG = TrainConfig.of(
    embedding_size=24, hidden_size=48, num_layers=2, dropout=0.1, cell="lstm",
    epochs=3, batch_size=8, bptt=32, lr=1e-2, warmup_steps=10, patience=5,
    transpose=(-2, 2), seed=7, device="cpu",
)
# Even smaller, for tests that train several times (seeds, resume, interrupts).
MICRO_CONFIG = TrainConfig.of(
    embedding_size=16, hidden_size=32, num_layers=1, dropout=0.0, cell="lstm",
    epochs=1, batch_size=4, bptt=32, lr=1e-2, warmup_steps=5, patience=5,
    transpose=(-1, 1), seed=3, device="cpu",
)


def folk_files() -> list[Path]:
    """All bundled folk melodies, sorted (4248 of them)."""
    assert FOLK.is_dir(), f"bundled corpus missing: {FOLK}"
    return find_midi_files(FOLK)


def copy_folk_subset(dest: Path, count: int, offset: int = 0) -> list[str]:
    """Copy ``count`` folk files spread evenly over the corpus into ``dest``, keeping their sub-folders.

    Returns:
        The relative paths copied (posix style, as the corpus reports them).
    """
    files = folk_files()
    step = len(files) // count
    chosen = [files[(offset + i * step) % len(files)] for i in range(count)]
    relative = []
    for path in chosen:
        rel = path.relative_to(FOLK)
        (dest / rel.parent).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)
        relative.append(rel.as_posix())
    return relative


@dataclass
class TinyModel:
    path: Path
    checkpoint: dict
    config: TrainConfig
    data_dir: Path
    events: list[dict]


@pytest.fixture(scope="session")
def folk_root() -> Path:
    assert FOLK.is_dir(), f"bundled corpus missing: {FOLK}"
    return FOLK


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """48 real folk melodies from all three collections, in a private folder (read-only by convention)."""
    root = tmp_path_factory.mktemp("small_corpus")
    copy_folk_subset(root, 48)
    return root


@pytest.fixture(scope="session")
def micro_corpus(tmp_path_factory) -> Path:
    """12 real folk melodies for tests that train several tiny models."""
    root = tmp_path_factory.mktemp("micro_corpus")
    copy_folk_subset(root, 12, offset=17)
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, small_corpus) -> TinyModel:
    """One tiny LSTM really trained for 3 epochs on ``small_corpus``; shared, never modified by tests."""
    out = tmp_path_factory.mktemp("tiny_model") / "tiny.pt"
    events: list[dict] = []
    checkpoint = train(small_corpus, out, TINY_CONFIG, progress=events.append)
    return TinyModel(out, checkpoint, TINY_CONFIG, small_corpus, events)


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model):
    """The tiny model (a MelodyModel), loaded the way generation loads it."""
    return load_melody_model(tiny_model.path)


@pytest.fixture(scope="session")
def tiny_advancing_loaded(tmp_path_factory, small_corpus):
    """A tiny model (a MelodyModel) trained like ``tiny_model`` but with the encoding whose
    DUR tokens advance time (two tokens per legato note)."""
    out = tmp_path_factory.mktemp("tiny_advancing") / "tiny.pt"
    train(small_corpus, out, TINY_CONFIG.replace(durations_advance=True))
    return load_melody_model(out)


@pytest.fixture
def model_copy(tiny_model, tmp_path) -> Path:
    """A private copy of the tiny model file, for tests that rewrite or strip it."""
    dest = tmp_path / "model.pt"
    shutil.copyfile(tiny_model.path, dest)
    return dest


@pytest.fixture(autouse=True, scope="session")
def _deterministic_threads():
    """Tiny models gain nothing from threads on a busy 2-core machine; one thread keeps things quick."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
