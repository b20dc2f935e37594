"""Model files: round trip, safe loading, version checks, atomic writes, stripping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from composer.melody.model import from_checkpoint, load_melody_model
from composer.core import modelfile as ckpt
from composer.core.modelfile import FORMAT_VERSION, ModelFileError, load_checkpoint, save_checkpoint, strip_checkpoint
from composer.melody.generate import GenerationRequest, generate
from composer.melody.model import ComposerLM


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def leftover_temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


def test_trained_file_has_the_documented_fields(tiny_model):
    checkpoint = load_checkpoint(tiny_model.path)
    for field in ("format_version", "kind", "model_config", "vocabulary", "model_state", "metrics", "recipe",
                  "history", "epoch", "resume"):
        assert field in checkpoint, field
    assert checkpoint["format_version"] == FORMAT_VERSION
    assert checkpoint["kind"] == "composer-model"
    assert checkpoint["epoch"] == tiny_model.config.epochs == len(checkpoint["history"])
    assert checkpoint["recipe"]["config"] == tiny_model.config.to_dict()
    assert set(checkpoint["resume"]) >= {"model_state", "optimizer", "scheduler", "rng", "bad_epochs", "step"}


def test_save_load_round_trip(tiny_model, tmp_path):
    original = load_checkpoint(tiny_model.path)
    copy_path = tmp_path / "sub" / "again.pt"          # the folder is created
    save_checkpoint(original, copy_path)
    again = load_checkpoint(copy_path)
    assert again.keys() == original.keys()
    assert_same_state(again["model_state"], original["model_state"])
    assert_same_state(again["resume"]["model_state"], original["resume"]["model_state"])
    assert again["metrics"] == original["metrics"]
    assert again["history"] == original["history"]
    assert again["vocabulary"] == original["vocabulary"]
    assert leftover_temp_files(copy_path.parent) == []


def test_load_model_gives_eval_model_with_best_weights(tiny_model):
    loaded = load_melody_model(tiny_model.path)
    model, vocab, checkpoint = loaded.net, loaded.vocab, loaded.checkpoint
    assert isinstance(model, ComposerLM)
    assert not model.training
    assert len(vocab) == model.config.vocab_size
    assert_same_state({k: v for k, v in model.state_dict().items()}, checkpoint["model_state"])
    loaded = from_checkpoint(checkpoint, weights="resume")
    resumed, _ = loaded.net, loaded.vocab
    assert_same_state(resumed.state_dict(), checkpoint["resume"]["model_state"])


class WritesMarker:
    """Unpickling this runs ``exec`` that writes a marker file: what a hostile model file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_pickle_that_runs_code_is_refused_unrun(tiny_model, tmp_path):
    marker = tmp_path / "marker.txt"
    checkpoint = load_checkpoint(tiny_model.path)
    checkpoint["metrics"] = {"valid": WritesMarker(marker)}
    evil = tmp_path / "evil.pt"
    torch.save(checkpoint, evil)
    assert not marker.exists()
    with pytest.raises(ModelFileError) as caught:
        load_checkpoint(evil)
    assert not marker.exists(), "loading a model file ran code from it"
    assert caught.value.path == str(evil)
    assert "plain data" in caught.value.reason
    with pytest.raises(ModelFileError):
        load_melody_model(evil)
    assert not marker.exists()


def test_the_marker_pickle_really_would_run(tmp_path):
    """Control for the test above: an unrestricted unpickle of the same payload does write the marker."""
    marker = tmp_path / "marker.txt"
    evil = tmp_path / "evil.pt"
    torch.save({"x": WritesMarker(marker)}, evil)
    torch.load(evil, weights_only=False)
    assert marker.read_text() == "pwned"


@pytest.mark.parametrize("version, word", [(0, "older"), (FORMAT_VERSION + 1, "newer"), (99, "newer"),
                                           (None, "older")])
def test_wrong_format_version(tiny_model, tmp_path, version, word):
    checkpoint = load_checkpoint(tiny_model.path)
    if version is None:
        del checkpoint["format_version"]
    else:
        checkpoint["format_version"] = version
    path = tmp_path / "other_version.pt"
    save_checkpoint(checkpoint, path)
    with pytest.raises(ModelFileError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"format version {version}" in message
    assert f"reads version {FORMAT_VERSION}" in message
    assert word in message


@pytest.mark.parametrize("content", [{"weights": torch.zeros(3)}, {"kind": "other-model", "format_version": 1},
                                     [1, 2, 3], torch.zeros(2)])
def test_not_a_composer_file(tmp_path, content):
    path = tmp_path / "foreign.pt"
    torch.save(content, path)
    with pytest.raises(ModelFileError, match="not a Composer model file"):
        load_checkpoint(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file") as caught:
        load_checkpoint(tmp_path / "nope.pt")
    assert caught.value.path == str(tmp_path / "nope.pt")
    with pytest.raises(ModelFileError):
        load_melody_model(tmp_path / "nope.pt")
    with pytest.raises(ModelFileError):           # a folder is not a model file either
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_truncated_or_empty_file(tiny_model, tmp_path, keep):
    data = tiny_model.path.read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError) as caught:
        load_checkpoint(path)
    assert caught.value.reason


def test_garbage_file(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ModelFileError):
        load_checkpoint(path)


def test_weights_that_do_not_fit_the_config(tiny_model, tmp_path):
    checkpoint = load_checkpoint(tiny_model.path)
    checkpoint["model_config"] = {**checkpoint["model_config"], "hidden_size": 64}
    path = tmp_path / "misfit.pt"
    save_checkpoint(checkpoint, path)
    with pytest.raises(ModelFileError, match="inconsistent"):
        load_melody_model(path)


def test_save_is_atomic(model_copy, monkeypatch):
    before = model_copy.read_bytes()
    checkpoint = load_checkpoint(model_copy)
    checkpoint["epoch"] = 1234
    real_save = torch.save

    def failing_save(obj, handle, *args, **kwargs):
        handle.write(b"half a model file" * 1000)   # something is written, then the disk fills up
        handle.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(checkpoint, model_copy)
    monkeypatch.setattr(torch, "save", real_save)
    assert model_copy.read_bytes() == before
    assert load_checkpoint(model_copy)["epoch"] != 1234
    assert leftover_temp_files(model_copy.parent) == []


def test_save_interrupted_by_ctrl_c_is_atomic_too(model_copy, monkeypatch):
    before = model_copy.read_bytes()

    def interrupted_save(obj, handle, *args, **kwargs):
        handle.write(b"\x80\x02partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(load_checkpoint(model_copy), model_copy)
    monkeypatch.undo()
    assert model_copy.read_bytes() == before
    assert leftover_temp_files(model_copy.parent) == []


def test_strip_removes_resume_and_still_generates(tiny_model, tmp_path):
    checkpoint = load_checkpoint(tiny_model.path)
    stripped = strip_checkpoint(checkpoint)
    assert "resume" not in stripped
    assert "resume" in checkpoint, "strip must not change its input"
    assert set(stripped) == set(checkpoint) - {"resume"}
    path = tmp_path / "shipped.pt"
    save_checkpoint(stripped, path)
    assert path.stat().st_size < tiny_model.path.stat().st_size
    loaded = load_melody_model(path)
    model, vocab, loaded = loaded.net, loaded.vocab, loaded.checkpoint
    assert "resume" not in loaded
    assert_same_state(model.state_dict(), checkpoint["model_state"])
    result = generate(model, vocab, GenerationRequest(count=2, bars=2, seed=3))
    assert len(result.pieces) == 2 and all(p.notes for p in result.pieces)


def test_model_file_error_message():
    error = ModelFileError("/x/y.pt", "broken")
    assert error.path == "/x/y.pt" and error.reason == "broken"
    assert str(error) == "cannot load model file /x/y.pt: broken"
    assert ckpt.MELODY_KIND == "composer-model"
