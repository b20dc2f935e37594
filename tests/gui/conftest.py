"""Fixtures for the GUI tests: offscreen Qt, a tiny real melody model, and a MainWindow with private
settings and autosave folders.

Everything is real: real MIDI files from ``midi_data/``, a tiny LSTM really trained once per session on a
dozen real folk tunes with :func:`composer.melody.train.train`. The user's settings, autosaves and models are
never touched (QSettings is an INI file in a temporary folder, QStandardPaths is in test mode).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from composer.core.corpus_files import find_midi_files
from composer.melody.train import TrainConfig, train
from tests.waiting import scaled_ms

REPO = Path(__file__).resolve().parents[2]
FOLK = REPO / "midi_data" / "folk_melodies"
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
SHIPPED_MODELS = REPO / "midi_data" / "models"

# Small enough to train in a couple of seconds on a busy 2-core machine, big enough to write melodies.
GUI_TINY_CONFIG = TrainConfig.of(
    embedding_size=16, hidden_size=32, num_layers=1, dropout=0.0, cell="lstm",
    epochs=2, batch_size=4, bptt=32, lr=1e-2, warmup_steps=5, patience=5,
    transpose=(-1, 1), seed=11, device="cpu", key_tokens=True,
)


@dataclass
class TinyMelodyModel:
    path: Path          # the model file (inside a folder of its own: the window's model folder)
    folder: Path
    corpus: Path


def copy_folk_files(dest: Path, count: int, offset: int = 0) -> list[Path]:
    """Copy ``count`` real folk tunes spread over the corpus into ``dest``."""
    files = find_midi_files(FOLK)
    step = len(files) // count
    copied = []
    for i in range(count):
        source = files[(offset + i * step) % len(files)]
        target = dest / f"{source.parent.name}_{source.name}"
        shutil.copyfile(source, target)
        copied.append(target)
    return copied


@pytest.fixture(scope="session", autouse=True)
def _qt_test_mode():
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def gui_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gui_corpus")
    copy_folk_files(root, 12, offset=5)
    return root


@pytest.fixture(scope="session")
def tiny_melody_model(tmp_path_factory, gui_corpus) -> TinyMelodyModel:
    """A tiny melody model really trained (2 epochs) on 12 real folk tunes, once per session."""
    folder = tmp_path_factory.mktemp("gui_models")
    path = folder / "tiny_melody.pt"
    train(gui_corpus, path, GUI_TINY_CONFIG, workers=1)
    return TinyMelodyModel(path, folder, gui_corpus)


@pytest.fixture
def folk_file() -> Path:
    """One real single-track folk tune."""
    return sorted((FOLK / "airdsAirs").glob("*.mid"))[0]


@pytest.fixture
def chorale_file() -> Path:
    """One real 4-track Bach chorale."""
    path = CHORALES / "bwv250.mid"
    return path if path.is_file() else sorted(CHORALES.glob("*.mid"))[0]


@pytest.fixture
def window_factory(qtbot, tmp_path, tiny_melody_model):
    """Builds MainWindows with private settings/autosave/model folders; closes them after the test.

    Keyword arguments are passed to MainWindow (e.g. ``player=``, ``midi_out=``, ``model_folders=``).
    """
    from gui.main_window import MainWindow
    from gui.settings import settings_at

    made = []

    def make(**kwargs):
        options = dict(settings=settings_at(tmp_path / "settings.ini"), autosave_dir=tmp_path / "autosave",
                       model_folders=[tiny_melody_model.folder], user_models_dir=tmp_path / "user_models",
                       autosave_delay_ms=20, preload=False)
        options.update(kwargs)
        window = MainWindow(**options)
        window.ask_before_closing = False
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        if window.worker is not None:
            window.worker.cancel()
            window.worker.wait(scaled_ms(10000))


@pytest.fixture
def window(window_factory):
    """A MainWindow with the tiny model as its only melody model."""
    return window_factory()


@pytest.fixture(scope="session")
def tiny_harmony_model(tmp_path_factory) -> Path:
    """A tiny 4-part harmony model really trained (2 epochs) on 8 real Bach chorales, once per session."""
    from composer.harmony.train import HarmonyTrainConfig, train_harmony

    chorales = tmp_path_factory.mktemp("gui_chorales")
    files = sorted(CHORALES.glob("*.mid"))
    for source in files[:: len(files) // 8][:8]:
        shutil.copyfile(source, chorales / source.name)
    config = HarmonyTrainConfig.of(embedding_size=16, encoder_size=16, hidden_size=32, num_layers=1, head_size=16,
                                dropout=0.0, epochs=2, batch_size=4, lr=1e-2, warmup_steps=5, patience=5,
                                transpose=(-2, 2), seed=5, device="cpu")
    path = tmp_path_factory.mktemp("gui_harmony") / "tiny_chorale.pt"
    train_harmony(chorales, path, config)
    return path


@pytest.fixture
def harmony_window(window_factory, tiny_melody_model, tiny_harmony_model):
    """A window with the tiny melody model and the tiny harmony model."""
    return window_factory(model_folders=[tiny_melody_model.folder, tiny_harmony_model.parent])


@pytest.fixture(scope="session")
def tiny_chord_model(tmp_path_factory, gui_corpus) -> Path:
    """A tiny chord-conditioned melody model really trained on the same 12 folk tunes (melody-implied chords)."""
    folder = tmp_path_factory.mktemp("gui_chord_model")
    path = folder / "tiny_chords.pt"
    config = GUI_TINY_CONFIG.replace(key_tokens=False, chord_labels="melody", chord_dropout=0.0)
    train(gui_corpus, path, config, workers=1)
    return path
