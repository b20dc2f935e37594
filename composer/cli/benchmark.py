"""Command-line subcommands: benchmark (published polyphonic benchmarks: JSB Chorales, Nottingham, MuseData,
Piano-midi.de).

    composer benchmark polyphonic --data FILE.json --split valid|test [--model FILE] [--no-cache] [--json]
    composer benchmark train-polyphonic --data FILE.json --out MODEL.pt [--config RECIPE.json] [--quiet] ...
    composer benchmark fit-cache --data FILE.json --model MODEL.pt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from composer.cli.common import (ProgressLine, add_force_argument, check_outputs, existing_file, float_range, int_range,
                                 read_config, with_output_lock)
from composer.shipped import BENCHMARK_MODELS as SHIPPED_MODELS

SPLITS = ("train", "valid", "test")   # composer.polyphonic.data.SPLITS, named here to keep PyTorch out of --help

# PolyTrainConfig fields settable from the command line (model fields go into the "model" dict)
_TRAIN_FLAGS = ("epochs", "batch_size", "bptt", "lr", "patience", "transpose", "max_minutes", "seed", "threads")
_MODEL_FLAGS = ("order", "hidden_size", "embedding_size", "num_layers", "dropout", "skip_kernel", "copy_features")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``composer`` parser."""
    bench = commands.add_parser("benchmark", help="published polyphonic benchmarks (JSB Chorales, Nottingham, MuseData, Piano-midi.de)")
    sub = bench.add_subparsers(dest="benchmark_command", required=True, metavar="BENCHMARK")

    score = sub.add_parser("polyphonic", help="frame-level NLL of a polyphonic model on a benchmark split")
    score.add_argument("--data", required=True, type=existing_file, metavar="FILE.json",
                       help='benchmark file {"train"|"valid"|"test": [piece: [frame: [MIDI pitches]]]}')
    score.add_argument("--split", required=True, choices=SPLITS)
    score.add_argument("--model", type=existing_file, metavar="FILE",
                       help="model file (default: the shipped model for a shipped benchmark file)")
    score.add_argument("--no-cache", action="store_true",
                       help="score the LSTM alone, without the model file's repeat cache")
    score.add_argument("--json", action="store_true", help="print the result as JSON")
    score.set_defaults(handler=run_score)

    fit = sub.add_parser("fit-cache", help="fit a model file's repeat cache on the data's train split")
    fit.add_argument("--data", required=True, type=existing_file, metavar="FILE.json")
    fit.add_argument("--model", required=True, type=existing_file, metavar="FILE",
                     help="model file; its repeat cache is (re)written in place")
    fit.set_defaults(handler=run_fit_cache)

    train = sub.add_parser("train-polyphonic", help="train on the file's train split, early-stop on valid")
    train.add_argument("--data", required=True, type=existing_file, metavar="FILE.json")
    train.add_argument("--out", required=True, type=Path, metavar="MODEL.pt")
    train.add_argument("--config", type=existing_file, metavar="RECIPE.json",
                       help="training settings (PolyTrainConfig fields; the model's under \"model\")")
    train.add_argument("--resume", action="store_true", help="continue the unfinished run in --out")
    train.add_argument("--ship", type=Path, metavar="FILE.pt",
                       help="also write the best model without optimizer state to this file at the end")
    train.add_argument("--epochs", type=int_range(1))
    train.add_argument("--batch-size", type=int_range(1))
    train.add_argument("--bptt", type=int_range(1))
    train.add_argument("--lr", type=float_range(0.0, 1.0, low_open=True))
    train.add_argument("--patience", type=int_range(1))
    train.add_argument("--transpose", type=int_range(0, 24))
    train.add_argument("--max-minutes", type=float_range(0.0, 1e6))
    train.add_argument("--seed", type=int_range(0))
    train.add_argument("--threads", type=int_range(1, 256))
    train.add_argument("--quiet", action="store_true",
                       help="print only epoch summaries (no progress bar of the batches and the scoring)")
    train.add_argument("--order", choices=("ascending", "descending"))
    train.add_argument("--hidden-size", type=int_range(1))
    train.add_argument("--embedding-size", type=int_range(1))
    train.add_argument("--num-layers", type=int_range(1))
    train.add_argument("--dropout", type=float_range(0.0, 0.99))
    train.add_argument("--skip-kernel", type=int_range(0, 255))
    train.add_argument("--copy-features", action=argparse.BooleanOptionalAction, default=None,
                       help="feed the LSTM the frame that followed the last occurrence of the longest repeated "
                            "context")
    add_force_argument(train, "replace an existing --out and its learning curve (MODEL.curve.csv, .curve.png; "
                       "starting afresh) and an existing --ship file")
    train.set_defaults(handler=run_train_polyphonic)


def _default_model(data: Path, parser: argparse.ArgumentParser) -> Path:
    model = SHIPPED_MODELS.get(data.name)
    if model is None:
        parser.error(f"argument --model: required for {data.name} (shipped models exist for "
                     f"{', '.join(SHIPPED_MODELS)})")
    return model


def _load(data: Path, model_path: Path, splits_needed: tuple[str, ...]):
    """The benchmark's splits and the model, or an error message (printed) and None."""
    from composer.core.modelfile import ModelFileError
    from composer.polyphonic.data import BenchmarkDataError, load_benchmark
    from composer.polyphonic.model import load_polyphonic_model

    try:
        splits = load_benchmark(data)
        missing = [name for name in splits_needed if not splits.get(name)]
        if missing:
            print(f"composer benchmark: {data} has no {missing[0]!r} split (it has {', '.join(splits)})",
                  file=sys.stderr)
            return None
        loaded = load_polyphonic_model(model_path)
        model, checkpoint = loaded.net, loaded.checkpoint
    except (BenchmarkDataError, ModelFileError) as error:
        print(f"composer benchmark: {error}", file=sys.stderr)
        return None
    return splits, model, checkpoint


def run_score(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer benchmark polyphonic``: print the split's NLL per frame and per token."""
    import torch

    from composer.polyphonic.repeat_cache import cache_of

    torch.set_num_threads(1)
    model_path = args.model or _default_model(args.data, parser)
    loaded = _load(args.data, model_path, (args.split,))
    if loaded is None:
        return 1
    splits, model, checkpoint = loaded
    started = time.perf_counter()
    try:
        cache = None if args.no_cache else cache_of(checkpoint)
        with ProgressLine(stages={"scoring": (f"scoring {args.split}", "piece")}) as line:
            score = _score(model, splits[args.split], cache, line)
    except ValueError as error:
        print(f"composer benchmark: {error}", file=sys.stderr)
        return 1
    result = {"data": str(args.data), "split": args.split, "model": str(model_path), **score.to_dict(),
              "parameters": model.num_parameters(), "seconds": time.perf_counter() - started}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        with_cache = (f" with the repeat cache (LSTM alone {score.lstm_frame_nll:.4f})"
                      if score.lstm_total_nats is not None else "")
        print(f"{args.data.name} {args.split}: {score.frame_nll:.4f} nats/frame{with_cache}, {score.token_nll:.4f} "
              f"nats/token ({score.pieces} pieces, {score.frames:,} frames, {score.tokens:,} tokens; model "
              f"{model_path.name}, {model.num_parameters():,} parameters)")
    return 0


def _score(model, pieces: list, cache, progress):
    """The split's :class:`composer.polyphonic.score.SplitScore`, with the repeat ``cache`` when there is one,
    calling ``progress("scoring", pieces done, pieces)`` as it goes.

    Raises:
        ValueError: a piece has zero probability under the model.
    """
    from composer.polyphonic.repeat_cache import score_with_cache
    from composer.polyphonic.score import score_split

    if cache is None:
        return score_split(model, pieces, progress=progress)
    return score_with_cache(model, pieces, cache, progress=progress)


def run_fit_cache(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer benchmark fit-cache``: fit the repeat cache on the train split, write it into the model file."""
    import torch

    from composer.core.modelfile import save_checkpoint
    from composer.polyphonic.repeat_cache import attach_cache

    torch.set_num_threads(1)
    loaded = _load(args.data, args.model, ("train",))
    if loaded is None:
        return 1
    splits, model, checkpoint = loaded
    with ProgressLine(stages={"fitting": ("scoring train", "piece"), "scoring": ("scoring valid", "piece")}) as line:
        cache = attach_cache(checkpoint, model, splits, progress=line)
    save_checkpoint(checkpoint, args.model)
    valid = checkpoint["metrics"].get("valid_with_cache")
    scored = (f"; valid {valid['frame_nll']:.4f} nats/frame with it, {valid['lstm_frame_nll']:.4f} without"
              if valid else "")
    print(f"repeat cache fitted on {len(splits['train'])} train pieces ({len(cache.lengths)} context lengths)"
          f"{scored} -> {args.model}")
    return 0


def run_train_polyphonic(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer benchmark train-polyphonic``: train, early-stop on valid, write the model file (holding its
    lock from the start: a second training into the same ``--out`` stops at once, see composer.core.locks)."""
    return with_output_lock(args.out, "benchmark", lambda: _run_train_polyphonic(args, parser))


def _run_train_polyphonic(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """:func:`run_train_polyphonic`, with ``--out``'s lock held."""
    from composer.core.modelfile import ModelFileError
    from composer.core.training import side_files
    from composer.polyphonic.data import BenchmarkDataError
    from composer.polyphonic.train import PolyTrainConfig, PolyTrainingError, ship, train_polyphonic

    settings = read_config(args.config, parser)
    settings.update({k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k) is not None})
    model = dict(settings.get("model", {}))
    model.update({k: getattr(args, k) for k in _MODEL_FLAGS if getattr(args, k) is not None})
    settings["model"] = model
    try:
        config = PolyTrainConfig.from_dict(settings)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    if args.resume and not args.out.is_file():
        parser.error(f"argument --resume: {args.out} does not exist yet")
    if not args.resume:   # --resume rewrites its own --out and learning curve
        check_outputs(parser, [args.out, *side_files(args.out, data_report=False)], (args.data, args.config),
                      args.force, hint="--resume to continue it, " if args.out.exists() else "")
    if args.ship:
        check_outputs(parser, [args.ship], (args.data, args.config, args.out), args.force, flag="--ship")
    printer = PolyTrainPrinter(quiet=args.quiet)
    try:
        checkpoint = train_polyphonic(args.data, args.out, config, resume=args.resume, progress=printer)
    except (PolyTrainingError, BenchmarkDataError, ModelFileError) as error:
        printer.line.clear()
        print(f"composer benchmark: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        printer.line.clear()
        print(f"\ninterrupted: the last finished epoch is saved in {args.out}; continue with --resume",
              file=sys.stderr)
        return 130
    printer.line.clear()
    valid = checkpoint["metrics"].get("valid")
    if valid is None:
        print("composer benchmark: no epoch finished", file=sys.stderr)
        return 1
    print(f"best valid: {valid['frame_nll']:.4f} nats/frame, {valid['token_nll']:.4f} nats/token "
          f"(epoch {checkpoint['metrics']['best_epoch']}) -> {args.out}", file=sys.stderr)
    cached = checkpoint["metrics"].get("valid_with_cache")
    if cached:
        print(f"with the repeat cache (fitted on the train split): valid {cached['frame_nll']:.4f} nats/frame",
              file=sys.stderr)
    if args.ship:
        ship(args.out, args.ship)
    return 0


_SCORING_STAGES = {"valid": "validating", "cache_fit": "fitting the repeat cache on train",
                   "cache_valid": "scoring valid with the repeat cache"}


class PolyTrainPrinter:
    """Progress of ``benchmark train-polyphonic`` on stderr: a bar (:class:`ProgressLine`, not with ``quiet``) of
    each epoch's batches, of the scoring of valid after it and of the repeat cache's fit at the end; a line
    per epoch (:func:`composer.polyphonic.train.epoch_line`).

    Args:
        quiet: print only the epoch lines.
        stream: where to write (default stderr).
    """

    def __init__(self, quiet: bool = False, stream=None) -> None:
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.line = ProgressLine(self.stream, log_every_s=30.0, unit="batch")

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "step":
            if not self.quiet:
                self.line.update(f"epoch {event['epoch']}/{event['epochs']}", event["batch"], event["batches"],
                                 f"loss {event['loss']:.4f}/token {event['tokens_per_s']:,.0f} tok/s")
            return
        if kind == "scoring":
            if not self.quiet:
                self.line.update(_SCORING_STAGES.get(event["stage"], event["stage"]), event["done"], event["total"],
                                 unit="piece")
            return
        self.line.clear()
        if kind == "epoch":
            from composer.polyphonic.train import epoch_line

            print(epoch_line(event), file=self.stream, flush=True)
