"""The repeat cache of the polyphonic benchmark model: copy distributions, the exact mixture, EM, the command."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.cli.main import main
from composer.polyphonic.data import load_benchmark
from composer.polyphonic.model import PolyphonicLM
from composer.polyphonic.score import score_split
from composer.polyphonic.model import load_polyphonic_model
from composer.polyphonic.train import PolyTrainConfig, train_polyphonic
from composer.polyphonic.repeat_cache import (DEFAULT_LENGTHS, MIN_LSTM_WEIGHT, RepeatCache, copy_probabilities, fit_cache,
                                   mixture_nll, score_with_cache, unit_nlls)

JSB = Path(__file__).resolve().parent.parent / "midi_data" / "benchmarks" / "jsb_chorales_quarter.json"
TINY = {"hidden_size": 24, "embedding_size": 16, "num_layers": 2, "dropout": 0.1, "skip_kernel": 5}


@pytest.fixture(scope="module")
def jsb() -> dict:
    return load_benchmark(JSB)


def repetitive_piece(rng: random.Random, frames: int) -> list[list[int]]:
    """Frames drawn from a few chords, with stretches copied from earlier in the piece."""
    chords = [[60, 64, 67], [62, 65, 69], [59, 62, 67], [], [60]]
    piece: list[list[int]] = []
    while len(piece) < frames:
        if len(piece) > 4 and rng.random() < 0.5:
            start = rng.randrange(len(piece) - 2)
            piece.extend(list(f) for f in piece[start:start + rng.randint(1, 4)])
        else:
            piece.append(list(rng.choice(chords)))
    return piece[:frames]


def brute_copy_probabilities(piece, lengths):
    """Independent reference: scan the whole past for every unit and every length."""
    keys = [tuple(frame) for frame in piece]
    out = []
    for t in range(len(keys) + 1):
        target = keys[t] if t < len(keys) else "end"
        probs = []
        for length in lengths:
            if t < length:
                break
            following = [keys[s] for s in range(length, t) if keys[s - length:s] == keys[t - length:t]]
            if not following:
                break
            probs.append(following.count(target) / len(following))
        out.append(probs)
    return out


# -- copy distributions ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_copy_probabilities_match_a_brute_force_scan(seed):
    piece = repetitive_piece(random.Random(seed), 60)
    lengths = (1, 2, 3, 5)
    fast = copy_probabilities(piece, lengths)
    assert len(fast) == len(piece) + 1
    assert [list(p) for p in fast] == brute_copy_probabilities(piece, lengths)
    assert any(len(p) == len(lengths) for p in fast)   # the long contexts do match somewhere


def test_copy_distributions_sum_to_one_over_all_next_units():
    """For every prefix and every matched length, the copy probabilities of all possible next units sum to 1."""
    piece = repetitive_piece(random.Random(7), 30)
    lengths = (1, 2, 4)
    for t in range(1, len(piece)):
        prefix = piece[:t]
        candidates = {tuple(f) for f in prefix}
        totals = np.zeros(len(lengths))
        matched = len(copy_probabilities(prefix, lengths)[t])          # the end of the piece as the next unit
        totals[:matched] += copy_probabilities(prefix, lengths)[t]
        for frame in candidates:
            probs = copy_probabilities(prefix + [list(frame)], lengths)[t]
            assert len(probs) == matched
            totals[:matched] += probs
        assert np.allclose(totals[:matched], 1.0)


def test_copies_see_only_the_past():
    piece = repetitive_piece(random.Random(3), 40)
    changed = [list(f) for f in piece]
    changed[25] = [30, 90]
    before, after = copy_probabilities(piece), copy_probabilities(changed)
    for t in range(25):                      # unit 25 itself is the changed frame: its probability may change
        assert list(before[t]) == list(after[t])


# -- the mixture -----------------------------------------------------------------------------------
def test_mixture_of_one_unit_by_hand():
    cache = RepeatCache((1, 2), ((1.0,), (0.8, 0.2), (0.5, 0.3, 0.2)))
    nll = np.array([2.0, 1.0, 3.0])
    copies = [np.array([]), np.array([0.5]), np.array([0.25, 1.0])]
    expected = -(math.log(math.exp(-2.0))
                 + math.log(0.8 * math.exp(-1.0) + 0.2 * 0.5)
                 + math.log(0.5 * math.exp(-3.0) + 0.3 * 0.25 + 0.2 * 1.0))
    assert math.isclose(mixture_nll(nll, copies, cache), expected, rel_tol=1e-12)


def test_lstm_only_weights_score_exactly_the_lstm(jsb):
    torch.manual_seed(0)
    model = PolyphonicLM(PolyTrainConfig(model=TINY).model_config).eval()
    pieces = jsb["valid"][:5]
    plain = score_split(model, pieces)
    cached = score_with_cache(model, pieces, RepeatCache.lstm_only())
    assert math.isclose(cached.total_nats, plain.total_nats, rel_tol=1e-9)
    assert math.isclose(cached.lstm_total_nats, plain.total_nats, rel_tol=1e-9)
    assert (cached.frames, cached.tokens, cached.pieces) == (plain.frames, plain.tokens, plain.pieces)
    units = unit_nlls(model, pieces)
    assert [len(u) for u in units] == [len(p) + 1 for p in pieces]


def test_bad_weights_are_refused_naming_the_problem():
    with pytest.raises(ValueError, match="bucket 1 must be 2 non-negative numbers summing to 1"):
        RepeatCache((1,), ((1.0,), (0.5, 0.6)))
    with pytest.raises(ValueError, match="2 weight rows"):
        RepeatCache((1,), ((1.0,),))
    with pytest.raises(ValueError, match="increase"):
        RepeatCache((2, 1), ((1.0,), (1.0, 0.0), (1.0, 0.0, 0.0)))


# -- fitting -----------------------------------------------------------------------------------------
def test_em_fits_the_weights_that_maximize_the_likelihood():
    """One bucket, the LSTM right half the time and the copy right the other half: EM finds 50/50."""
    rng = np.random.default_rng(0)
    lstm = [np.where(rng.random(400) < 0.5, -math.log(0.9), -math.log(0.001))]
    copies = [[np.array([0.001 if l < 1 else 0.9]) for l in lstm[0]]]
    cache = fit_cache(lstm, copies, lengths=(1,))
    share = float(np.mean(lstm[0] < 1))
    assert cache.weights[1][0] == pytest.approx(share, abs=0.01)
    grid = np.linspace(0.05, 0.95, 19)
    best = min(grid, key=lambda w: mixture_nll(lstm[0], copies[0], RepeatCache((1,), ((1.0,), (w, 1 - w)))))
    assert abs(best - cache.weights[1][0]) <= 0.05


def test_the_lstm_keeps_a_floor_weight():
    lstm = [np.full(50, 20.0)]                       # the LSTM is always badly wrong, the copy always right
    copies = [[np.array([1.0])] * 50]
    cache = fit_cache(lstm, copies, lengths=(1,))
    assert cache.weights[1][0] == pytest.approx(MIN_LSTM_WEIGHT)
    assert math.isfinite(mixture_nll(np.array([20.0]), [np.array([0.0])], cache))   # a surprise stays possible


def test_training_fits_a_cache_that_helps_on_repetitive_music(jsb, tmp_path):
    """Real training on real chorales: the cache is fitted on train at the end and lowers the valid NLL."""
    data = tmp_path / "excerpt.json"
    data.write_text(json.dumps({"train": jsb["train"][:24], "valid": jsb["valid"][:8]}))
    config = PolyTrainConfig(model=TINY, epochs=2, batch_size=4, lr=1e-2, transpose=0, seed=3)
    checkpoint = train_polyphonic(data, tmp_path / "model.pt", config, progress=lambda row: None)
    cache = RepeatCache.from_dict(checkpoint["repeat_cache"])
    assert cache.lengths == DEFAULT_LENGTHS
    assert max(max(row[1:], default=0) for row in cache.weights) > 0.1      # the copies earned weight
    valid, cached = checkpoint["metrics"]["valid"], checkpoint["metrics"]["valid_with_cache"]
    assert math.isclose(cached["lstm_frame_nll"], valid["frame_nll"], rel_tol=1e-9)
    assert cached["frame_nll"] < valid["frame_nll"] - 0.1
    loaded = load_polyphonic_model(tmp_path / "model.pt")
    model, saved = loaded.net, loaded.checkpoint
    assert saved["repeat_cache"]["fitted_on"] == "train split, 24 pieces"
    rescored = score_with_cache(model, jsb["valid"][:8], cache)
    assert math.isclose(rescored.frame_nll, cached["frame_nll"], rel_tol=1e-9)


def test_fit_cache_command_writes_the_cache_and_scoring_uses_it(jsb, tmp_path, capsys):
    data = tmp_path / "excerpt.json"
    data.write_text(json.dumps({"train": jsb["train"][:10], "valid": jsb["valid"][:4]}))
    model_file = tmp_path / "run.pt"
    assert main(["benchmark", "train-polyphonic", "--data", str(data), "--out", str(model_file), "--epochs", "1",
                 "--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4"]) == 0
    checkpoint = torch.load(model_file, weights_only=True)
    del checkpoint["repeat_cache"]                                      # as a model file from before the cache
    torch.save(checkpoint, model_file)
    capsys.readouterr()
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(model_file),
                 "--json"]) == 0
    without = json.loads(capsys.readouterr().out)
    assert "lstm_frame_nll" not in without
    assert main(["benchmark", "fit-cache", "--data", str(data), "--model", str(model_file)]) == 0
    assert "repeat cache fitted on 10 train pieces" in capsys.readouterr().out
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(model_file),
                 "--json"]) == 0
    cached = json.loads(capsys.readouterr().out)
    assert cached["repeat_cache"] is True
    assert math.isclose(cached["lstm_frame_nll"], without["frame_nll"], rel_tol=1e-9)
    assert cached["frame_nll"] == pytest.approx(
        load_polyphonic_model(model_file).checkpoint["metrics"]["valid_with_cache"]["frame_nll"], rel=1e-9)
    assert main(["benchmark", "polyphonic", "--data", str(data), "--split", "valid", "--model", str(model_file),
                 "--no-cache", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frame_nll"] == pytest.approx(without["frame_nll"], rel=1e-12)
    no_train = tmp_path / "valid_only.json"
    no_train.write_text(json.dumps({"valid": jsb["valid"][:2]}))
    assert main(["benchmark", "fit-cache", "--data", str(no_train), "--model", str(model_file)]) == 1
    assert "has no 'train' split" in capsys.readouterr().err
