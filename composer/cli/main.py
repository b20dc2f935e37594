"""The ``composer`` command line: train, generate, info, strip."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from composer.shipped import MELODY_MODEL as DEFAULT_MELODY_MODEL
from composer.shipped import REPO_ROOT


# -- argument types that say what is wrong ---------------------------------------------------------
def int_range(low: int, high: int | None = None):
    """argparse type: an integer in [low, high]."""

    def parse(text: str) -> int:
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {span}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {span}, got {value}")
        return value

    return parse


def float_range(low: float, high: float, low_open: bool = False):
    """argparse type: a number in [low, high] (or (low, high] when ``low_open``)."""

    def parse(text: str) -> float:
        bracket = "(" if low_open else "["
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number in {bracket}{low}, {high}], got {text!r}") from None
        if not (value > low if low_open else value >= low) or value > high:
            raise argparse.ArgumentTypeError(f"must be a number in {bracket}{low}, {high}], got {value:g}")
        return value

    return parse


def key_name(text: str) -> str:
    from composer.music.keys import parse_key

    try:
        parse_key(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def chord_progression(text: str) -> tuple[str, ...]:
    """argparse type: chord symbols, one per bar or ``SYMBOL:BEATS`` (see composer.music.chords)."""
    from composer.music.chords import parse_progression

    try:
        parse_progression(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return tuple(text.replace("|", " ").split())


def file_prefix(text: str) -> str:
    """argparse type: a prefix for file names, with no path in it."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text) or text.startswith("."):
        raise argparse.ArgumentTypeError(f"must be 1-64 letters, digits, '-', '_' or '.' (not first), "
                                         f"got {text!r}")
    return text


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def existing_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return path


# -- the parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="composer", description="Train stacked-LSTM music models on MIDI "
                                     "files and generate new music as MIDI.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = commands.add_parser("train", help="train a model on a folder of MIDI files",
                            description="Train a model on every MIDI file under DATA_DIR (recursively). "
                            "Files are split into train/valid/test by a hash of their path.")
    t.add_argument("data_dir", type=existing_dir, metavar="DATA_DIR")
    t.add_argument("--out", required=True, type=Path, help="model file to write (rewritten every epoch)")
    t.add_argument("--config", type=existing_file, help="JSON file of training settings (see TrainConfig)")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--epochs", type=int_range(1, 10000))
    t.add_argument("--batch-size", type=int_range(1, 4096))
    t.add_argument("--bptt", type=int_range(2, 4096), help="steps per truncated-backprop chunk")
    t.add_argument("--lr", type=float_range(0, 1, low_open=True))
    t.add_argument("--hidden-size", type=int_range(1, 8192))
    t.add_argument("--embedding-size", type=int_range(1, 8192))
    t.add_argument("--num-layers", type=int_range(1, 16))
    t.add_argument("--dropout", type=float_range(0, 0.95))
    t.add_argument("--cell", choices=["lstm", "gru", "rnn"])
    t.add_argument("--patience", type=int_range(1, 10000), help="epochs without improvement before stopping")
    t.add_argument("--max-minutes", type=float_range(0, 1e6), help="stop after this much time (0: no limit); "
                   "the learning rate still decays fully, over the epochs that fit")
    t.add_argument("--seed", type=int_range(0, 2**31 - 1))
    t.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    t.add_argument("--threads", type=int_range(1, 1024),
                   help="CPU threads for PyTorch (default: all cores; 1 keeps the machine responsive)")
    t.add_argument("--workers", type=int_range(0, 256), default=0,
                   help="processes preparing the corpus (default 0: one per core)")
    t.add_argument("--no-cache", action="store_true",
                   help="prepare every file again instead of using the prepared-corpus cache")
    t.add_argument("--quiet", action="store_true", help="print only epoch summaries")
    t.add_argument("--task", choices=["events", "harmony"], default=None,
                   help="events (default): a melody/event model; harmony: a 4-part SATB harmony model "
                   "(also chosen by \"task\": \"harmony\" in --config)")

    g = commands.add_parser("generate", help="sample new melodies as MIDI files",
                            description="Sample COUNT variations as one batch and write each as a MIDI file, "
                            "with a manifest.json describing the run.")
    g.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    g.add_argument("--model", type=existing_file, default=None,
                   help=f"model file (default: the shipped {DEFAULT_MELODY_MODEL.relative_to(REPO_ROOT)})")
    g.add_argument("--primer", type=existing_file, help="MIDI file whose music the variations continue")
    g.add_argument("--continuation-only", action="store_true", help="leave the primer out of the output")
    g.add_argument("--count", type=int_range(1, 256), default=8, help="variations (1..256, default 8)")
    g.add_argument("--bars", type=int_range(1, 512), default=16, help="bars to generate (1..512, default 16)")
    g.add_argument("--temperature", type=float_range(0, 5, low_open=True), default=1.0,
                   help="randomness, in (0, 5] (default 1.0)")
    g.add_argument("--top-k", type=int_range(0, 100000), default=0, help="keep the K likeliest tokens (0: all)")
    g.add_argument("--top-p", type=float_range(0, 1, low_open=True), default=1.0,
                   help="nucleus sampling mass in (0, 1] (default 1.0: off)")
    g.add_argument("--key", type=key_name, help="only notes of this key's scale: C, Am, F#m, Bb, Ddor, ...")
    g.add_argument("--seed", type=int_range(0, 2**31 - 1), default=None, help="random seed (default: random)")
    g.add_argument("--tempo", type=float_range(20, 400), default=None, help="tempo in QPM (default: primer's or 120)")
    g.add_argument("--beam", type=int_range(1, 256), default=0,
                   help="beam search with this width instead of sampling (returns the COUNT best beams)")
    g.add_argument("--chords", type=chord_progression, default=None,
                   help="chords for a chord model, one per bar, repeated to fill --bars: \"C G Am F\"; "
                   "SYMBOL:BEATS for other lengths (\"C:2 G:2 Am F\"); N is no chord")
    g.add_argument("--prefix", type=file_prefix, default="variation",
                   help="file name prefix: letters, digits, '-', '_', '.' (default: variation)")

    i = commands.add_parser("info", help="show a model file's recipe and scores")
    i.add_argument("model", type=existing_file, metavar="MODEL")
    i.add_argument("--json", action="store_true", help="print everything as JSON")

    s = commands.add_parser("strip", help="drop a model file's resume state (optimizer) for shipping")
    s.add_argument("model", type=existing_file, metavar="MODEL")
    s.add_argument("--out", required=True, type=Path)
    for module in _command_modules():
        module.add_commands(commands)
    return parser


def _command_modules() -> list:
    """Modules that add their own subcommands: each has ``add_commands(subparsers)``, and each parser it
    adds sets ``handler=run_function`` with ``set_defaults``; a handler takes ``(args, parser)``."""
    from composer.cli import benchmark as cli_benchmark
    from composer.cli import harmony as cli_harmony

    return [cli_harmony, cli_benchmark]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": run_train, "generate": run_generate, "info": run_info, "strip": run_strip}
    handler = handlers.get(args.command) or args.handler
    try:
        return handler(args, parser)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


# -- train ---------------------------------------------------------------------------------------
_TRAIN_FLAGS = ("epochs", "batch_size", "bptt", "lr", "hidden_size", "embedding_size", "num_layers",
                "dropout", "cell", "patience", "max_minutes", "seed", "device")


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.melody.train import TrainConfig, train

    settings = read_config(args.config, parser)
    resuming_harmony = args.resume and args.out.is_file() and _model_kind(args.out) == "composer-harmony-model"
    if (args.task or settings.get("task")) == "harmony" or resuming_harmony:
        from composer.cli.harmony import run_train_harmony

        return run_train_harmony(args, parser, settings)
    settings.pop("task", None)
    settings.update({k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k) is not None})
    try:
        config = TrainConfig.from_dict(settings)
    except (ValueError, TypeError) as error:  # the messages name the setting and what it allows
        parser.error(str(error))
    if args.resume and not args.out.is_file():
        parser.error(f"argument --resume: {args.out} does not exist yet")
    if args.resume and (args.config or any(getattr(args, k) is not None for k in _TRAIN_FLAGS)):
        print("note: --resume continues with the recipe saved in the model file; other settings are ignored",
              file=sys.stderr)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    printer = TrainPrinter(quiet=args.quiet)
    return run_training(lambda: train(args.data_dir, args.out, config, resume=args.resume, progress=printer,
                                      workers=args.workers, use_cache=not args.no_cache), args.out)


def read_config(path: Path | None, parser: argparse.ArgumentParser) -> dict:
    """The JSON object in a ``--config`` file ({} without one); a bad file is an argument error."""
    if path is None:
        return {}
    try:
        settings = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        parser.error(f"argument --config: {path} is not valid JSON ({error})")
    if not isinstance(settings, dict):
        parser.error(f"argument --config: {path} must hold a JSON object")
    return settings


def run_training(start, out: Path) -> int:
    """Run a trainer call and turn its outcome into an exit status for ``composer train``.

    Args:
        start: calls the trainer and returns its final checkpoint dict.
        out: the model file, named in the message after Ctrl-C.

    Returns:
        0 when a validation score was saved, 1 on a TrainingError or no score, 130 on Ctrl-C.
    """
    from composer.melody.train import TrainingError

    try:
        checkpoint = start()
    except TrainingError as error:
        print(f"composer train: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted: progress saved in {out}; continue with --resume", file=sys.stderr)
        return 130
    return 0 if "valid" in checkpoint["metrics"] else 1


class TrainPrinter:
    """Progress of ``composer train`` on the terminal: a live line per step, a line per epoch."""

    def __init__(self, quiet: bool = False, stream=None) -> None:
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self.last_print = 0.0

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "data":
            self._data(event)
        elif kind == "step" and not self.quiet:
            self._step(event)
        elif kind == "epoch":
            self._clear()
            mark = "*" if event["improved"] else " "
            print(f"epoch {event['epoch']:3d}{mark} train loss {event['train_loss']:.4f} "
                  f"acc {100 * event['train_accuracy']:5.1f}% | valid loss {event['valid_loss']:.4f} "
                  f"ppl {event['valid_perplexity']:7.3f} acc {100 * event['valid_accuracy']:5.1f}% | "
                  f"{event['seconds']:.0f}s", file=self.stream, flush=True)
        elif kind == "warning":
            print(f"warning: {event['message']}", file=self.stream)
        elif kind == "done":
            valid = event["metrics"].get("valid", {})
            print(f"done ({event['stop_reason']}): best valid loss {valid.get('loss', float('nan')):.4f} "
                  f"ppl {valid.get('perplexity', float('nan')):.3f} acc {100 * valid.get('accuracy', 0):.1f}% "
                  f"-> {event['path']}", file=self.stream)

    def _data(self, event: dict) -> None:
        summary, skipped = event["summary"], event["skipped"]
        files, tokens = summary["files"], summary["tokens"]
        stats = event.get("stats", {})
        cached = f", {stats['cached']} from cache" if stats.get("cached") else ""
        print(f"data: {files['train']} train / {files['valid']} valid / {files['test']} test files, "
              f"{tokens['train']:,} training tokens, read in {event['seconds']:.1f}s "
              f"({stats.get('files_per_s', 0):,.0f} files/s{cached})", file=self.stream)
        if skipped:
            print(f"skipped {len(skipped)} file(s):", file=self.stream)
            for path, reason in skipped[:20]:
                print(f"  {path}: {reason}", file=self.stream)
            if len(skipped) > 20:
                print(f"  ... and {len(skipped) - 20} more (all listed in the .data.csv beside the model)",
                      file=self.stream)

    def _step(self, event: dict) -> None:
        now = time.time()
        if not self.live and now - self.last_print < 30:
            return
        self.last_print = now
        done = event["batch"] / event["batches"]
        bar = "#" * int(24 * done) + "." * (24 - int(24 * done))
        import math
        text = (f"epoch {event['epoch']}/{event['epochs']} [{bar}] {100 * done:5.1f}% loss {event['loss']:.4f} "
                f"ppl {math.exp(min(event['loss'], 50)):8.3f} acc {100 * event['accuracy']:5.1f}% "
                f"{event['tokens_per_s']:,.0f} tok/s")
        print(("\r" + text) if self.live else text, end="" if self.live else "\n", file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.live:
            print("\r" + " " * 110 + "\r", end="", file=self.stream)


# -- generate ---------------------------------------------------------------------------------------
def run_generate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.core.modelfile import ModelFileError
    from composer.melody.generate import GenerationRequest, generate_to_folder
    from composer.music.midi_io import MidiReadError

    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} is a file; give a folder (it is created if missing)")
    model_path = args.model or DEFAULT_MELODY_MODEL
    if not model_path.is_file():
        parser.error(f"argument --model: the default model {model_path} is missing; train one with "
                     f"'composer train' or pass --model")
    if _model_kind(model_path) == "composer-harmony-model":   # a 4-part model writes whole chorales
        from composer.cli.harmony import run_generate_chorales

        return run_generate_chorales(args, parser, model_path)
    request = GenerationRequest(count=args.count, bars=args.bars, temperature=args.temperature, top_k=args.top_k,
                                top_p=args.top_p, key=args.key, seed=args.seed, qpm=args.tempo, beam=args.beam,
                                chords=args.chords,
                                keep_primer=not args.continuation_only)
    try:
        manifest = generate_to_folder(model_path, args.out, request, primer=args.primer, prefix=args.prefix)
    except ModelFileError as error:
        print(f"composer generate: {error}", file=sys.stderr)
        return 1
    except MidiReadError as error:
        print(f"composer generate: argument --primer: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"composer generate: {error}", file=sys.stderr)
        return 1
    for item in manifest["files"]:
        print(f"{item['file']}: {item['notes']} notes, {item['bars']:g} bars, {item['seconds']:.1f}s")
    print(f"{len(manifest['files'])} file(s) and manifest.json in {args.out} "
          f"(seed {manifest['parameters']['seed']}, {manifest['generation_seconds']:.2f}s)")
    return 0


def _model_kind(path: Path) -> str | None:
    """The kind of model file at ``path``, or None when it cannot be read (the caller reports why)."""
    from composer.core.modelfile import KIND_NAMES, ModelFileError, load_checkpoint

    try:
        return load_checkpoint(path, kinds=tuple(KIND_NAMES))["kind"]
    except ModelFileError:
        return None


# -- info, strip ------------------------------------------------------------------------------------
def run_info(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.core.modelfile import MELODY_KIND, KIND_NAMES, ModelFileError, load_checkpoint

    try:
        checkpoint = load_checkpoint(args.model, kinds=tuple(KIND_NAMES))
    except ModelFileError as error:
        print(f"composer info: {error}", file=sys.stderr)
        return 1
    if checkpoint["kind"] != MELODY_KIND:
        return _info_other_kind(args, checkpoint, KIND_NAMES[checkpoint["kind"]])
    summary = {k: checkpoint[k] for k in ("format_version", "model_config", "metrics", "recipe", "epoch")}
    summary["vocabulary"] = checkpoint["vocabulary"]["config"] | {"size": len(checkpoint["vocabulary"]["tokens"])}
    summary["resumable"] = "resume" in checkpoint
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    config = checkpoint["model_config"]
    print(f"{args.model}: {config['num_layers']} x {config['hidden_size']} {config['cell'].upper()}, "
          f"embedding {config['embedding_size']}, vocabulary {summary['vocabulary']['size']}, "
          f"{checkpoint['recipe'].get('parameters', 0):,} parameters, {checkpoint['epoch']} epochs")
    for split in ("valid", "test"):
        if split in checkpoint["metrics"]:
            m = checkpoint["metrics"][split]
            print(f"  {split}: loss {m['loss']:.4f} nats/token, perplexity {m['perplexity']:.3f}, "
                  f"accuracy {100 * m['accuracy']:.1f}%")
    recipe = checkpoint["recipe"]
    print(f"  data: {recipe.get('data_dir')} (fingerprint {recipe.get('data_fingerprint', '')[:12]}), "
          f"files {recipe.get('data', {}).get('files')}")
    print(f"  resumable: {summary['resumable']}")
    return 0


def _info_other_kind(args: argparse.Namespace, checkpoint: dict, kind_name: str) -> int:
    """``composer info`` for harmony and benchmark model files: their config, scores and recipe."""
    summary = {k: checkpoint.get(k) for k in ("kind", "format_version", "model_config", "metrics", "recipe",
                                              "epoch")}
    summary["resumable"] = "resume" in checkpoint
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    print(f"{args.model}: {kind_name}, {checkpoint.get('epoch')} epochs")
    print("  model: " + ", ".join(f"{k} {v}" for k, v in checkpoint.get("model_config", {}).items()))
    for split, m in checkpoint.get("metrics", {}).items():
        if isinstance(m, dict) and "loss" in m:
            print(f"  {split}: loss {m['loss']:.4f} nats/token" + (f", accuracy {100 * m['accuracy']:.1f}%"
                                                                 if "accuracy" in m else ""))
    print(f"  data: {checkpoint.get('recipe', {}).get('data_dir')}")
    print(f"  resumable: {summary['resumable']}")
    return 0


def run_strip(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.core.modelfile import KIND_NAMES, ModelFileError, load_checkpoint, save_checkpoint, strip_checkpoint

    try:
        checkpoint = load_checkpoint(args.model, kinds=tuple(KIND_NAMES))
    except ModelFileError as error:
        print(f"composer strip: {error}", file=sys.stderr)
        return 1
    save_checkpoint(strip_checkpoint(checkpoint), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, without resume state)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
