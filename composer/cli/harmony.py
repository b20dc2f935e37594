"""Command-line subcommands of the 4-part (SATB) harmony models: harmonize, regenerate, evaluate-harmony, and
the harmony side of ``train --task harmony`` and of ``generate`` with a harmony model (whole chorales);
``composer.cli.main`` routes those two here."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from composer import shipped
from composer.cli.common import (ProgressLine, TrainPrinter, add_force_argument, add_format_arguments,
                                 check_json_output, check_outputs, existing_dir, existing_file, float_range, int_range,
                                 key_name, run_training, set_threads, with_json_lock, write_json_report)

DEFAULT_HARMONY_MODEL = shipped.HARMONY_MODEL
VOICE_WORDS = {"s": 0, "soprano": 0, "a": 1, "alto": 1, "t": 2, "tenor": 2, "b": 3, "bass": 3}

_HARMONY_FLAGS = ("epochs", "batch_size", "lr", "hidden_size", "embedding_size", "num_layers", "dropout",
                  "patience", "max_minutes", "seed", "device")
_EVENT_ONLY_FLAGS = ("bptt", "cell", "init_from")


def bar_range(text: str) -> tuple[int, int]:
    """argparse type: bars ``A-B`` (1-based, inclusive) or a single bar ``A``."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match or int(match.group(1)) < 1 or int(match.group(2) or match.group(1)) < int(match.group(1)):
        raise argparse.ArgumentTypeError(f"must be a bar number or a range like 3-4 (bars count from 1), "
                                         f"got {text!r}")
    return int(match.group(1)), int(match.group(2) or match.group(1))


def voice_list(text: str) -> list[int]:
    """argparse type: voices as names or letters, e.g. ``alto,tenor`` or ``AT``."""
    words = [w for w in re.split(r"[,\s]+", text.strip().lower()) if w]
    if len(words) == 1 and words[0] not in VOICE_WORDS and set(words[0]) <= set("satb"):
        words = list(words[0])
    try:
        voices = sorted({VOICE_WORDS[w] for w in words})
    except KeyError as error:
        raise argparse.ArgumentTypeError(f"unknown voice {error.args[0]!r}: use soprano, alto, tenor, bass "
                                         f"(or S, A, T, B), e.g. 'alto,tenor' or 'AT'") from None
    if not voices:
        raise argparse.ArgumentTypeError("name at least one voice: soprano, alto, tenor or bass")
    return voices


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``composer`` parser."""
    model_help = f"harmony model file (default: the shipped {DEFAULT_HARMONY_MODEL.relative_to(shipped.REPO_ROOT)})"
    h = commands.add_parser("harmonize", help="write alto, tenor and bass under a melody (4-part SATB)",
                            description="The melody becomes the soprano, unchanged; the harmony model writes "
                            "alto, tenor and bass. Writes a MIDI file with 4 tracks Soprano/Alto/Tenor/Bass "
                            "(with --count N: OUT_1.mid .. OUT_N.mid).")
    h.add_argument("melody", type=existing_file, metavar="MELODY.mid",
                   help="the melody: a MIDI file, or a score (an ABC tune, .abc, or MusicXML, .musicxml)")
    h.add_argument("--out", required=True, type=Path, help="MIDI file to write")
    h.add_argument("--model", type=existing_file, help=model_help)
    h.add_argument("--track", type=int_range(1, 1024), help="which track of MELODY.mid is the melody "
                   "(counting tracks with notes from 1; default: the first)")
    h.add_argument("--key", type=key_name, help="key to harmonize in, e.g. F or Dm (default: the file's key "
                   "signature, else the melody's estimated key)")
    _sampling_arguments(h)
    h.add_argument("--no-cadence", action="store_true", help="leave the end free (by default the last melody "
                   "note gets the tonic chord of the key, bass on the tonic, when that note belongs to it)")
    h.add_argument("--allow-clashes", action="store_true", help="let the lower voices sound a minor second, major "
                   "seventh or minor ninth against the melody on beats (refused by default)")
    h.add_argument("--no-key-guide", action="store_true", help="let the lower voices leave the key's notes as "
                   "the model likes (by default notes outside the key and Bach's usual chromatic notes are "
                   "less likely)")
    add_force_argument(h, "overwrite existing output files (never MELODY.mid)")
    h.set_defaults(handler=run_harmonize)
    add_format_arguments(h, lambda args: _outputs(args.out, args.count))

    r = commands.add_parser("regenerate", help="rewrite some voices of a 4-part piece over some bars",
                            description="Resample only the chosen voices within the chosen bars; the "
                            "new music fits what comes before and after it, and everything outside the "
                            "region is kept exactly.")
    r.add_argument("piece", type=existing_file, metavar="PIECE.mid", help="a 4-part MIDI file (or MusicXML score)")
    r.add_argument("--out", required=True, type=Path, help="MIDI file to write")
    r.add_argument("--bars", required=True, type=bar_range, help="bars to rewrite, e.g. 3-4 (from 1)")
    r.add_argument("--voices", required=True, type=voice_list, help="voices to rewrite, e.g. alto,tenor or AT")
    r.add_argument("--model", type=existing_file, help=model_help)
    _sampling_arguments(r)
    add_force_argument(r, "overwrite existing output files (never PIECE.mid)")
    r.set_defaults(handler=run_regenerate)
    add_format_arguments(r, lambda args: _outputs(args.out, args.count))

    _add_evaluate_command(commands, model_help)


def _add_evaluate_command(commands: argparse._SubParsersAction, model_help: str) -> None:
    """Add ``evaluate-harmony`` to the ``composer`` parser."""
    e = commands.add_parser("evaluate-harmony", help="score a harmony model on real 4-part pieces",
                            description="Harmonize each piece's soprano as 'composer harmonize' does by "
                            "default (same temperature, rules and key ensemble) and compare with the original: "
                            "alto/tenor/bass accuracy per 16th-note frame, NLL of the true lower voices "
                            "given the soprano, voice-leading faults per 100 frames, final bass and chord "
                            "agreement, attacks per 100 beats and on-beat clashes with the soprano for both, "
                            "with 95% bootstrap intervals over pieces.")
    e.add_argument("--model", type=existing_file, help=model_help)
    e.add_argument("--data", type=existing_dir, default=shipped.CHORALES,
                   help="folder of 4-part MIDI files (default: the bundled chorales)")
    e.add_argument("--split", choices=["all", "train", "valid", "test"], default="valid",
                   help="which files, by the same path hash as training (default: valid)")
    e.add_argument("--temperature", type=float_range(0, 5), default=DEFAULT_TEMPERATURE,
                   help=f"harmonization temperature (default {DEFAULT_TEMPERATURE}, as harmonize; 0: the likeliest "
                   f"notes, the greedy score)")
    e.add_argument("--seed", type=int_range(0, 2**31 - 1), default=0, help="seed of the first harmonization of "
                   "each piece (default 0)")
    e.add_argument("--seeds", type=int_range(1, 100), default=1, help="harmonizations per piece, with seeds SEED, "
                   "SEED+1, ..., averaged; the report shows their spread (default 1)")
    e.add_argument("--json", type=Path, metavar="FILE", help="also write every number as JSON to FILE")
    add_force_argument(e, "overwrite an existing --json FILE (never the model)")
    e.add_argument("--no-rules", action="store_true", help="score the raw model, without the sampler's "
                   "voice-leading rules")
    e.add_argument("--no-key-ensemble", action="store_true", help=KEY_ENSEMBLE_HELP)
    e.add_argument("--threads", type=int_range(1, 1024), default=None, help="CPU threads for PyTorch")
    e.set_defaults(handler=run_evaluate)


def _sampling_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int_range(1, 64), default=1, help="versions to write (1..64, default 1)")
    parser.add_argument("--temperature", type=float_range(0, 5), default=DEFAULT_TEMPERATURE,
                        help=f"randomness in [0, 5] (0: the likeliest notes; default {DEFAULT_TEMPERATURE})")
    parser.add_argument("--seed", type=int_range(0, 2**31 - 1), default=None, help="random seed")
    parser.add_argument("--no-rules", action="store_true", help="let the model break the rules of 4-part "
                        "writing (by default the sampler refuses parallel fifths/octaves, voice crossing "
                        "and spacing over an octave between upper voices)")
    parser.add_argument("--no-key-ensemble", action="store_true", help=KEY_ENSEMBLE_HELP)


DEFAULT_TEMPERATURE = 0.4   # = composer.harmony.inference.DEFAULT_TEMPERATURE (imports torch); a test checks
KEY_ENSEMBLE_HELP = ("read the music only in its own key (a little faster; by default every note is chosen from "
                     "the model's predictions in three keys, -4, 0 and +4 semitones, averaged)")


def _ensemble_words(shifts) -> str:
    if len(shifts) == 1:
        return "read in its own key only"
    return f"key ensemble of {len(shifts)} transpositions ({', '.join(f'{s:+d}' for s in shifts)} semitones)"


def _load(args: argparse.Namespace, command: str):
    from composer.core.modelfile import ModelFileError
    from composer.harmony.model import load_harmony_model

    path = args.model or DEFAULT_HARMONY_MODEL
    try:
        return load_harmony_model(path, key_ensemble=not getattr(args, "no_key_ensemble", False))
    except ModelFileError as error:
        hint = " (train one with 'composer train DIR --task harmony')" if not Path(path).exists() else ""
        print(f"composer {command}: {error}{hint}", file=sys.stderr)
        return None


def _outputs(out: Path, count: int) -> list[Path]:
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i}{out.suffix or '.mid'}") for i in range(1, count + 1)]


def _read(path: Path, command: str):
    """The piece in a MIDI file or a score (ABC, MusicXML); None when it cannot be read (reported)."""
    from composer.music.midi_io import MidiReadError
    from composer.music.notation import NotationError, read_music

    try:
        return read_music(path)
    except (MidiReadError, NotationError) as error:
        print(f"composer {command}: {error}", file=sys.stderr)
        return None


def _piece_and_model(args: argparse.Namespace, path: Path, parser: argparse.ArgumentParser, command: str):
    """Check ``--out`` (every file it names: no folder, no input file, no existing file without ``--force``), read
    the input MIDI file and load the model; None (reported) when either fails."""
    if args.out.is_dir():
        parser.error(f"argument --out: {args.out} is a folder; give a .mid file name")
    check_outputs(parser, _outputs(args.out, args.count), (path, args.model or DEFAULT_HARMONY_MODEL), args.force)
    piece = _read(path, command)
    model = _load(args, command) if piece is not None else None
    return (piece, model) if model is not None else None


def _frames_shown(line: ProgressLine, doing: str):
    """An ``on_step`` callback that shows a harmonization's 16th-note frames done, once it takes over a second."""

    def on_step(done: int, total: int) -> bool:
        line.update(doing, done, total, unit="16th")
        return False

    return on_step


def run_harmonize(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.harmony.inference import HarmonyError, harmonize
    from composer.music.midi_io import write_midi
    from composer.music.notes import select_voices

    loaded = _piece_and_model(args, args.melody, parser, "harmonize")
    if loaded is None:
        return 1
    piece, model = loaded
    tracks = sorted({n.voice for n in piece.notes})
    if not tracks:
        from composer.music.notation import no_notes_reason

        print(f"composer harmonize: {args.melody} {no_notes_reason(args.melody)}", file=sys.stderr)
        return 1
    if args.track is not None and args.track > len(tracks):
        parser.error(f"argument --track: {args.melody} has {len(tracks)} track(s) with notes, got {args.track}")
    melody = select_voices(piece, [tracks[(args.track or 1) - 1]])
    line = ProgressLine()
    try:
        result = harmonize(model, melody, count=args.count, temperature=args.temperature, seed=args.seed,
                           rules=not args.no_rules, key=args.key, cadence=not args.no_cadence,
                           clash_guard=not args.allow_clashes, **({"key_guide": 0.0} if args.no_key_guide else {}),
                           on_step=_frames_shown(line, "harmonizing"))
    except HarmonyError as error:
        print(f"composer harmonize: {args.melody}: {error}", file=sys.stderr)
        return 1
    finally:
        line.clear()
    for path, harmonized in zip(_outputs(args.out, args.count), result.pieces):
        write_midi(harmonized, path)
        print(f"{path}: {len(harmonized.notes)} notes in 4 parts")
    moved = f", melody moved {result.transposed:+d} semitones for the model and back" if result.transposed else ""
    print(f"harmonized in {result.key or 'an unknown key'} ({_key_source(args.key, melody)}), {result.seconds:.2f}s "
          f"(seed {result.seed}{moved})")
    if result.chords_reduced:
        print(f"note: the melody has chords at {result.chords_reduced} place(s); the soprano sings the top note "
              f"of each")
    return 0


def _key_source(asked: str | None, melody) -> str:
    """Where the key of a harmonization comes from, in words (a --key that contradicts the melody's key
    signature gets a warning line on stderr)."""
    from composer.music.notation import key_contradiction

    if asked:
        warning = key_contradiction(asked, melody.key, "the melody's key signature")
        if warning:
            print(warning, file=sys.stderr)
        return "asked"
    return "from the key signature" if melody.key else "estimated: the melody has no key signature"


def run_regenerate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.harmony.inference import HarmonyError, regenerate_region
    from composer.music.midi_io import write_midi

    loaded = _piece_and_model(args, args.piece, parser, "regenerate")
    if loaded is None:
        return 1
    piece, model = loaded
    first, last = args.bars
    bar = piece.ticks_per_bar
    bars = max(1, -(-piece.end // bar))
    if last > bars:
        parser.error(f"argument --bars: {args.piece} has {bars} bar(s), got {first}-{last}")
    line = ProgressLine()
    try:
        result = regenerate_region(model, piece, (first - 1) * bar, last * bar, args.voices, count=args.count,
                                   temperature=args.temperature, seed=args.seed, rules=not args.no_rules,
                                   on_step=_frames_shown(line, "regenerating"))
    except HarmonyError as error:
        print(f"composer regenerate: {args.piece}: {error}", file=sys.stderr)
        return 1
    finally:
        line.clear()
    for path, new in zip(_outputs(args.out, args.count), result.pieces):
        write_midi(new, path)
        print(f"{path}: bars {first}-{last} rewritten")
    print(f"regenerated in {result.seconds:.2f}s (seed {result.seed})")
    return 0


def run_evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer evaluate-harmony``, holding ``--json FILE``'s lock from its check to its write."""
    return with_json_lock(args, "evaluate-harmony", lambda: _run_evaluate(args, parser))


def _run_evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from composer.harmony.evaluate import LOWER_VOICES, VOICE_LEADING, evaluate_harmony, report_lines

    check_json_output(parser, args, (args.model or DEFAULT_HARMONY_MODEL,))
    set_threads(args.threads)
    model = _load(args, "evaluate-harmony")
    if model is None:
        return 1
    with ProgressLine(stages={"harmonizing": ("harmonizing the pieces", "piece")}) as line:
        report = evaluate_harmony(model, args.data, args.split, args.temperature, args.seed,
                                  rules=not args.no_rules, seeds=args.seeds, progress=line)
    totals = report.totals()
    if not totals["pieces"]:
        print(f"composer evaluate-harmony: no four-part pieces in {args.data} (split {args.split}); "
              f"{len(report.skipped)} file(s) skipped", file=sys.stderr)
        return 1
    seeds = f"seed {args.seed}" if args.seeds == 1 else f"{args.seeds} seeds {args.seed}..{args.seed + args.seeds - 1}"
    print(f"{totals['pieces']} pieces, {totals['frames']} frames (16th notes), split {args.split}, "
          f"temperature {args.temperature:g}, {seeds}, "
          f"{'raw model' if args.no_rules else 'with voice-leading rules'}, {_ensemble_words(model.shifts)}")
    print(f"{'':24}" + "".join(f"{v:>10}" for v in LOWER_VOICES) + f"{'mean':>10}")
    for key, label in (("token_accuracy", "token accuracy"), ("pitch_accuracy", "pitch accuracy"),
                       ("note_accuracy", "note accuracy")):
        row = totals[key]
        print(f"{label:24}" + "".join(f"{100 * row[v]:9.1f}%" for v in (*LOWER_VOICES, "mean")))
    nll = totals["nll_per_token"]
    print(f"{'NLL given S (nats)':24}" + "".join(f"{nll[v]:10.3f}" for v in LOWER_VOICES)
          + f"   {totals['nll_per_frame']:.3f} per frame")
    print(f"\n{'per 100 frames':24}{'original':>10}{'model':>10}{'ratio':>10}")
    for key in VOICE_LEADING:
        original, ours = totals["original"][key], totals["model"][key]
        ratio = f"{ours / original:9.2f}x" if original else ("      --" if not ours else "     inf")
        print(f"{key.replace('_', ' '):24}{original:10.2f}{ours:10.2f}{ratio:>10}")
    print("token: the written token (attack, hold or rest) matches; pitch: the sounding pitch matches; "
          "note: pitch and attack/hold both match (the strictest)")
    print("\n".join(report_lines(totals)))
    if report.skipped:
        print(f"skipped {len(report.skipped)} file(s): " + "; ".join(f"{p}: {r}" for p, r in report.skipped[:5]))
    if args.json:
        if not write_json_report(args, {"totals": totals, "pieces": report.pieces, "skipped": report.skipped,
                                        "model": str(args.model or DEFAULT_HARMONY_MODEL), "split": args.split,
                                        "temperature": args.temperature, "seed": args.seed, "seeds": args.seeds,
                                        "rules": not args.no_rules, "key_ensemble": list(model.shifts)},
                                 "evaluate-harmony"):
            return 1
        print(f"wrote {args.json}")
    return 0


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser, settings: dict) -> int:
    """``composer train --task harmony``: train a 4-part harmony model (see composer.harmony.train).

    Args:
        settings: the ``--config`` file's settings (see composer.cli.common.read_config).
    """
    from composer.harmony.train import HarmonyTrainConfig, train_harmony

    for name in _EVENT_ONLY_FLAGS:
        if getattr(args, name) is not None:
            parser.error(f"argument --{name.replace('_', '-')}: not a setting of harmony models")
    settings = {k: v for k, v in settings.items() if k != "task"}
    settings.update({k: getattr(args, k) for k in _HARMONY_FLAGS if getattr(args, k) is not None})
    try:
        config = HarmonyTrainConfig.from_dict(settings)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    if args.resume and not args.out.is_file():
        parser.error(f"argument --resume: {args.out} does not exist yet")
    set_threads(args.threads)
    printer = TrainPrinter(quiet=args.quiet)
    return run_training(lambda: train_harmony(args.data_dir, args.out, config, resume=args.resume,
                                              progress=printer), args.out)


def run_generate(args: argparse.Namespace, parser: argparse.ArgumentParser, model) -> int:
    """``composer generate --model CHORALE_MODEL``: write whole four-part pieces from nothing.

    Args:
        model: the loaded :class:`composer.harmony.model.HarmonyModel` (with its key ensemble).
    """
    unsupported = {"--primer": args.primer, "--beam": args.beam, "--top-k": args.top_k,
                   "--chords": getattr(args, "chords", None)}
    for flag, value in unsupported.items():
        if value:
            parser.error(f"argument {flag}: not supported with a 4-part harmony model ({model.path}); "
                         f"to harmonize a melody use 'composer harmonize'")
    if args.top_p != 1.0:
        parser.error("argument --top-p: not supported with a 4-part harmony model; use --temperature")
    qpm = args.tempo or 80.0
    manifest = _write_chorales(model, args, qpm)
    print(f"{len(manifest['files'])} file(s) and manifest.json in {args.out} "
          f"(seed {manifest['parameters']['seed']}, {manifest['generation_seconds']:.2f}s)")
    return 0


CHORALE_BATCH = 16   # chorales written together: memory stays flat in --count, files appear as they are ready


def _write_chorales(model, args: argparse.Namespace, qpm: float) -> dict:
    """Write ``--count`` chorales into ``--out`` :data:`CHORALE_BATCH` at a time, each batch (printed) as soon as
    it is ready, then the manifest (as :func:`composer.core.output_folder.write_chorales_to_folder` writes it).
    Batch ``i`` uses seed ``SEED + i``: the first is what one call of ``generate_chorale`` gives.

    Returns:
        The manifest.
    """
    import random

    from composer.core.output_folder import PieceFolder
    from composer.harmony.inference import generate_chorale

    seed = args.seed if args.seed is not None else random.randrange(2**31)
    line, folder, seconds = ProgressLine(), None, 0.0
    try:
        for index, first in enumerate(range(0, args.count, CHORALE_BATCH)):
            size = min(CHORALE_BATCH, args.count - first)
            doing = f"writing chorales {first + 1}-{first + size} of {args.count}"
            result = generate_chorale(model, args.bars, count=size, temperature=args.temperature,
                                      seed=(seed + index) % 2**31, qpm=qpm, key=args.key,
                                      on_step=_frames_shown(line, doing))
            seconds += result.seconds
            if folder is None:
                folder = PieceFolder(args.out, args.count, args.bars * result.pieces[0].ticks_per_bar, args.prefix)
            line.clear()
            pieces = [piece.replace(name=f"chorale {first + number}") for number, piece in enumerate(result.pieces, 1)]
            for item in folder.add(pieces):
                print(f"{item['file']}: {item['notes']} notes in {item['voices']} parts, {args.bars} bars", flush=True)
    finally:
        line.clear()
    parameters = {"count": args.count, "bars": args.bars, "temperature": args.temperature, "key": args.key,
                  "seed": seed, "tempo": qpm}
    return folder.finish(model=model, parameters=parameters, ticks_per_beat=result.pieces[0].ticks_per_beat,
                         generation_seconds=seconds, key_token=args.key)
