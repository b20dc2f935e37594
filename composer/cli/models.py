"""Command-line subcommands for any kind of model file: ``info`` (recipe and scores) and ``strip`` (drop the
resume state for shipping)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from composer.cli.common import add_force_argument, check_outputs, existing_file, load_model


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``composer`` parser."""
    i = commands.add_parser("info", help="show a model file's recipe and scores")
    i.add_argument("model", type=existing_file, metavar="MODEL")
    i.add_argument("--json", action="store_true", help="print everything as JSON")
    i.set_defaults(handler=run_info)

    s = commands.add_parser("strip", help="drop a model file's resume state (optimizer) for shipping")
    s.add_argument("model", type=existing_file, metavar="MODEL")
    s.add_argument("--out", required=True, type=Path)
    add_force_argument(s, "overwrite an existing --out (never MODEL itself)")
    s.set_defaults(handler=run_strip)


def run_info(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer info``: the file is read once; a melody model gets its own summary, other kinds theirs."""
    from composer.core.modelfile import KIND_NAMES
    from composer.melody.model import MelodyModel

    model = load_model(args.model, None, "info")
    if model is None:
        return 1
    if not isinstance(model, MelodyModel):
        return _info_other_kind(args, model.checkpoint, KIND_NAMES[model.checkpoint["kind"]])
    return _info_melody(args, model.checkpoint)


def _info_melody(args: argparse.Namespace, checkpoint: dict) -> int:
    """``composer info`` for a melody (event) model file."""
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
    from composer.music.keys import key_distribution_text

    keys = key_distribution_text(config.get("key_counts"))
    if keys:
        print(f"  keys of the training pieces (a melody from nothing draws its key from these): {keys}")
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
    """``composer strip``: read the file once (any kind), write it again without its resume state (an existing
    ``--out`` needs ``--force``; the model file itself is never the output)."""
    from composer.core.modelfile import save_checkpoint, strip_checkpoint

    check_outputs(parser, [args.out], (args.model,), args.force)
    model = load_model(args.model, None, "strip")
    if model is None:
        return 1
    save_checkpoint(strip_checkpoint(model.checkpoint), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, without resume state)")
    return 0
