"""Speed benchmark: training throughput and sampling latency, ours beside a plain PyTorch baseline.

Prints one table, every figure a median of repeated runs in the same process; the two sides of each
comparison run alternately, so the ratios hold even on a noisy shared machine.

    python benchmarks/speed.py [--model FILE] [--data DIR] [--files N] [--repeats R] [--threads T]

Training: tokens/s of ``composer train``'s epoch loop (data preparation per epoch included: shuffling,
random transposition, batching) against a bare ``nn.Embedding + nn.LSTM + nn.Linear`` loop of the same
shape, batch and bptt on a ready-made tensor. Sampling: wall time for 8 variations x 16 bars with the
model, time to the first note, and batch-1 steps/s of our fused stepper against an ``nn.LSTM`` step loop.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from composer.core.lstm_step import one_thread  # noqa: E402
from composer.melody.corpus import load_corpus  # noqa: E402
from composer.melody.encoding import BOS, PAD, Vocabulary  # noqa: E402
from composer.melody.generate import GenerationRequest, generate  # noqa: E402
from composer.melody.model import ComposerLM, ModelConfig, load_melody_model  # noqa: E402
from composer.music.notes import Piece  # noqa: E402
from composer.melody.sample import Sampler, SamplingOptions  # noqa: E402
from composer.core.training import Trainer  # noqa: E402
from composer.melody.train import MelodyTask, TrainConfig  # noqa: E402


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- training ----------------------------------------------------------------------------------------
def bench_training(model_config: ModelConfig, vocab: Vocabulary, data: Path, files: int, repeats: int,
                   batch_size: int, bptt: int) -> dict:
    """tokens/s of our epoch loop and of a plain nn.LSTM loop on the same number of tokens."""
    config = TrainConfig.of(embedding_size=model_config.embedding_size, hidden_size=model_config.hidden_size,
                         num_layers=model_config.num_layers, dropout=model_config.dropout, cell=model_config.cell,
                         batch_size=batch_size, bptt=bptt, **_encoding_fields(vocab))
    corpus = load_corpus(data, vocab, config.valid_fraction, config.test_fraction)
    corpus.sequences["train"] = corpus.sequences["train"][:files]
    tokens = corpus.num_tokens("train")
    trainer = Trainer(MelodyTask(config, corpus, vocab, torch.device("cpu"), data), Path(tempfile.mkdtemp()) / "m.pt")

    def our_epoch() -> None:
        trainer.train_epoch(0)     # the shared loop's epoch: the same steps every family's training takes

    embedding = nn.Embedding(model_config.vocab_size, model_config.embedding_size)
    lstm = nn.LSTM(model_config.embedding_size, model_config.hidden_size, model_config.num_layers,
                   dropout=model_config.dropout, batch_first=True)
    head = nn.Linear(model_config.hidden_size, model_config.vocab_size)
    params = [*embedding.parameters(), *lstm.parameters(), *head.parameters()]
    plain_optimizer = torch.optim.AdamW(params, lr=1e-3)
    stream = torch.randint(3, model_config.vocab_size, (batch_size, tokens // batch_size))

    def plain_epoch() -> None:
        state = None
        for start in range(0, stream.size(1) - 1, bptt):
            x = stream[:, start:start + bptt]
            y = stream[:, start + 1:start + 1 + bptt]
            x = x[:, : y.size(1)]
            out, state = lstm(embedding(x), state)
            state = tuple(s.detach() for s in state)
            loss = nn.functional.cross_entropy(head(out).reshape(-1, model_config.vocab_size), y.reshape(-1),
                                               ignore_index=PAD)
            plain_optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            plain_optimizer.step()

    ours, plain = interleaved_medians(our_epoch, plain_epoch, repeats)
    return {"tokens": tokens, "ours_tps": tokens / ours, "plain_tps": tokens / plain}


def interleaved_medians(first, second, repeats: int) -> tuple[float, float]:
    """Median times of two functions run alternately, so a change in machine load hits both alike."""
    times = ([], [])
    for _ in range(repeats):
        for function, bucket in zip((first, second), times):
            start = time.perf_counter()
            function()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _encoding_fields(vocab: Vocabulary) -> dict:
    c = vocab.config
    return {"ticks_per_beat": c.ticks_per_beat, "max_shift": c.max_shift, "max_duration": c.max_duration,
            "num_voices": c.num_voices, "velocity_bins": c.velocity_bins, "min_pitch": c.min_pitch,
            "max_pitch": c.max_pitch, "monophonic": c.monophonic}


# -- sampling ------------------------------------------------------------------------------------------
def bench_sampling(model: ComposerLM, vocab: Vocabulary, repeats: int) -> dict:
    request = GenerationRequest(count=8, bars=16, seed=0)
    generate(model, vocab, request)  # warm-up
    results = [generate(model, vocab, GenerationRequest(count=8, bars=16, seed=s)) for s in range(repeats)]
    total = statistics.median(r.seconds for r in results)
    notes = statistics.median(sum(len(p.notes) for p in r.pieces) / len(r.pieces) for r in results)

    first_note = []
    pitch_ids = range(vocab.pitch_offset, vocab.duration_offset)
    for seed in range(repeats):
        start = time.perf_counter()
        seen = []

        def on_step(step, tokens):
            if any(int(t) in pitch_ids for t in tokens):
                seen.append(time.perf_counter() - start)
                return True
            return False

        generate(model, vocab, GenerationRequest(count=8, bars=16, seed=seed), on_step=on_step)
        first_note.append(seen[0] if seen else math.nan)

    steps = 500
    sampler = Sampler(model, vocab)
    ours, plain = interleaved_medians(
        lambda: sampler.sample(np.array([BOS]), 1, 10**9, SamplingOptions(seed=1), max_steps=steps),
        lambda: plain_step_loop(model, steps), repeats)
    return {"eight_by_sixteen_s": total, "notes_per_variation": notes,
            "first_note_ms": 1000 * statistics.median(first_note),
            "ours_steps_per_s": steps / ours, "plain_steps_per_s": steps / plain}


@torch.no_grad()
def plain_step_loop(model: ComposerLM, steps: int) -> None:
    """Batch-1 sampling the textbook way: the nn.LSTM module called once per step."""
    with one_thread():
        token = torch.tensor([[BOS]])
        state = None
        for _ in range(steps):
            out, state = model.rnn(model.embedding(token), state)
            probabilities = torch.softmax(model.head(out[:, -1]), -1)
            token = torch.multinomial(probabilities, 1)


# -- harmonization -----------------------------------------------------------------------------------------
def sixteen_bar_melody(folder: Path) -> Piece:
    """The first 16 bars of the first bundled folk tune in 4/4 that has that many."""
    from composer.music.midi_io import read_midi
    from composer.music.notes import crop

    for path in sorted(folder.glob("*/*.mid")):
        piece = read_midi(path)
        bar = piece.ticks_per_bar
        if (piece.time_signatures[0].numerator, piece.time_signatures[0].denominator) == (4, 4) \
                and piece.end >= 16 * bar:
            return crop(piece, 0, 16 * bar).replace(name=path.name)
    raise SystemExit(f"no 16-bar 4/4 tune in {folder}")


def bench_harmony(model_path: Path, melody_folder: Path, repeats: int) -> dict:
    """Median time to harmonize a 16-bar melody (4 voices, default settings: the key ensemble), and the
    same model reading the music only in its own key, the two alternating."""
    from composer.harmony.inference import DEFAULT_TEMPERATURE, harmonize, load_harmony_model

    ensemble = load_harmony_model(model_path)
    alone = ensemble.without_key_ensemble()
    melody = sixteen_bar_melody(melody_folder)
    harmonize(ensemble, melody, seed=0)  # warm-up
    harmonize(alone, melody, seed=0)
    times: dict[str, list[float]] = {"ensemble": [], "alone": [], "ensemble_8": [], "alone_8": []}
    for seed in range(max(repeats, 5)):
        times["ensemble"].append(harmonize(ensemble, melody, temperature=DEFAULT_TEMPERATURE, seed=seed).seconds)
        times["alone"].append(harmonize(alone, melody, temperature=DEFAULT_TEMPERATURE, seed=seed).seconds)
    for seed in range(3):
        times["ensemble_8"].append(harmonize(ensemble, melody, count=8, temperature=DEFAULT_TEMPERATURE, seed=seed).seconds)
        times["alone_8"].append(harmonize(alone, melody, count=8, temperature=DEFAULT_TEMPERATURE, seed=seed).seconds)
    out = {f"{name}_s": statistics.median(values) for name, values in times.items()}
    return {"melody": melody.name, "notes": len(melody.notes), "keys": len(ensemble.shifts), **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "midi_data" / "models" / "melody.pt")
    parser.add_argument("--data", type=Path, default=REPO / "midi_data" / "folk_melodies")
    parser.add_argument("--files", type=int, default=400, help="training files per timed epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="PyTorch threads for training (0: default)")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--harmony-model", type=Path, default=REPO / "midi_data" / "models" / "chorale.pt",
                        help="4-part model for the harmonization timing (skipped when the file is missing)")
    parser.add_argument("--melodies", type=Path, default=REPO / "midi_data" / "folk_melodies",
                        help="folder of tunes; the first 16-bar 4/4 one is harmonized")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    loaded = load_melody_model(args.model)

    model, vocab, checkpoint = loaded.net, loaded.vocab, loaded.checkpoint
    c = model.config
    print(f"model: {args.model.name}: {c.num_layers} x {c.hidden_size} {c.cell}, embedding {c.embedding_size}, "
          f"vocabulary {c.vocab_size}, {model.num_parameters():,} parameters; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    sampling = bench_sampling(model, vocab, args.repeats)
    rows = [
        ("8 variations x 16 bars (s)", f"{sampling['eight_by_sixteen_s']:.3f}", "",
         f"{sampling['notes_per_variation']:.0f} notes each"),
        ("first note ready (ms)", f"{sampling['first_note_ms']:.1f}", "", ""),
        ("batch-1 sampling (steps/s)", f"{sampling['ours_steps_per_s']:,.0f}", f"{sampling['plain_steps_per_s']:,.0f}",
         f"x{sampling['ours_steps_per_s'] / sampling['plain_steps_per_s']:.1f}"),
    ]
    if args.harmony_model.is_file():
        harmony = bench_harmony(args.harmony_model, args.melodies, args.repeats)
        rows.append((f"harmonize 16 bars, 4 voices (s): {harmony['keys']}-key ensemble / own key only",
                     f"{harmony['ensemble_s']:.3f}", f"{harmony['alone_s']:.3f}",
                     f"{harmony['melody']}, {harmony['notes']} notes; 8 at once: {harmony['ensemble_8_s']:.3f}"
                     f" / {harmony['alone_8_s']:.3f} s"))
    if not args.skip_training:
        recipe = checkpoint["recipe"]["config"]
        training = bench_training(c, vocab, args.data, args.files, max(2, args.repeats // 2),
                                  recipe["batch_size"], recipe["bptt"])
        rows.append((f"training (tokens/s, {training['tokens']:,} tokens/epoch)", f"{training['ours_tps']:,.0f}",
                     f"{training['plain_tps']:,.0f}", f"x{training['ours_tps'] / training['plain_tps']:.2f}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'composer':>10}  {'plain torch':>11}  ratio / note")
    for name, ours, plain, note in rows:
        print(f"{name:<{width}}  {ours:>10}  {plain:>11}  {note}")


if __name__ == "__main__":
    main()
