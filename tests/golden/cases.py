"""Golden cases: seeded outputs of every job and the shipped models' scores, as plain JSON-able values.

Each case runs a real job with the shipped models (or a tiny real training run) and summarises its
output: the notes of every generated piece (count, SHA-256 of the sorted (start, end, pitch, voice)
tuples and the first notes), scores as floats. ``make_golden.py`` writes ``expected.json`` from these
functions; ``test_golden.py`` runs them again and compares (notes exactly, numbers to 1e-6). They prove
that a restructuring changed no behaviour. Regenerate ``expected.json`` only for an intended change,
and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "midi_data" / "models"
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
FOLK = REPO / "midi_data" / "folk_melodies"
BENCHMARKS = REPO / "midi_data" / "benchmarks"
EXPECTED = Path(__file__).with_name("expected.json")

HARMONY_PIECE = "bwv250.mid"
MELODY_PRIMER = "ryansMammoth/AcrobatsHornpipe_0000.mid"


def notes_summary(piece) -> dict:
    """Count, hash and the first notes of a piece (ticks per beat included, notes sorted)."""
    notes = sorted((n.start, n.end, n.pitch, n.voice) for n in piece.notes)
    digest = hashlib.sha256(json.dumps([piece.ticks_per_beat, notes]).encode()).hexdigest()
    return {"notes": len(notes), "sha256": digest[:16], "first": [list(n) for n in notes[:6]]}


def _pieces(pieces) -> list[dict]:
    return [notes_summary(p) for p in pieces]


# -- melody model ---------------------------------------------------------------------------------------
def melody_cases() -> dict:
    from composer.melody.generate import GenerationRequest, generate
    from composer.melody.model import load_melody_model
    from composer.music.midi_io import read_midi

    melody = load_melody_model(MODELS / "melody.pt")
    chords = load_melody_model(MODELS / "melody_chords.pt")
    primer = read_midi(FOLK / MELODY_PRIMER)
    out = {}
    out["sample"] = _pieces(generate(melody.net, melody.vocab, GenerationRequest(count=4, bars=8, seed=11)).pieces)
    out["primer_top_p_key"] = _pieces(generate(
        melody.net, melody.vocab, GenerationRequest(count=3, bars=4, seed=5, top_p=0.9, temperature=0.8,
                                                     key="G"), primer).pieces)
    out["beam"] = _pieces(generate(melody.net, melody.vocab, GenerationRequest(count=2, bars=3, beam=3)).pieces)
    out["chords"] = _pieces(generate(chords.net, chords.vocab, GenerationRequest(
        count=3, bars=4, seed=3, chords=("C", "G", "Am", "F"))).pieces)
    return out


def melody_nll_case() -> dict:
    """The shipped melody model's loss on 24 folk tunes (whole pieces from a fresh state)."""
    from composer.melody.encoding import encode, prepare
    from composer.melody.model import load_melody_model
    from composer.music.midi_io import read_midi
    from composer.melody.train import evaluate, form_ids
    from composer.music.metre import metre_of

    model = load_melody_model(MODELS / "melody.pt")
    files = sorted(FOLK.glob("*/*.mid"))[::180][:24]
    pieces = [prepare(read_midi(f), model.vocab.config) for f in files]
    sequences = [encode(piece, model.vocab) for piece in pieces]
    forms = form_ids(model.net, model.vocab, sequences, [metre_of(piece) for piece in pieces])
    metrics = evaluate(model.net, sequences, torch.device("cpu"), batch_size=8, forms=forms)
    return {"loss": metrics.loss, "accuracy": metrics.accuracy, "tokens": metrics.tokens}


# -- harmony model --------------------------------------------------------------------------------------
def harmony_cases() -> dict:
    from composer.harmony.inference import generate_chorale, harmonize, load_harmony_model, regenerate_region
    from composer.music.midi_io import read_midi
    from composer.music.notes import select_voices

    model = load_harmony_model(MODELS / "chorale.pt")
    piece = read_midi(CHORALES / HARMONY_PIECE)
    soprano = select_voices(piece, [0])
    out = {}
    out["harmonize_t07"] = _pieces(harmonize(model, soprano, count=2, temperature=0.7, seed=1).pieces)
    out["harmonize_greedy"] = _pieces(harmonize(model, soprano, temperature=0.0, seed=0).pieces)
    out["harmonize_no_ensemble"] = _pieces(harmonize(model.without_key_ensemble(), soprano, temperature=0.7,
                                                     seed=2).pieces)
    out["harmonize_no_rules"] = _pieces(harmonize(model, soprano, temperature=0.7, seed=3, rules=False).pieces)
    bar = piece.ticks_per_bar
    out["regenerate"] = _pieces(regenerate_region(model, piece, bar, 3 * bar, [1, 2], count=2, temperature=0.7,
                                                  seed=2).pieces)
    out["chorale"] = _pieces(generate_chorale(model, 4, count=2, temperature=0.8, seed=4).pieces)
    out["chorale_in_key"] = _pieces(generate_chorale(model, 2, temperature=0.8, seed=5, key="Dm").pieces)
    return out


def harmony_eval_case() -> dict:
    """evaluate-harmony's totals on five bundled chorales (greedy, rules, key ensemble)."""
    from composer.harmony.inference import load_harmony_model
    from composer.harmony.evaluate import evaluate_harmony

    model = load_harmony_model(MODELS / "chorale.pt")
    with tempfile.TemporaryDirectory() as folder:
        for path in sorted(CHORALES.glob("*.mid"))[::60][:5]:
            shutil.copyfile(path, Path(folder) / path.name)
        return _floats(evaluate_harmony(model, folder).totals())


# -- polyphonic benchmark models --------------------------------------------------------------------------
def polyphonic_cases() -> dict:
    from composer.polyphonic.data import load_benchmark
    from composer.polyphonic.score import score_split
    from composer.polyphonic.model import load_polyphonic_model
    from composer.polyphonic.repeat_cache import cache_of, score_with_cache

    out = {}
    for name, model_file in (("jsb_chorales_quarter.json", "jsb.pt"), ("nottingham.json", "nottingham.pt")):
        loaded = load_polyphonic_model(MODELS / model_file)
        model, checkpoint = loaded.net, loaded.checkpoint
        pieces = load_benchmark(BENCHMARKS / name)["valid"][:6]
        plain = score_split(model, pieces)
        cached = score_with_cache(model, pieces, cache_of(checkpoint))
        out[model_file] = {"frame_nll": plain.frame_nll, "token_nll": plain.token_nll,
                           "cache_frame_nll": cached.frame_nll}
    return out


# -- tiny real training runs of each family ---------------------------------------------------------------
def training_cases() -> dict:
    """Two epochs of each trainer on a few bundled pieces (one thread): the learning curves."""
    from composer.harmony.train import HarmonyTrainConfig, train_harmony
    from composer.polyphonic.train import PolyTrainConfig, train_polyphonic
    from composer.melody.train import TrainConfig, train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            folk = root / "folk"
            folk.mkdir()
            for path in sorted(FOLK.glob("*/*.mid"))[::250][:14]:
                shutil.copyfile(path, folk / f"{path.parent.name}_{path.name}")
            config = TrainConfig.of(embedding_size=16, hidden_size=24, num_layers=2, dropout=0.1, epochs=2,
                                 batch_size=4, bptt=24, lr=1e-2, warmup_steps=4, transpose=(-2, 2), seed=5,
                                 device="cpu", key_tokens=True)
            checkpoint = train(folk, root / "melody.pt", config, use_cache=False, workers=1)
            out["melody"] = _curve(checkpoint)
            chorales = root / "chorales"
            chorales.mkdir()
            for path in sorted(CHORALES.glob("*.mid"))[::25][:12]:
                shutil.copyfile(path, chorales / path.name)
            harmony = HarmonyTrainConfig.of(embedding_size=12, encoder_size=16, hidden_size=24, num_layers=1,
                                         head_size=16, epochs=2, batch_size=4, warmup_steps=4, seed=6,
                                         device="cpu")
            out["harmony"] = _curve(train_harmony(chorales, root / "harmony.pt", harmony))
            data = json.loads((BENCHMARKS / "jsb_chorales_quarter.json").read_text())
            small = {"train": data["train"][:6], "valid": data["valid"][:3]}
            (root / "poly.json").write_text(json.dumps(small))
            poly = PolyTrainConfig(model={"embedding_size": 16, "hidden_size": 24, "num_layers": 1},
                                   epochs=3, batch_size=3, bptt=50, transpose=2, seed=7, lr_decay_after=1)
            checkpoint = train_polyphonic(root / "poly.json", root / "poly.pt", poly, progress=lambda row: None)
            out["polyphonic"] = _curve(checkpoint)
            out["polyphonic"]["repeat_cache"] = _floats(checkpoint.get("repeat_cache"))
    finally:
        torch.set_num_threads(threads)
    return out


def _curve(checkpoint: dict) -> dict:
    """The numbers of a learning curve (no times) and a checksum of the best weights."""
    rows = [{k: v for k, v in row.items() if k not in ("seconds", "elapsed_s")} for row in checkpoint["history"]]
    weights = sum(float(t.double().sum()) for t in checkpoint["model_state"].values())
    return {"history": _floats(rows), "weights_sum": weights, "metrics": _floats(checkpoint["metrics"])}


def _floats(value):
    """JSON-able copy: numpy and torch scalars become floats, tuples lists."""
    if isinstance(value, dict):
        return {str(k): _floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_floats(v) for v in value]
    if isinstance(value, torch.Tensor):
        return _floats(value.tolist())
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


CASES = {"melody": melody_cases, "melody_nll": melody_nll_case, "harmony": harmony_cases,
         "harmony_eval": harmony_eval_case, "polyphonic": polyphonic_cases, "training": training_cases}
