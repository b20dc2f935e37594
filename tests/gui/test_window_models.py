"""Model files in the window: a model file rewritten on disk (trained again, resumed) is loaded afresh."""

from __future__ import annotations

import os
import shutil

import pytest

pytest.importorskip("PySide6")

from gui.models import ModelStore


def test_a_rewritten_model_file_is_loaded_again(tiny_melody_model, tiny_chord_model, tmp_path):
    path = tmp_path / "model.pt"
    shutil.copyfile(tiny_melody_model.path, path)
    store = ModelStore()
    first = store.melody(path)
    assert store.melody(path) is first                      # cached while the file is unchanged
    assert first[0].config.condition_size == 0
    shutil.copyfile(tiny_chord_model, path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1_000_000))
    second = store.melody(path)
    assert second is not first and second[0].config.condition_size > 0
