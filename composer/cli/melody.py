"""Command-line subcommands of the melody (event) models: ``train``, ``generate`` and ``evaluate``.

The first two parsers are shared with the harmony family (``train --task harmony``, ``generate`` with a 4-part
model file): ``composer.cli.main`` picks the family and calls :func:`run_train` or :func:`run_generate` here
for a melody model. ``evaluate`` is the melody family's own (:func:`add_commands`; its parser names its handler).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from composer.cli.common import (ProgressLine, TrainPrinter, add_force_argument, add_format_arguments,
                                 check_json_output, chord_progression, existing_dir, existing_file, file_prefix,
                                 float_range, form_letters, int_range, key_name, load_model, run_training, set_threads,
                                 time_signature, with_json_lock, write_json_report)
from composer.shipped import MELODY_MODEL as DEFAULT_MELODY_MODEL
from composer.shipped import REPO_ROOT

DEFAULT_TEMPERATURE = 0.9   # composer.melody.generate.DEFAULT_TEMPERATURE (which imports torch); a test keeps them equal

_TRAIN_FLAGS = ("epochs", "batch_size", "bptt", "lr", "hidden_size", "embedding_size", "num_layers",
                "dropout", "cell", "patience", "max_minutes", "seed", "device")


def add_train_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``composer train`` (both tasks: events, the default, and harmony) and return its parser."""
    t = commands.add_parser("train", help="train a model on a folder of MIDI files",
                            description="Train a model on every MIDI file under DATA_DIR (recursively). "
                            "Files are split into train/valid/test by a hash of their path.")
    t.add_argument("data_dir", type=existing_dir, metavar="DATA_DIR")
    t.add_argument("--out", required=True, type=Path, help="model file to write (rewritten every epoch)")
    t.add_argument("--config", type=existing_file, help="JSON file of training settings (see TrainConfig)")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--init-from", type=existing_file, metavar="MODEL",
                   help="fine-tune: start from MODEL's weights and its recipe (a melody model such as the shipped "
                   "midi_data/models/melody.pt; --config and the flags here change the recipe, e.g. --epochs 5 "
                   "--lr 0.001); the new model is written to --out, MODEL is never changed")
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
    return t


def add_generate_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``composer generate`` (a melody model, or a 4-part model writing chorales) and return its parser."""
    g = commands.add_parser("generate", help="sample new melodies as MIDI files",
                            description="Sample COUNT variations as one batch and write each as a MIDI file, "
                            "with a manifest.json describing the run.")
    g.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    g.add_argument("--model", type=existing_file, default=None,
                   help=f"model file (default: the shipped {DEFAULT_MELODY_MODEL.relative_to(REPO_ROOT)})")
    g.add_argument("--primer", type=existing_file, help="MIDI file whose music the variations continue (or a "
                   "score: an ABC tune, .abc, or MusicXML, .musicxml)")
    g.add_argument("--continuation-only", action="store_true", help="leave the primer out of the output")
    g.add_argument("--count", type=int_range(1, 256), default=8, help="variations (1..256, default 8)")
    g.add_argument("--bars", type=int_range(1, 512), default=16, help="bars to generate (1..512, default 16)")
    g.add_argument("--temperature", type=float_range(0, 5, low_open=True), default=DEFAULT_TEMPERATURE,
                   help=f"randomness, in (0, 5] (default {DEFAULT_TEMPERATURE}; 1.0 is the model's own distribution)")
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
    g.add_argument("--form", type=form_letters, default="",
                   help="sections of equal length, repeated letters repeating their music with a new last bar: "
                   "AABB, AABA, ABAC... (default: through-composed); the form spans the primer too")
    g.add_argument("--time-signature", type=time_signature, default=None, metavar="N/D",
                   help="metre of new music without a primer: 4/4 (default), 3/4, 2/4, 6/8, ...")
    g.add_argument("--no-cadence", dest="cadence", action="store_false",
                   help="leave the ending to the model (default: the last note is the tonic of the key)")
    g.add_argument("--no-key-guide", dest="key_guide", action="store_false",
                   help="leave the notes to the model (default: without --key, a soft pull keeps each tune in the "
                   "mode of the key the model chose)")
    g.add_argument("--prefix", type=file_prefix, default="variation",
                   help="file name prefix: letters, digits, '-', '_', '.' (default: variation)")
    return g


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the melody family's own subcommands (``evaluate``) to the ``composer`` parser."""
    e = commands.add_parser("evaluate", help="score a melody model on held-out MIDI files (nats per note, form)",
                            description="Nats per note of a melody model on every MIDI file under --data (all "
                            "tokens of a note, timing included, so models with different encodings compare), and "
                            "the form statistics (last note on the tonic, repeated bars and rhythms, pitch range, "
                            "in-scale share) of COUNT generated pieces beside those of the files, with bootstrap "
                            "95%% intervals over pieces.")
    e.add_argument("model", type=existing_file, metavar="MODEL", help="melody model file")
    e.add_argument("--data", required=True, type=existing_dir, help="folder of held-out MIDI files (recursive)")
    e.add_argument("--count", type=int_range(1, 256), default=64, help="pieces to generate (default 64)")
    e.add_argument("--bars", type=int_range(1, 512), default=16, help="bars per generated piece (default 16)")
    e.add_argument("--seed", type=int_range(0, 2**31 - 1), default=11, help="generation seed (default 11)")
    e.add_argument("--form", type=form_letters, default="",
                   help="generate in this form (AABB, AABA...) and report how well its sections match")
    e.add_argument("--time-signature", type=time_signature, default=None, metavar="N/D",
                   help="metre of the generated pieces (default 4/4)")
    e.add_argument("--no-cadence", dest="cadence", action="store_false",
                   help="generate without the closing-cadence guide")
    e.add_argument("--no-key-guide", dest="key_guide", action="store_false",
                   help="generate without the key guide (with --no-cadence: the model alone)")
    e.add_argument("--json", type=Path, metavar="FILE", help="also write everything (per piece too) as JSON")
    add_force_argument(e, "overwrite an existing --json FILE (never MODEL)")
    e.add_argument("--threads", type=int_range(1, 1024), help="CPU threads for PyTorch (default: all cores)")
    e.set_defaults(handler=run_evaluate)
    # composer.cli.main has given generate its handler by now: --format wraps it (and --wav, added after, wraps both)
    add_format_arguments(commands.choices["generate"], _generated_files)


def _generated_files(args: argparse.Namespace) -> list[Path]:
    """The files ``composer generate`` writes in ``--out`` (its numbered .mid files and manifest.json)."""
    from composer.core.output_folder import output_names

    return [args.out / name for name in output_names(args.count, args.prefix)]


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser, settings: dict) -> int:
    """``composer train`` for the events task: train a melody/event model (see composer.melody.train).

    Args:
        settings: the ``--config`` file's settings (see composer.cli.common.read_config).
    """
    from composer.melody.train import TrainConfig, train

    settings = {k: v for k, v in settings.items() if k != "task"}
    if args.init_from is not None:
        settings = _fine_tuning(args, parser, settings)
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
    set_threads(args.threads)
    printer = TrainPrinter(quiet=args.quiet)
    return run_training(lambda: train(args.data_dir, args.out, config, resume=args.resume, progress=printer,
                                      workers=args.workers, use_cache=not args.no_cache), args.out)


def _fine_tuning(args: argparse.Namespace, parser: argparse.ArgumentParser, settings: dict) -> dict:
    """The settings of ``train --init-from MODEL``: MODEL's own recipe, changed by the ``--config`` file's
    ``settings``, starting from MODEL's weights (``init_from``).

    Raises:
        SystemExit: (a usage error) with ``--resume``, MODEL the same file as ``--out``, or MODEL not a melody
            model file.
    """
    from composer.core.modelfile import MELODY_KIND, ModelFileError, load_checkpoint

    if args.resume:
        parser.error("argument --init-from: not with --resume (a resumed run continues its own weights)")
    if args.out.exists() and args.out.resolve() == args.init_from.resolve():
        parser.error(f"argument --init-from: {args.init_from} is --out; fine-tuning writes a new model file")
    try:
        recipe = load_checkpoint(args.init_from, kinds=(MELODY_KIND,)).get("recipe", {}).get("config", {})
    except ModelFileError as error:
        parser.error(f"argument --init-from: {error}")
    return {**{k: v for k, v in recipe.items() if k != "init_from"}, **settings, "init_from": str(args.init_from)}


def run_generate(args: argparse.Namespace, parser: argparse.ArgumentParser, model) -> int:
    """``composer generate`` with a melody model: variations as MIDI files and a manifest in ``--out``.

    Args:
        model: the loaded :class:`composer.melody.model.MelodyModel`.
    """
    from composer.melody.generate import GenerationRequest, generate_to_folder
    from composer.music.midi_io import MidiReadError
    from composer.music.notation import NotationError

    request = GenerationRequest(count=args.count, bars=args.bars, temperature=args.temperature, top_k=args.top_k,
                                top_p=args.top_p, key=args.key, seed=args.seed, qpm=args.tempo, beam=args.beam,
                                chords=args.chords, keep_primer=not args.continuation_only, form=args.form,
                                time_signature=args.time_signature, cadence=args.cadence, key_guide=args.key_guide)
    line = ProgressLine()
    try:
        with _primer(args) as primer:
            manifest = generate_to_folder(model, args.out, request, primer=primer, prefix=args.prefix,
                                          progress=lambda event: _show_generation(event, line))
    except (MidiReadError, NotationError) as error:
        print(f"composer generate: argument --primer: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"composer generate: {error}", file=sys.stderr)
        return 1
    finally:
        line.clear()
    print(f"{len(manifest['files'])} file(s) and manifest.json in {args.out} "
          f"(seed {manifest['parameters']['seed']}, {manifest['generation_seconds']:.2f}s)")
    return 0


def _primer(args: argparse.Namespace):
    """A context giving the ``--primer`` to generate from: None, the MIDI file, or a score read and written as a
    MIDI file for the time of the run (:class:`composer.music.notation.ScorePrimer`). A ``--key`` whose signature
    contradicts the primer's gets a warning line.

    Raises:
        MidiReadError, NotationError: the primer cannot be read.
        ValueError: it has no notes (or only drums).
    """
    import contextlib

    from composer.music.notation import (ScorePrimer, is_score_file, key_contradiction, no_notes_reason,
                                         read_music)

    if args.primer is None:
        return contextlib.nullcontext(None)
    piece = read_music(args.primer)
    if not piece.notes:
        raise ValueError(f"argument --primer: {args.primer} {no_notes_reason(args.primer)}")
    warning = key_contradiction(args.key, piece.key, "the primer")
    if warning:
        print(warning, file=sys.stderr)
    return ScorePrimer(args.primer) if is_score_file(args.primer) else contextlib.nullcontext(args.primer)


def _show_generation(event: dict, line: ProgressLine) -> None:
    """``generate``'s progress: each file as soon as it is written (stdout), and, while a batch is sampled for
    over a second, which variations and which step (stderr)."""
    if event["event"] == "written":
        line.clear()
        for item in event["files"]:
            print(f"{item['file']}: {item['notes']} notes, {item['bars']:g} bars, {item['seconds']:.1f}s", flush=True)
    else:
        last = event["done"] + event["batch"]
        line.update(f"generating variations {event['done'] + 1}-{last} of {event['count']}", event["step"],
                    unit="step")


_FORM_ROWS = (("ends_on_tonic", "last note on the tonic", "%"), ("repeated_bars", "bars repeating an earlier bar", "%"),
              ("repeated_rhythms", "bars repeating an earlier rhythm", "%"), ("pitch_range", "pitch range (semitones)", ""),
              ("in_scale", "in-scale share of note time", "%"))


def _cell(summary: dict, unit: str) -> str:
    scale = 100 if unit == "%" else 1
    low, high = summary["ci95"]
    return (f"{scale * summary['mean']:.1f}{unit} [{scale * low:.1f}, {scale * high:.1f}] "
            f"med {scale * summary['median']:.1f}")


def _share(summary: dict) -> str:
    low, high = summary["ci95"]
    return f"{100 * summary['mean']:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


_EVALUATE_STAGES = {"reading": ("reading the held-out files", "file"), "scoring": ("scoring them", "piece"),
                    "generating": ("generating", "step")}


def run_evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer evaluate``: nats per note on ``--data`` and the form of generated pieces beside the files';
    ``--json FILE``'s lock is held from its check to its write."""
    return with_json_lock(args, "evaluate", lambda: _run_evaluate(args, parser))


def _run_evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.core.modelfile import MELODY_KIND
    from composer.melody.evaluate import evaluate_melody_model

    check_json_output(parser, args, (args.model,))
    model = load_model(args.model, (MELODY_KIND,), "evaluate")
    if model is None:
        return 1
    set_threads(args.threads)
    try:
        with ProgressLine(stages=_EVALUATE_STAGES) as line:
            report = evaluate_melody_model(model, args.data, count=args.count, bars=args.bars, seed=args.seed,
                                           form=args.form, time_signature=args.time_signature,
                                           cadence=args.cadence, key_guide=args.key_guide, progress=line)
    except ValueError as error:
        print(f"composer evaluate: {error}", file=sys.stderr)
        return 1
    likelihood = report["likelihood"]
    if not likelihood["pieces"]:
        print(f"composer evaluate: no usable MIDI file under {args.data} "
              f"({len(report['skipped'])} skipped)", file=sys.stderr)
        return 1
    low, high = likelihood["nats_per_note_ci95"]
    print(f"{args.model} on {args.data}: {likelihood['pieces']} pieces, {likelihood['notes']} notes "
          f"({len(report['skipped'])} files skipped)")
    print(f"  nats per note {likelihood['nats_per_note']:.4f} [{low:.4f}, {high:.4f}]  "
          f"(nats per token {likelihood['nats_per_token']:.4f}, {likelihood['tokens_per_note']:.2f} tokens per note)")
    generated, corpus = report["form"]["generated"], report["form"]["corpus"]
    print(f"  form: mean [95% interval] and median, {generated['pieces']} generated pieces of {args.bars} bars "
          f"(seed {args.seed}) vs the {corpus['pieces']} files")
    width = max(len(label) for _, label, _ in _FORM_ROWS)
    print(f"  {'statistic':<{width}}  {'generated':<32}  files")
    for name, label, unit in _FORM_ROWS:
        print(f"  {label:<{width}}  {_cell(generated[name], unit):<32}  {_cell(corpus[name], unit)}")
    if "form_match" in report["form"]:
        match = report["form"]["form_match"]
        print(f"  form {args.form}: aligned bars identical between sections with the same letter "
              f"{_share(match['same'])}, with different letters {_share(match['different'])}")
    if args.json:
        if not write_json_report(args, report, "evaluate"):
            return 1
        print(f"  written: {args.json}")
    return 0
