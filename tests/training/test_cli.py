"""The ``composer`` command line, end to end, in-process (cli.main) and as a real subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import mido
import numpy as np
import pretty_midi
import pytest

from composer.core.modelfile import load_checkpoint
from composer.cli.main import main
from composer.music.metre import metre_of
from composer.music.notes import Note, Piece, quantize
from composer.music.midi_io import read_midi, write_midi

from .conftest import REPO, VENV_BIN, copy_folk_subset, folk_files
from tests.waiting import scaled


def run_cli(*args: str, timeout: int = 120, entry: str = "module") -> subprocess.CompletedProcess:
    command = ([sys.executable, "-m", "composer"] if entry == "module" else [str(VENV_BIN / "composer")])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=scaled(timeout),
                          cwd=REPO, env=env)


def usage_error(capsys, argv: list[str]) -> str:
    """Run the CLI expecting an argparse usage error (exit 2); return its stderr."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    return capsys.readouterr().err


# -- generate ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tiny_model, tmp_path_factory):
    """`composer generate --out DIR --model TINY --count 3 --bars 4 --seed 1`, run in-process."""
    out = tmp_path_factory.mktemp("generated") / "out"
    code = main(["generate", "--out", str(out), "--model", str(tiny_model.path), "--count", "3", "--bars", "4",
                 "--seed", "1"])
    assert code == 0
    return out


def test_generate_writes_files_and_manifest(generated, tiny_model):
    names = sorted(p.name for p in generated.iterdir())
    assert names == ["manifest.json", "variation_01.mid", "variation_02.mid", "variation_03.mid"]
    manifest = json.loads((generated / "manifest.json").read_text())
    parameters = manifest["parameters"]
    assert parameters["seed"] == 1 and parameters["count"] == 3 and parameters["bars"] == 4
    assert parameters["temperature"] == 0.9 and parameters["key"] is None and parameters["primer"] is None
    assert manifest["model"]["path"] == str(tiny_model.path)
    assert manifest["model"]["sha256"] == hashlib.sha256(tiny_model.path.read_bytes()).hexdigest()
    assert manifest["model"]["epoch"] == 3
    assert manifest["model"]["metrics"]["valid"]["loss"] == pytest.approx(
        tiny_model.checkpoint["metrics"]["valid"]["loss"])
    assert manifest["primer_ticks"] == 0 and manifest["ticks_per_beat"] == 12
    assert [f["file"] for f in manifest["files"]] == names[1:]
    for item in manifest["files"]:
        assert item["bars"] == 4 and item["beats"] == 16
        assert item["seconds"] == pytest.approx(8.0)               # 16 beats at 120 QPM
        assert item["notes"] > 0
        low, high = item["pitch_range"]
        assert 36 <= low <= high <= 96


def test_generated_files_load_in_mido_and_pretty_midi(generated):
    manifest = json.loads((generated / "manifest.json").read_text())
    for item in manifest["files"]:
        path = generated / item["file"]
        midi = mido.MidiFile(path)
        assert midi.type == 1 and midi.ticks_per_beat % 480 == 0
        assert midi.length == pytest.approx(item["seconds"], abs=1e-6)   # the file runs to the bar line
        pm = pretty_midi.PrettyMIDI(str(path))
        notes = [n for instrument in pm.instruments for n in instrument.notes]
        assert len(notes) == item["notes"]
        assert all(0 <= n.start < n.end <= item["seconds"] + 1e-6 for n in notes)
        notes.sort(key=lambda n: n.start)
        assert all(a.end <= b.start + 1e-9 for a, b in zip(notes, notes[1:])), "melody must be monophonic"
        assert min(n.pitch for n in notes) == item["pitch_range"][0]
        assert max(n.pitch for n in notes) == item["pitch_range"][1]
        assert pm.estimate_tempo() > 0 and pm.get_tempo_changes()[1][0] == pytest.approx(120.0)


def test_generate_in_a_subprocess_gives_the_same_files(generated, tiny_model, tmp_path):
    out = tmp_path / "again"
    result = run_cli("generate", "--out", out, "--model", tiny_model.path, "--count", "3", "--bars", "4",
                     "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert "3 file(s) and manifest.json" in result.stdout and "seed 1" in result.stdout
    assert result.stdout.count("notes, 4 bars, 8.0s") == 3
    for name in ("variation_01.mid", "variation_02.mid", "variation_03.mid"):
        assert (out / name).read_bytes() == (generated / name).read_bytes(), name


def test_generate_options_reach_the_output(tiny_model, tmp_path):
    out = tmp_path / "keyed"
    code = main(["generate", "--out", str(out), "--model", str(tiny_model.path), "--count", "2", "--bars", "2",
                 "--seed", "4", "--key", "F#", "--temperature", "0.8", "--top-k", "20", "--top-p", "0.95",
                 "--tempo", "90", "--prefix", "tune"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [f["file"] for f in manifest["files"]] == ["tune_01.mid", "tune_02.mid"]
    assert manifest["parameters"]["key"] == "F#" and manifest["parameters"]["qpm"] == 90
    for item in manifest["files"]:
        pm = pretty_midi.PrettyMIDI(str(out / item["file"]))
        assert pm.get_tempo_changes()[1][0] == pytest.approx(90.0)
        assert item["seconds"] == pytest.approx(8 * 60 / 90)
        assert {n.pitch % 12 for i in pm.instruments for n in i.notes} <= {6, 8, 10, 11, 1, 3, 5}


def test_generate_beam(tiny_model, tmp_path):
    out = tmp_path / "beam"
    assert main(["generate", "--out", str(out), "--model", str(tiny_model.path), "--count", "2", "--bars", "2",
                 "--beam", "3"]) == 0
    assert sorted(p.name for p in out.glob("*.mid")) == ["variation_01.mid", "variation_02.mid"]


def test_generate_with_primer_and_continuation_only(tiny_model, tmp_path):
    primer = folk_files()[500]
    kept, alone = tmp_path / "kept", tmp_path / "alone"
    common = ["--model", str(tiny_model.path), "--count", "1", "--bars", "2", "--seed", "3",
              "--primer", str(primer)]
    assert main(["generate", "--out", str(kept), *common]) == 0
    assert main(["generate", "--out", str(alone), *common, "--continuation-only"]) == 0
    kept_manifest = json.loads((kept / "manifest.json").read_text())
    alone_manifest = json.loads((alone / "manifest.json").read_text())
    assert kept_manifest["parameters"]["primer"] == str(primer)
    assert kept_manifest["primer_ticks"] > 0 and alone_manifest["primer_ticks"] == 0
    assert alone_manifest["files"][0]["bars"] == 2
    bar = metre_of(quantize(read_midi(primer), 12)).bar_ticks       # the primer's own metre (a pickup at most)
    assert kept_manifest["files"][0]["bars"] == pytest.approx(kept_manifest["primer_ticks"] / bar + 2)
    assert kept_manifest["files"][0]["notes"] > alone_manifest["files"][0]["notes"]


@pytest.mark.parametrize("flag, value, word", [
    ("--count", "0", "--count"),
    ("--count", "many", "--count"),
    ("--temperature", "0", "--temperature"),
    ("--top-p", "1.5", "--top-p"),
    ("--key", "H", "--key"),
    ("--bars", "-1", "--bars"),
    ("--top-k", "-3", "--top-k"),
    ("--tempo", "5", "--tempo"),
    ("--form", "A1B2", "--form"),
    ("--time-signature", "7/5", "--time-signature"),
    ("--time-signature", "fast", "--time-signature"),
])
def test_generate_argument_errors(capsys, tiny_model, tmp_path, flag, value, word):
    err = usage_error(capsys, ["generate", "--out", str(tmp_path / "x"), "--model", str(tiny_model.path),
                               flag, value])
    assert f"argument {word}" in err, err
    assert value in err
    assert not (tmp_path / "x").exists()


def test_generate_missing_model_file(capsys, tmp_path):
    missing = tmp_path / "nope.pt"
    err = usage_error(capsys, ["generate", "--out", str(tmp_path / "x"), "--model", str(missing)])
    assert "argument --model" in err and "no such file" in err and str(missing) in err


def test_generate_with_a_file_that_is_not_a_model(capsys, tmp_path):
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"definitely not a model")
    assert main(["generate", "--out", str(tmp_path / "x"), "--model", str(fake)]) == 1
    err = capsys.readouterr().err
    assert "composer generate: cannot load model file" in err and str(fake) in err


def test_generate_with_a_corrupt_primer(capsys, tiny_model, tmp_path):
    primer = tmp_path / "broken primer.mid"
    primer.write_bytes(np.random.default_rng(7).bytes(700))
    code = main(["generate", "--out", str(tmp_path / "x"), "--model", str(tiny_model.path), "--primer", str(primer)])
    assert code == 1
    err = capsys.readouterr().err
    assert "--primer" in err and str(primer) in err
    assert not list((tmp_path).glob("x/*.mid"))


def test_generate_with_a_missing_primer(capsys, tiny_model, tmp_path):
    err = usage_error(capsys, ["generate", "--out", str(tmp_path / "x"), "--model", str(tiny_model.path),
                               "--primer", str(tmp_path / "absent.mid")])
    assert "argument --primer" in err and "absent.mid" in err


# -- info, strip ---------------------------------------------------------------------------------------------
def test_info_prints_the_valid_loss(capsys, tiny_model):
    assert main(["info", str(tiny_model.path)]) == 0
    out = capsys.readouterr().out
    loss = tiny_model.checkpoint["metrics"]["valid"]["loss"]
    assert f"valid: loss {loss:.4f} nats/token" in out
    assert "2 x 48 LSTM" in out and "3 epochs" in out and "resumable: True" in out
    assert main(["info", str(tiny_model.path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["metrics"]["valid"]["loss"] == pytest.approx(loss)
    assert summary["resumable"] is True and summary["vocabulary"]["size"] == 160


def test_info_in_a_subprocess_via_the_console_script(tiny_model):
    result = run_cli("info", tiny_model.path, entry="script")
    assert result.returncode == 0, result.stderr
    assert f"valid: loss {tiny_model.checkpoint['metrics']['valid']['loss']:.4f}" in result.stdout


def test_info_on_a_bad_file(capsys, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 10)
    assert main(["info", str(bad)]) == 1
    assert "composer info: cannot load model file" in capsys.readouterr().err


def test_strip_makes_a_smaller_file_that_still_generates(capsys, model_copy, tmp_path):
    shipped = tmp_path / "shipped.pt"
    assert main(["strip", str(model_copy), "--out", str(shipped)]) == 0
    assert "without resume state" in capsys.readouterr().out
    assert shipped.stat().st_size < model_copy.stat().st_size
    assert "resume" not in load_checkpoint(shipped)
    assert "resume" in load_checkpoint(model_copy)                # the original is untouched
    assert main(["info", str(shipped)]) == 0
    assert "resumable: False" in capsys.readouterr().out
    out = tmp_path / "from_shipped"
    assert main(["generate", "--out", str(out), "--model", str(shipped), "--count", "2", "--bars", "2",
                 "--seed", "1"]) == 0
    full = tmp_path / "from_full"
    assert main(["generate", "--out", str(full), "--model", str(model_copy), "--count", "2", "--bars", "2",
                 "--seed", "1"]) == 0
    for name in ("variation_01.mid", "variation_02.mid"):          # same best weights, same music
        assert (out / name).read_bytes() == (full / name).read_bytes()


# -- train -----------------------------------------------------------------------------------------------
TINY_FLAGS = ["--epochs", "1", "--batch-size", "4", "--bptt", "32", "--hidden-size", "16", "--embedding-size", "16",
              "--num-layers", "1", "--seed", "1", "--device", "cpu", "--quiet"]


def test_train_on_a_good_folder(capsys, micro_corpus, tmp_path):
    out = tmp_path / "cli.pt"
    assert main(["train", str(micro_corpus), "--out", str(out), *TINY_FLAGS]) == 0
    checkpoint = load_checkpoint(out)
    config = checkpoint["recipe"]["config"]
    assert config["model"]["hidden_size"] == 16 and config["epochs"] == 1 and config["seed"] == 1
    assert checkpoint["model_config"]["hidden_size"] == 16
    assert "valid" in checkpoint["metrics"]
    for suffix in (".curve.csv", ".curve.png", ".data.csv"):
        assert (tmp_path / f"cli{suffix}").is_file()


def test_train_in_a_subprocess_lists_corrupt_files(tmp_path):
    data = tmp_path / "mixed"
    copy_folk_subset(data, 10, offset=29)
    (data / "garbled.mid").write_bytes(np.random.default_rng(1).bytes(256))
    out = tmp_path / "mixed.pt"
    result = run_cli("train", data, "--out", out, *TINY_FLAGS, entry="script")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 file(s):" in result.stderr and "garbled.mid" in result.stderr
    assert "epoch   1" in result.stderr and "done (finished all epochs)" in result.stderr
    assert load_checkpoint(out)["recipe"]["data"]["skipped"] == 1


def test_train_config_file_and_flags(micro_corpus, tmp_path):
    config = tmp_path / "recipe.json"
    config.write_text(json.dumps({"hidden_size": 24, "embedding_size": 8, "num_layers": 1, "epochs": 3,
                                  "batch_size": 4, "bptt": 32, "tie_weights": True, "transpose": [0, 0]}))
    out = tmp_path / "configured.pt"
    assert main(["train", str(micro_corpus), "--out", str(out), "--config", str(config), "--epochs", "1",
                 "--device", "cpu", "--quiet"]) == 0
    checkpoint = load_checkpoint(out)
    assert checkpoint["recipe"]["config"]["epochs"] == 1                 # the flag wins over the file
    assert checkpoint["model_config"]["tie_weights"] is True
    assert checkpoint["model_config"]["hidden_size"] == 24
    assert checkpoint["recipe"]["config"]["transpose"] == [0, 0]


def test_train_with_nothing_usable(capsys, tmp_path):
    data = tmp_path / "junk"
    data.mkdir()
    (data / "a.mid").write_bytes(b"")
    (data / "b.mid").write_bytes(np.random.default_rng(2).bytes(100))
    out = tmp_path / "junk.pt"
    code = main(["train", str(data), "--out", str(out), *TINY_FLAGS])
    assert code != 0
    err = capsys.readouterr().err
    assert "composer train:" in err and "no usable MIDI files" in err and str(data) in err
    assert not out.exists()


def test_train_with_too_little_music_fails_with_a_message(capsys, tmp_path):
    """Two short usable pieces (31 tokens of training data) cannot fill a default batch of 32 streams.

    That is "no usable data" for the CLI: a one-line message and a non-zero exit, not a traceback.
    """
    data = tmp_path / "short"
    data.mkdir()
    for i in range(2):
        write_midi(Piece(notes=tuple(Note(48 * k, 48 * k + 24, 60 + k + i) for k in range(10)), ticks_per_beat=96),
                   data / f"short_{i}.mid")
    out = tmp_path / "short.pt"
    try:
        code = main(["train", str(data), "--out", str(out), "--epochs", "1", "--device", "cpu", "--quiet"])
    except Exception as error:  # noqa: BLE001 - the point of the test
        pytest.fail(f"composer train crashed with {type(error).__name__}: {error}")
    assert code != 0
    assert "composer train:" in capsys.readouterr().err


@pytest.mark.parametrize("argv, word", [
    (["--epochs", "0"], "--epochs"),
    (["--lr", "0"], "--lr"),
    (["--cell", "transformer"], "--cell"),
    (["--dropout", "1.5"], "--dropout"),
])
def test_train_argument_errors(capsys, micro_corpus, tmp_path, argv, word):
    err = usage_error(capsys, ["train", str(micro_corpus), "--out", str(tmp_path / "m.pt"), *argv])
    assert f"argument {word}" in err


def test_train_usage_errors_for_folders_and_resume(capsys, micro_corpus, tmp_path):
    err = usage_error(capsys, ["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.pt")])
    assert "DATA_DIR" in err and "no such folder" in err
    err = usage_error(capsys, ["train", str(micro_corpus), "--out", str(tmp_path / "m.pt"), "--resume"])
    assert "--resume" in err and "does not exist" in err
    bad_config = tmp_path / "bad.json"
    bad_config.write_text("{not json")
    err = usage_error(capsys, ["train", str(micro_corpus), "--out", str(tmp_path / "m.pt"), "--config",
                               str(bad_config)])
    assert "--config" in err and "not valid JSON" in err
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"layers": 3}))
    err = usage_error(capsys, ["train", str(micro_corpus), "--out", str(tmp_path / "m.pt"), "--config",
                               str(unknown)])
    assert "unknown training settings: layers" in err


def test_no_command_is_a_usage_error(capsys):
    err = usage_error(capsys, [])
    assert "COMMAND" in err or "required" in err


# -- one read of the model file per command ---------------------------------------------------------------
@pytest.fixture()
def model_reads(monkeypatch) -> list:
    """Every model-file read from now on: load_checkpoint's paths, and a marker per torch.load."""
    import torch

    import composer.core.modelfile as modelfile

    reads = []
    real_checkpoint, real_load = modelfile.load_checkpoint, torch.load

    def counting_checkpoint(path, *args, **kwargs):
        reads.append(("load_checkpoint", str(path)))
        return real_checkpoint(path, *args, **kwargs)

    def counting_load(*args, **kwargs):
        reads.append(("torch.load", str(args[0]) if args else ""))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(modelfile, "load_checkpoint", counting_checkpoint)
    monkeypatch.setattr(torch, "load", counting_load)
    return reads


def test_generate_reads_the_model_file_once(model_reads, tiny_model, tmp_path):
    assert main(["generate", "--out", str(tmp_path / "once"), "--model", str(tiny_model.path), "--count", "1",
                 "--bars", "1", "--seed", "1"]) == 0
    path = str(tiny_model.path)
    assert model_reads == [("load_checkpoint", path), ("torch.load", path)]


@pytest.mark.parametrize("command", ["info", "strip"])
def test_info_and_strip_read_the_model_file_once(model_reads, command, tiny_model, tmp_path, capsys):
    extra = ["--out", str(tmp_path / "stripped.pt")] if command == "strip" else []
    assert main([command, str(tiny_model.path), *extra]) == 0
    path = str(tiny_model.path)
    assert model_reads == [("load_checkpoint", path), ("torch.load", path)]


def test_generate_with_a_benchmark_model_file_says_which_kinds_it_takes(capsys, tmp_path):
    from composer.shipped import BENCHMARK_MODELS

    jsb = BENCHMARK_MODELS["jsb_chorales_quarter.json"]
    assert main(["generate", "--out", str(tmp_path / "x"), "--model", str(jsb)]) == 1
    err = capsys.readouterr().err
    assert "composer generate: cannot load model file" in err and "polyphonic benchmark model file" in err
    assert "melody (event) model file or 4-part harmony model file" in err
    assert not (tmp_path / "x").exists()


def test_the_melody_manifest_has_the_shared_shape(generated, tiny_model):
    """The keys every generate manifest has (composer.core.output_folder), for a melody model."""
    manifest = json.loads((generated / "manifest.json").read_text())
    assert set(manifest) == {"parameters", "model", "primer_ticks", "key_token", "chords", "ticks_per_beat",
                             "generation_seconds", "files"}
    assert manifest["model"]["kind"] == "composer-model" and manifest["chords"] == []
    assert set(manifest["model"]) == {"path", "kind", "sha256", "metrics", "epoch"}
    for item in manifest["files"]:
        assert set(item) == {"file", "notes", "bars", "beats", "seconds", "voices", "pitch_range", "estimated_key",
                             "in_scale"}
        assert item["voices"] == 1


def test_generate_to_folder_takes_the_loaded_model(tiny_model, tmp_path):
    from composer.melody.generate import GenerationRequest, generate_to_folder
    from composer.melody.model import load_melody_model

    model = load_melody_model(tiny_model.path)
    manifest = generate_to_folder(model, tmp_path / "lib", GenerationRequest(count=2, bars=1, seed=2), prefix="x")
    assert [f["file"] for f in manifest["files"]] == ["x_01.mid", "x_02.mid"]
    assert json.loads((tmp_path / "lib" / "manifest.json").read_text())["files"][1]["file"] == "x_02.mid"
    assert manifest["model"]["path"] == str(tiny_model.path) and manifest["parameters"]["seed"] == 2


def test_a_form_that_does_not_divide_the_bars_is_one_line(capsys, tiny_model, tmp_path):
    code = main(["generate", "--out", str(tmp_path / "x"), "--model", str(tiny_model.path), "--bars", "10",
                 "--form", "AABA"])
    err = capsys.readouterr().err
    assert code == 1 and "10 bars do not divide into the 4 equal sections of AABA" in err
    assert len(err.strip().splitlines()) == 1 and not any((tmp_path / "x").glob("*.mid"))
