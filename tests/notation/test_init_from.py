"""``composer train --init-from MODEL``: fine-tuning a shipped melody model on a folder of your own tunes."""

from __future__ import annotations

import shutil

import pytest
import torch

from composer.cli.main import main
from tests.notation.conftest import REPO_ROOT

SHIPPED = REPO_ROOT / "midi_data" / "models" / "melody.pt"


@pytest.fixture
def tunes(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for path in sorted((REPO_ROOT / "midi_data" / "folk_melodies" / "oneills1850").glob("*.mid"))[:30]:
        shutil.copy(path, folder)
    return folder


@pytest.mark.slow
def test_fine_tuning_starts_from_the_models_weights_and_recipe(tunes, tmp_path, capsys):
    out = tmp_path / "mine.pt"
    status = main(["train", str(tunes), "--out", str(out), "--init-from", str(SHIPPED), "--epochs", "1",
                   "--lr", "1e-9", "--workers", "1", "--no-cache", "--threads", "1", "--quiet"])
    assert status == 0, capsys.readouterr().err
    model = torch.load(out, weights_only=True, map_location="cpu")
    shipped = torch.load(SHIPPED, weights_only=True, map_location="cpu")
    config = model["recipe"]["config"]
    assert config["init_from"] == str(SHIPPED) and config["epochs"] == 1
    assert config["model"] == shipped["recipe"]["config"]["model"]          # the shipped model's shape
    assert model["history"][0]["train_loss"] < 2.0     # a model trained from nothing starts near log(184) = 5.2
    for name in ("embedding.weight", "rnn.weight_ih_l0"):   # barely moved at this learning rate
        assert torch.allclose(model["model_state"][name], shipped["model_state"][name], atol=1e-4)


def test_init_from_is_refused_with_resume_and_for_harmony_models(tunes, tmp_path, capsys):
    out = tmp_path / "mine.pt"
    with pytest.raises(SystemExit):
        main(["train", str(tunes), "--out", str(out), "--init-from", str(SHIPPED), "--task", "harmony"])
    assert "argument --init-from: not a setting of harmony models" in capsys.readouterr().err
    shutil.copy(SHIPPED, out)
    with pytest.raises(SystemExit):
        main(["train", str(tunes), "--out", str(out), "--init-from", str(SHIPPED), "--resume"])
    assert "argument --init-from: not with --resume" in capsys.readouterr().err


def test_train_help_names_init_from(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--init-from MODEL" in capsys.readouterr().out
