"""The ``composer`` command: builds the parser from the family modules and runs the chosen subcommand.

``train`` and ``generate`` serve two families, so this module picks the family: ``train`` by ``--task`` (or
the ``--config`` file's "task", or the kind of model file ``--resume`` continues), ``generate`` by the kind
of model file it loads (once). Every other subcommand's parser names its own handler.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from composer.cli import benchmark, harmony, melody, models, render
from composer.cli.common import (UnwritableOutput, add_force_argument, check_outputs, check_writable, load_model,
                                 model_file_kind, read_config, with_output_lock)
from composer.shipped import MELODY_MODEL as DEFAULT_MELODY_MODEL


def build_parser() -> argparse.ArgumentParser:
    """The ``composer`` parser; each subcommand's parser sets ``handler``, taking ``(args, parser)``."""
    parser = argparse.ArgumentParser(prog="composer", description="Train stacked-LSTM music models on MIDI "
                                     "files and generate new music as MIDI.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_force_argument(melody.add_train_command(commands), "replace an existing --out model file and the files "
                       "beside it (MODEL.curve.csv, .curve.png, .data.csv; without --resume, training starts "
                       "afresh)").set_defaults(handler=run_train)
    add_force_argument(melody.add_generate_command(commands), "overwrite the files this run writes in --out (its "
                       "numbered .mid files and manifest.json)").set_defaults(handler=run_generate)
    for module in (melody, models, harmony, benchmark, render):
        module.add_commands(commands)
    render.add_wav_arguments(commands.choices["generate"], _generated_files)
    for name in ("harmonize", "regenerate"):
        render.add_wav_arguments(commands.choices[name], lambda args: harmony._outputs(args.out, args.count))
    return parser


def _generated_files(args: argparse.Namespace) -> list[Path]:
    """The files ``composer generate`` writes in ``--out`` (its numbered .mid files and manifest.json)."""
    from composer.core.output_folder import output_names

    return [args.out / name for name in output_names(args.count, args.prefix)]


# The options that name what a command writes: checked before any work (see check_writable).
WRITTEN_FILES = ("out", "ship", "json")


def main(argv: list[str] | None = None) -> int:
    """Run ``composer ARGV``. An output that cannot be written is refused before any work, and an OS error
    while writing (a full disk, ...) ends in one line, ``composer COMMAND: REASON: PATH``, not a traceback.

    Returns:
        The exit status: 0 on success, 1 on an error reported in one line, 130 on Ctrl-C.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    command = " ".join(filter(None, (args.command, getattr(args, "benchmark_command", None))))
    try:
        _check_writable(args)
        return args.handler(args, parser)
    except UnwritableOutput as error:
        print(f"composer {command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"composer {command}: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _check_writable(args: argparse.Namespace) -> None:
    """:func:`check_writable` on the outputs the arguments name (``generate --out`` is a folder).

    Raises:
        UnwritableOutput: one of them cannot be written.
    """
    paths = [getattr(args, name) for name in WRITTEN_FILES if isinstance(getattr(args, name, None), Path)]
    if args.command == "generate":
        check_writable(folders=paths)
    else:
        check_writable(files=paths)


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer train``: a harmony model for ``--task harmony``, a "task": "harmony" config, or when
    resuming a harmony model file; otherwise a melody/event model. An existing ``--out`` needs ``--resume`` or
    ``--force``. The lock of ``--out`` is held from the start (a second training into it stops at once) to the
    end; the training loop takes it again, for the library's other callers (see composer.core.locks)."""
    return with_output_lock(args.out, "train", lambda: _run_train(args, parser))


def _run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """:func:`run_train`, with ``--out``'s lock held."""
    from composer.core.modelfile import HARMONY_KIND
    from composer.core.training import side_files

    if not args.resume:   # --resume rewrites its own --out and side files: that is what it is for
        check_outputs(parser, [args.out, *side_files(args.out)], (args.data_dir, args.config), args.force,
                      hint="--resume to continue it, " if args.out.exists() else "")
    settings = read_config(args.config, parser)
    resuming_harmony = args.resume and args.out.is_file() and model_file_kind(args.out) == HARMONY_KIND
    family = harmony if (args.task or settings.get("task")) == "harmony" or resuming_harmony else melody
    return family.run_train(args, parser, settings)


def run_generate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer generate``: read the model file once; a melody model writes melodies, a 4-part harmony
    model whole chorales. Files of an earlier run in ``--out`` need ``--force``."""
    from composer.core.modelfile import HARMONY_KIND, MELODY_KIND
    from composer.core.output_folder import output_names
    from composer.harmony.model import HarmonyModel

    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} is a file; give a folder (it is created if missing)")
    model_path = args.model or DEFAULT_MELODY_MODEL
    if not model_path.is_file():
        parser.error(f"argument --model: the default model {model_path} is missing; train one with "
                     f"'composer train' or pass --model")
    outputs = [args.out / name for name in output_names(args.count, args.prefix)]
    check_outputs(parser, outputs, (model_path, args.primer), args.force)
    model = load_model(model_path, (MELODY_KIND, HARMONY_KIND), "generate")
    if model is None:
        return 1
    family = harmony if isinstance(model, HarmonyModel) else melody
    return family.run_generate(args, parser, model)


if __name__ == "__main__":
    sys.exit(main())
