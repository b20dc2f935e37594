"""Fixtures for the harmony tests: real chorales, and one tiny harmony model really trained on them.

The model is trained once per session on 16 bundled chorales (a few seconds); it is far from musical,
but it is a real model file written and read by the real code, which is what these tests need.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from composer.harmony.inference import HarmonyModel, load_harmony_model
from composer.harmony.train import HarmonyTrainConfig, train_harmony

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"

TINY_HARMONY = HarmonyTrainConfig.of(embedding_size=16, encoder_size=16, hidden_size=32, num_layers=1,
                                  head_size=16, dropout=0.0, epochs=2, batch_size=4, lr=1e-2,
                                  warmup_steps=5, patience=5, transpose=(-2, 2), seed=5, device="cpu")


def chorale_paths(count: int, offset: int = 0) -> list[Path]:
    files = sorted(CHORALES.glob("*.mid"))
    assert len(files) >= 300, f"bundled chorales missing from {CHORALES}"
    step = len(files) // count
    return [files[(offset + i * step) % len(files)] for i in range(count)]


@pytest.fixture(scope="session")
def chorale_dir(tmp_path_factory) -> Path:
    """16 real chorales in a private folder."""
    folder = tmp_path_factory.mktemp("chorales")
    for path in chorale_paths(16):
        shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def tiny_harmony_path(tmp_path_factory, chorale_dir) -> Path:
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("harmony-model") / "tiny.pt"
    train_harmony(chorale_dir, path, TINY_HARMONY)
    return path


@pytest.fixture(scope="session")
def tiny_harmony(tiny_harmony_path) -> HarmonyModel:
    return load_harmony_model(tiny_harmony_path)
