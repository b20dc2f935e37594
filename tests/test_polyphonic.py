"""Polyphonic benchmarks: the frames <-> tokens bijection, exact masked NLL, training, the benchmark command.

The benchmark files ship in ``midi_data/benchmarks/`` (JSB Chorales, Nottingham, MuseData, Piano-midi.de); small
excerpts for the training tests are cut from them into ``tmp_path``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.cli.main import main
from composer.polyphonic.data import (BOS, EOF, EOP, NUM_PITCHES, OUTPUT_SIZE, BenchmarkDataError, StepBatch, decode_tokens, encode_piece, encode_pieces, load_benchmark, step_batch)
from composer.polyphonic.model import PolyConfig, PolyphonicLM, valid_next_mask
from composer.polyphonic.score import piece_nlls, score_split
from composer.polyphonic.model import load_polyphonic_model
from composer.polyphonic.train import PolyTrainConfig, train_polyphonic

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO_ROOT / "midi_data" / "benchmarks"
JSB = BENCHMARKS / "jsb_chorales_quarter.json"
NOTTINGHAM = BENCHMARKS / "nottingham.json"
MUSEDATA = BENCHMARKS / "musedata.json"
PIANO_MIDI = BENCHMARKS / "piano_midi.json"
MODELS = REPO_ROOT / "midi_data" / "models"
TINY = {"hidden_size": 24, "embedding_size": 16, "num_layers": 2, "dropout": 0.1, "skip_kernel": 5}


@pytest.fixture(scope="module")
def jsb() -> dict:
    return load_benchmark(JSB)


def write_excerpt(path: Path, splits: dict, train: int, valid: int) -> Path:
    """A benchmark file holding the first pieces of the train and valid splits."""
    path.write_text(json.dumps({"train": splits["train"][:train], "valid": splits["valid"][:valid]}))
    return path


# -- the encoding is a bijection -------------------------------------------------------------------
@pytest.mark.parametrize("path", [JSB, NOTTINGHAM, MUSEDATA, PIANO_MIDI],
                         ids=["jsb", "nottingham", "musedata", "piano_midi"])
def test_round_trip_of_every_piece_of_the_whole_file(path):
    raw = json.loads(path.read_text())
    splits = load_benchmark(path)
    assert set(splits) == set(raw)
    for name, pieces in splits.items():
        assert pieces == raw[name]  # the shipped frames are already sorted, without repeats
        for order in ("ascending", "descending"):
            for piece in pieces:
                tokens = encode_piece(piece, order)
                assert len(tokens) == sum(map(len, piece)) + len(piece) + 1
                assert decode_tokens(tokens, order) == piece


def test_decoding_refuses_what_is_no_encoding():
    with pytest.raises(ValueError, match="no EOP"):
        decode_tokens([60, EOF])
    with pytest.raises(ValueError, match="order"):
        decode_tokens([64, 60, EOF, EOP])
    with pytest.raises(ValueError, match="order"):
        decode_tokens([60, 64, EOF, EOP], "descending")
    with pytest.raises(ValueError, match="end of the last frame"):
        decode_tokens([60, EOP])
    assert decode_tokens([EOF, 67, 60, EOF, EOP], "descending") == [[], [60, 67]]


def test_bad_files_are_refused_naming_the_problem(tmp_path):
    with pytest.raises(BenchmarkDataError, match="no such benchmark file"):
        load_benchmark(tmp_path / "missing.json")
    cases = {
        "not json {": "not a JSON file",
        "[1, 2]": "expected an object",
        '{"training": []}': "no split found",
        '{"train": {"a": 1}}': "expected a list of pieces",
        '{"valid": [[[60], 61]]}': r"split 'valid', piece 0, frame 1: expected a list of pitches",
        '{"train": [[[60, 200]]]}': "frame 0: 200 is not a MIDI pitch",
        '{"train": [[[60.5]]]}': "60.5 is not a MIDI pitch",
        '{"train": [[[60, 60]]]}': "repeated pitch",
        '{"train": [[]]}': "piece 0: expected a non-empty list of frames",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(BenchmarkDataError, match=message):
            load_benchmark(bad)


# -- features, masking, exact NLL ------------------------------------------------------------------
def tiny_model(order: str = "ascending", seed: int = 0, **changes) -> PolyphonicLM:
    torch.manual_seed(seed)
    model = PolyphonicLM(PolyConfig(order=order, **{**TINY, **changes}))
    with torch.no_grad():  # the skip starts at zero: give it weights so the test exercises it
        for layer in (model.skip, model.kernels):
            if layer is not None:
                layer.weight.normal_(0, 0.5)
    return model.eval()


@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_masked_distribution_is_normalized_over_valid_encodings(jsb, order):
    model = tiny_model(order)
    encoded = encode_pieces(jsb["valid"][:3], order)
    rows = [np.arange(encoded.starts[p], encoded.starts[p + 1]) for p in range(3)]
    batch = step_batch(encoded, rows, order, torch.device("cpu"))
    with torch.no_grad():
        logits, _ = model(batch)
    probs = torch.softmax(logits, -1)
    real = batch.targets >= 0
    assert torch.allclose(probs.sum(-1)[real], torch.ones(int(real.sum())), atol=1e-5)
    mask = valid_next_mask(batch.inputs, order)
    assert (probs[~mask] == 0).all()
    assert mask.gather(-1, batch.targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)[real].all()  # data is valid
    # after BOS/EOF: every pitch, EOF and EOP; after pitch 60: only later pitches and EOF
    after = valid_next_mask(torch.tensor([BOS, EOF, 60]), order)
    assert after[0].all() and after[1].all()
    later = list(range(61, 128)) if order == "ascending" else list(range(60))
    assert after[2].nonzero().flatten().tolist() == later + [EOF]


def brute_copy_source(piece: list[list[int]], t: int) -> tuple[int, int]:
    """The copy frame of frame t by a full scan: longest repeated context (up to 16 frames), latest occurrence."""
    for k in range(min(t, 16), 0, -1):
        for s in range(t - 1, k - 1, -1):
            if piece[s - k:s] == piece[t - k:t]:
                return s, k
    return -1, 0


def reference_piece_nll(model: PolyphonicLM, piece: list[list[int]]) -> float:
    """The NLL of one piece computed step by step, with features built by hand from the frames."""
    order = model.config.order
    copies = model.config.copy_features
    total, state = 0.0, None
    previous_token, frame_number, emitted = BOS, 0, []
    frames = piece + [[]]
    in_order = lambda frame: sorted(frame, reverse=order == "descending")  # noqa: E731
    for token in encode_piece(piece, order):
        channels = torch.zeros(1, 1, 6 if copies else 4, NUM_PITCHES)
        if frame_number > 0:
            before = in_order(frames[frame_number - 1])
            channels[0, 0, 0, before] = 1.0                  # the previous frame
            if len(emitted) < len(before):
                channels[0, 0, 2, before[len(emitted)]] = 1.0  # its note of the rank to come
        channels[0, 0, 1, emitted] = 1.0                     # this frame so far
        if emitted:
            channels[0, 0, 3, emitted[-1]] = 1.0             # the pitch just emitted
        copy_state = None
        if copies:
            source, length = brute_copy_source(piece, frame_number)
            agreement = 0
            if source >= 0:
                copy = in_order(piece[source])
                channels[0, 0, 4, copy] = 1.0                # the copy frame
                agreement = 3 if copy[:len(emitted)] != emitted else 1 if len(copy) > len(emitted) else 2
                if agreement == 1:
                    channels[0, 0, 5, copy[len(emitted)]] = 1.0   # its note of the rank to come
            copy_state = torch.tensor([[length * 4 + agreement]])
        batch = StepBatch(torch.tensor([[previous_token]]), torch.tensor([[token]]), channels,
                          torch.tensor([[min(len(emitted), 15)]]), torch.tensor([[frame_number]]), copy_state)
        with torch.no_grad():
            logits, state = model(batch, state)
        row = logits[0, 0].double()
        allowed = [t for t in range(OUTPUT_SIZE) if math.isfinite(float(row[t]))]
        expected = ([t for t in range(NUM_PITCHES) if not emitted or
                     (t > emitted[-1] if order == "ascending" else t < emitted[-1])] + [EOF]
                    + ([] if emitted else [EOP]))
        assert allowed == expected
        log_z = math.log(sum(math.exp(float(row[t])) for t in allowed))
        total += log_z - float(row[token])
        if token == EOF:
            frame_number, emitted = frame_number + 1, []
        else:
            emitted.append(token)
        previous_token = token
    return total


@pytest.mark.parametrize("order, relative, tied, copies", [
    ("ascending", False, False, False), ("descending", False, True, False), ("ascending", True, False, False),
    ("descending", True, False, False), ("descending", True, False, True), ("ascending", False, False, True)])
def test_batched_nll_equals_a_step_by_step_reference(jsb, order, relative, tied, copies):
    model = tiny_model(order, seed=3, relative_head=relative, tie_weights=tied, copy_features=copies)
    if copies:
        with torch.no_grad():
            model.copy_embedding.weight.normal_(0, 0.5)
    repeats = [[60, 64], [62], [60, 64], [62], [], [60, 64], [62], [59, 67], [60, 64], [62], [60, 64], [62, 65]]
    pieces = [piece[:12] for piece in jsb["valid"][:4]] + [[[], [60, 64], []], repeats, jsb["valid"][5][:40]]
    batched = piece_nlls(model, encode_pieces(pieces, order, copy=copies), batch_pieces=3)
    reference = [reference_piece_nll(model, piece) for piece in pieces]
    assert np.allclose(batched, reference, rtol=1e-5, atol=1e-4)
    score = score_split(model, pieces)
    assert score.frames == sum(map(len, pieces))
    assert score.tokens == sum(len(encode_piece(p)) for p in pieces)
    assert math.isclose(score.frame_nll, sum(reference) / score.frames, rel_tol=1e-5)


# -- MuseData and Piano-midi.de: the two other sets of the same benchmark -----------------------------
# (pieces, frames) per split, as the shared data folder's README and midi_data/benchmarks/PROVENANCE.txt give them
NEW_SETS = {"musedata": (MUSEDATA, {"train": (524, 245202), "valid": (135, 82755)}),
            "piano_midi": (PIANO_MIDI, {"train": (87, 75911), "valid": (12, 8540)})}


@pytest.fixture(scope="module")
def new_sets() -> dict:
    return {name: load_benchmark(path) for name, (path, _) in NEW_SETS.items()}


def extreme_windows(splits: dict, width: int = 10) -> list[list[list[int]]]:
    """Short windows of the valid split around its lowest pitch, its highest pitch and its fullest frame (the edges
    of the pitch range and of the notes-per-frame count), and a piece's opening."""
    valid = splits["valid"]
    frames = [(p, t) for p, piece in enumerate(valid) for t, frame in enumerate(piece) if frame]
    picks = [min(frames, key=lambda pt: valid[pt[0]][pt[1]][0]), max(frames, key=lambda pt: valid[pt[0]][pt[1]][-1]),
             max(frames, key=lambda pt: len(valid[pt[0]][pt[1]]))]
    windows = [valid[p][max(0, t - width + 2):t + 2] for p, t in picks]
    return windows + [valid[0][:width]]


@pytest.mark.parametrize("name", list(NEW_SETS))
def test_new_sets_hold_train_and_valid_only(new_sets, name, capsys):
    splits, expected = new_sets[name], NEW_SETS[name][1]
    assert set(splits) == {"train", "valid"}          # no test split: held out on purpose, as for the first two
    assert {split: (len(pieces), sum(map(len, pieces))) for split, pieces in splits.items()} == expected
    pitches = {pitch for pieces in splits.values() for piece in pieces for frame in piece for pitch in frame}
    assert 21 <= min(pitches) and max(pitches) <= 108  # the 88 keys: column index + 21 of the source matrices
    assert main(["benchmark", "polyphonic", "--data", str(NEW_SETS[name][0]), "--split", "test",
                 "--model", str(MODELS / "melody.pt")]) == 1
    assert "has no 'test' split (it has train, valid)" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(NEW_SETS))
def test_the_new_sets_reach_the_edges_the_windows_test(new_sets, name):
    windows = extreme_windows(new_sets[name])
    assert min(frame[0] for frame in windows[0] if frame) <= 24           # the kernel reaches below pitch 0
    assert max(frame[-1] for frame in windows[1] if frame) >= 100         # ... and above 127
    assert max(map(len, windows[2])) >= 11                               # notes-per-frame count near its cap


@pytest.mark.parametrize("name", list(NEW_SETS))
@pytest.mark.parametrize("order, copies", [("ascending", True), ("descending", False)])
def test_batched_nll_equals_a_step_by_step_reference_on_the_new_sets(new_sets, name, order, copies):
    """The exact masked NLL on short windows of each new set, with the shipped recipes' wide relative kernel (49
    semitones: from pitch 21 or 108 it reaches past the ends of the pitch axis)."""
    model = tiny_model(order, seed=7, relative_head=True, skip_kernel=49, copy_features=copies)
    if copies:
        with torch.no_grad():
            model.copy_embedding.weight.normal_(0, 0.5)
    pieces = extreme_windows(new_sets[name])
    batched = piece_nlls(model, encode_pieces(pieces, order, copy=copies), batch_pieces=2)
    reference = [reference_piece_nll(model, piece) for piece in pieces]
    assert np.allclose(batched, reference, rtol=1e-5, atol=1e-4)
    score = score_split(model, pieces)
    assert score.frames == sum(map(len, pieces))
    assert math.isclose(score.frame_nll, sum(reference) / score.frames, rel_tol=1e-5)


def test_command_trains_and_scores_a_new_set_excerpt(new_sets, tmp_path, capsys):
    data = write_excerpt(tmp_path / "piano_midi.json", {"train": [p[:60] for p in new_sets["piano_midi"]["train"]],
                                                        "valid": extreme_windows(new_sets["piano_midi"])},
                         train=6, valid=4)
    out = tmp_path / "run.pt"
    assert main(["benchmark", "train-polyphonic", "--data", str(data), "--out", str(out), "--epochs", "1",
                 "--hidden-size", "16", "--embedding-size", "8", "--batch-size", "3", "--skip-kernel", "49"]) == 0
    capsys.readouterr()
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(out),
                 "--no-cache", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    checkpoint = load_polyphonic_model(out).checkpoint
    assert math.isclose(result["frame_nll"], checkpoint["metrics"]["valid"]["frame_nll"], rel_tol=1e-9)
    assert result["frames"] == sum(map(len, extreme_windows(new_sets["piano_midi"]))) and result["pieces"] == 4


def test_a_piece_nll_depends_on_the_past_only(jsb):
    model = tiny_model()
    piece = jsb["valid"][0][:10]
    changed = piece[:6] + [[40, 50, 70]] + piece[7:]
    encoded = [encode_pieces([p]) for p in (piece, changed)]
    per_step = []
    for enc in encoded:
        batch = step_batch(enc, [np.arange(len(enc.targets))], "ascending", torch.device("cpu"))
        with torch.no_grad():
            logits, _ = model(batch)
        per_step.append(torch.log_softmax(logits, -1).gather(-1, batch.targets.unsqueeze(-1)).flatten())
    before = len(encode_piece(piece[:6])) - 1  # the steps predicting frames 0..5 (EOP excluded)
    assert torch.equal(per_step[0][:before], per_step[1][:before])
    assert not torch.equal(per_step[0][before:before + 4], per_step[1][before:before + 4])


# -- training --------------------------------------------------------------------------------------
def test_tiny_training_lowers_valid_nll_and_resumes(jsb, tmp_path):
    data = write_excerpt(tmp_path / "excerpt.json", jsb, train=24, valid=6)
    config = PolyTrainConfig(model=TINY, epochs=2, batch_size=4, lr=1e-2, transpose=3, seed=5)
    torch.manual_seed(config.seed)
    untrained = score_split(PolyphonicLM(config.model_config), jsb["valid"][:6]).frame_nll
    out = tmp_path / "model.pt"
    rows = []
    checkpoint = train_polyphonic(data, out, config, progress=rows.append)
    assert [event["epoch"] for event in rows if event["event"] == "epoch"] == [1, 2]
    best = checkpoint["metrics"]["valid"]["frame_nll"]
    assert best < untrained - 1.0
    loaded = load_polyphonic_model(out)
    model, saved = loaded.net, loaded.checkpoint
    assert math.isclose(score_split(model, jsb["valid"][:6]).frame_nll, best, rel_tol=1e-9)
    assert saved["recipe"]["config"] == config.to_dict()
    other = PolyTrainConfig(**{**config.to_dict(), "lr": 5e-3})
    with pytest.raises(Exception, match=r"other settings or data \(lr\)"):
        train_polyphonic(data, out, other, resume=True, progress=rows.append)
    finished = train_polyphonic(data, out, config, resume=True, progress=rows.append)
    assert len(finished["history"]) == 2  # already at its 2 epochs: nothing more to do
    more = PolyTrainConfig(**{**config.to_dict(), "epochs": 3})
    resumed = train_polyphonic(data, out, more, resume=True, progress=rows.append)
    assert [row["epoch"] for row in resumed["history"]] == [1, 2, 3]
    assert resumed["history"][:2] == checkpoint["history"]
    assert resumed["recipe"]["config"]["epochs"] == 3


EPOCH_CPU_SECONDS = 60


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process has used, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_killed_run_leaves_a_good_file_and_resumes(jsb, tmp_path):
    data = write_excerpt(tmp_path / "excerpt.json", jsb, train=8, valid=2)
    out = tmp_path / "killed.pt"
    command = [sys.executable, "-m", "composer", "benchmark", "train-polyphonic", "--data", str(data),
               "--out", str(out), "--epochs", "200", "--patience", "200", "--hidden-size", "16",
               "--embedding-size", "8", "--batch-size", "4"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not out.exists() and process.poll() is None and _cpu_seconds(process.pid) < EPOCH_CPU_SECONDS:
            time.sleep(0.05)   # CPU time, not the clock: a busy machine slows the child without failing the test
        assert out.exists(), f"no epoch finished in {EPOCH_CPU_SECONDS} s of the child's CPU"
        time.sleep(0.3)  # somewhere in a later epoch, perhaps in the middle of a write
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    checkpoint = load_polyphonic_model(out).checkpoint
    done = checkpoint["epoch"]
    assert done >= 1 and "resume" in checkpoint
    settings = {**checkpoint["recipe"]["config"], "epochs": done + 1}
    resumed = train_polyphonic(data, out, PolyTrainConfig.from_dict(settings), resume=True, progress=lambda row: None)
    assert resumed["epoch"] == done + 1


# -- the command -----------------------------------------------------------------------------------
def test_command_trains_ships_and_scores(jsb, tmp_path, capsys):
    data = write_excerpt(tmp_path / "excerpt.json", jsb, train=12, valid=4)
    out, shipped = tmp_path / "run.pt", tmp_path / "shipped.pt"
    assert main(["benchmark", "train-polyphonic", "--data", str(data), "--out", str(out), "--ship", str(shipped),
                 "--epochs", "1", "--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4"]) == 0
    capsys.readouterr()
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(shipped),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    checkpoint = load_polyphonic_model(out).checkpoint
    assert "resume" in checkpoint and "resume" not in torch.load(shipped, weights_only=True)
    assert result["repeat_cache"] is True           # fitted on the train split when the run ended
    assert math.isclose(result["frame_nll"], checkpoint["metrics"]["valid_with_cache"]["frame_nll"], rel_tol=1e-9)
    assert math.isclose(result["lstm_frame_nll"], checkpoint["metrics"]["valid"]["frame_nll"], rel_tol=1e-9)
    assert result["frames"] == sum(map(len, jsb["valid"][:4])) and result["pieces"] == 4
    assert math.isclose(result["frame_nll"] * result["frames"], result["token_nll"] * result["tokens"])
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(shipped)]) == 0
    assert f"{result['frame_nll']:.4f} nats/frame with the repeat cache (LSTM alone " in capsys.readouterr().out
    with_test = tmp_path / "with_test.json"
    with_test.write_text(json.dumps({"test": jsb["valid"][:4]}))
    assert main(["benchmark", "polyphonic", "--data", str(with_test), "--split", "test", "--model", str(shipped),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frame_nll"] == result["frame_nll"]


def test_command_errors_name_the_problem(jsb, tmp_path, capsys):
    data = write_excerpt(tmp_path / "excerpt.json", jsb, train=2, valid=2)
    with pytest.raises(SystemExit):
        main(["benchmark", "polyphonic", "--data", str(data)])
    assert "--split" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["benchmark", "polyphonic", "--data", str(tmp_path / "none.json"), "--split", "valid"])
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid"])
    assert "--model: required for excerpt.json" in capsys.readouterr().err
    melody = MODELS / "melody.pt"
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "test", "--model", str(melody)]) == 1
    assert "has no 'test' split (it has train, valid)" in capsys.readouterr().err
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(melody)]) == 1
    assert "this needs a polyphonic benchmark model file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"valid": [[[60, "C4"]]]}')
    assert main(["benchmark", "polyphonic", "--data", str(bad), "--split", "valid", "--model", str(melody)]) == 1
    assert "'C4' is not a MIDI pitch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["benchmark", "train-polyphonic", "--data", str(data), "--out", str(tmp_path / "m.pt"),
              "--order", "sideways"])
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
    valid_only = tmp_path / "valid_only.json"
    valid_only.write_text(json.dumps({"valid": jsb["valid"][:2]}))
    assert main(["benchmark", "train-polyphonic", "--data", str(valid_only), "--out", str(tmp_path / "m.pt")]) == 1
    assert "has no 'train' split" in capsys.readouterr().err


# -- the shipped models ----------------------------------------------------------------------------
def shipped(name: str) -> tuple[PolyTrainConfig, dict]:
    model_file = MODELS / f"{name}.pt"
    assert model_file.is_file(), f"{model_file} is missing"
    recipe = PolyTrainConfig.from_dict(json.loads((MODELS / f"{name}.json").read_text()))
    checkpoint = load_polyphonic_model(model_file).checkpoint
    assert "resume" not in checkpoint  # shipped without optimizer state
    saved = checkpoint["recipe"].get("config", checkpoint["recipe"].get("train"))   # "train" before the shared loop
    assert saved == recipe.to_dict()
    return recipe, checkpoint


def test_shipped_jsb_model_scores_what_it_scored_in_training(capsys):
    """The whole valid split, with the shipped repeat cache: the number in docs/benchmarks.md, below 5.0."""
    _, checkpoint = shipped("jsb")
    assert main(["benchmark", "polyphonic", "--data", str(JSB), "--split", "valid", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert math.isclose(result["frame_nll"], checkpoint["metrics"]["valid_with_cache"]["frame_nll"], rel_tol=1e-6)
    assert math.isclose(result["lstm_frame_nll"], checkpoint["metrics"]["valid"]["frame_nll"], rel_tol=1e-6)
    assert result["frames"] == 4602 and result["pieces"] == 76
    assert result["frame_nll"] < 5.0
    assert checkpoint["repeat_cache"]["fitted_on"] == "train split, 229 pieces"


def test_shipped_nottingham_model_is_a_trained_model(tmp_path, capsys):
    """The whole valid split takes about a minute: here, its first pieces (an untrained model scores ~25)."""
    _, checkpoint = shipped("nottingham")
    assert checkpoint["metrics"]["valid"]["frames"] == 45513
    assert checkpoint["metrics"]["valid_with_cache"]["frame_nll"] < 2.2
    assert checkpoint["repeat_cache"]["fitted_on"] == "train split, 694 pieces"
    data = write_excerpt(tmp_path / "nottingham.json", load_benchmark(NOTTINGHAM), train=0, valid=8)
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--json",
                 "--model", str(MODELS / "nottingham.pt")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frame_nll"] < 2 * checkpoint["metrics"]["valid"]["frame_nll"]


@pytest.mark.parametrize("name", list(NEW_SETS))
def test_shipped_new_set_models_are_trained_models(new_sets, name, tmp_path, capsys):
    """The shipped MuseData and Piano-midi.de models: their recipes, the valid scores recorded in training, and the
    first valid pieces scored by the command, which finds the model from the data file's name."""
    _, checkpoint = shipped(name)
    (pieces, frames) = NEW_SETS[name][1]["valid"]
    assert checkpoint["metrics"]["valid"]["frames"] == frames
    assert checkpoint["metrics"]["valid_with_cache"]["frame_nll"] < checkpoint["metrics"]["valid"]["frame_nll"] < 10.0
    assert checkpoint["repeat_cache"]["fitted_on"] == f"train split, {NEW_SETS[name][1]['train'][0]} pieces"
    data = write_excerpt(tmp_path / NEW_SETS[name][0].name, new_sets[name], train=0, valid=2)
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert Path(result["model"]).name == f"{name}.pt"
    assert result["frame_nll"] < 2 * checkpoint["metrics"]["valid"]["frame_nll"]   # an untrained model scores ~25


def test_copy_sources_find_the_longest_repeated_context(jsb):
    from composer.polyphonic.data import copy_sources

    for piece in jsb["valid"][:30]:
        assert copy_sources(piece) == [brute_copy_source(piece, t) for t in range(len(piece) + 1)]
    aaba = [[60], [62], [64], [65], [60], [62], [64], [67]]
    sources = copy_sources(aaba)
    assert sources[6] == (2, 2)      # after 60 62 (frames 4, 5) comes what came after it before: frame 2 (64)
    assert sources[7] == (3, 3)      # after 60 62 64: frame 3 (65), though 67 follows
    assert sources[0] == (-1, 0) and sources[1] == (-1, 0)


def test_a_copy_model_refuses_batches_without_copy_features(jsb):
    model = tiny_model(copy_features=True)
    encoded = encode_pieces(jsb["valid"][:1])
    batch = step_batch(encoded, [np.arange(20)], "ascending", torch.device("cpu"))
    with pytest.raises(ValueError, match="copy features"):
        model(batch)
