"""What the ``composer`` subcommands share: argument types that say what is wrong, reading ``--config``,
loading a model file for a command, running a trainer, and the training progress printer.

Family modules (``melody``, ``harmony``, ``benchmark``, ``models``) import this module and no other cli
module; ``main`` imports them all. Nothing here imports PyTorch or NumPy at import time, so that
``composer --help`` stays light: the helpers that need them import them when called.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path


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
    """argparse type: a key such as C, Am, F#m, Bb, Ddor (see composer.music.keys)."""
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


def form_letters(text: str) -> str:
    """argparse type: a form such as AABB, AABA, ABAC, or ``through`` (see composer.melody.form_plan)."""
    from composer.melody.form_plan import parse_form

    try:
        return parse_form(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def time_signature(text: str) -> str:
    """argparse type: a time signature such as 4/4, 3/4 or 6/8."""
    from composer.music.metre import parse_time_signature

    try:
        parse_time_signature(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text.strip()


def file_prefix(text: str) -> str:
    """argparse type: a prefix for file names, with no path in it."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text) or text.startswith("."):
        raise argparse.ArgumentTypeError(f"must be 1-64 letters, digits, '-', '_' or '.' (not first), "
                                         f"got {text!r}")
    return text


def existing_file(text: str) -> Path:
    """argparse type: a regular file that exists (a folder, a device or a broken link is named as such).

    Raises:
        argparse.ArgumentTypeError: what ``text`` is instead.
    """
    from composer.music.midi_io import special_file_reason

    path = Path(text)
    if path.is_file():
        return path
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    special = special_file_reason(path)
    raise argparse.ArgumentTypeError(f"{text} is {special}" if special else f"no such file: {text}")


def existing_dir(text: str) -> Path:
    """argparse type: a folder that exists.

    Raises:
        argparse.ArgumentTypeError: ``text`` is missing, or is a file.
    """
    path = Path(text)
    if path.is_dir():
        return path
    if os.path.lexists(path):
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    raise argparse.ArgumentTypeError(f"no such folder: {text}")


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


# -- output files ------------------------------------------------------------------------------------
# -- --format: scores beside the MIDI files a command writes ----------------------------------------------------
SCORE_FORMATS = ("midi", "musicxml", "abc")


def score_formats(text: str) -> tuple[str, ...]:
    """argparse type: formats to write, comma-separated: ``midi`` (always written), ``musicxml``, ``abc``.

    Returns:
        The score formats asked for (``midi`` left out), without repeats.

    Raises:
        argparse.ArgumentTypeError: an unknown format.
    """
    words = [{"xml": "musicxml", "mid": "midi"}.get(w.strip().lower(), w.strip().lower())
             for w in text.split(",") if w.strip()]
    unknown = [w for w in words if w not in SCORE_FORMATS]
    if unknown or not words:
        raise argparse.ArgumentTypeError(f"unknown format {unknown[0] if unknown else text!r}: choose from "
                                         f"{', '.join(SCORE_FORMATS)} (comma-separated, e.g. musicxml,abc)")
    return tuple(dict.fromkeys(w for w in words if w != "midi"))


def add_format_arguments(parser: argparse.ArgumentParser, midi_files) -> None:
    """Give a command that writes MIDI files ``--format`` (scores beside them: :mod:`composer.music.notation`),
    wrapping its handler: the score files are checked before it runs (an existing one only with ``--force``,
    never an input) and written after it succeeds, one line each.

    Args:
        parser: the subcommand's parser; its ``handler`` default is the command.
        midi_files: ``midi_files(args)`` lists the files the command writes (a ``manifest.json`` among them
            gives the chords; only ``.mid`` files get scores).
    """
    parser.add_argument("--format", type=score_formats, default=(), metavar="FORMATS",
                        help="also write scores beside each NAME.mid: musicxml (NAME.musicxml, for MuseScore and "
                        "other notation programs), abc (NAME.abc), or both: musicxml,abc (the MIDI file is always "
                        "written; same --force rule)")
    parser.set_defaults(handler=_with_scores(parser.get_default("handler"), midi_files))


def _with_scores(handler, midi_files):
    """``handler`` with ``--format``: score files checked before it runs and written after it succeeds."""

    def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
        if not args.format:
            return handler(args, parser)
        files = [Path(path) for path in midi_files(args)]
        midis = [path for path in files if path.suffix.lower() != ".json"]
        if any(path.suffix.lower() in (".musicxml", ".abc") for path in midis):
            parser.error("argument --out: with --format give the MIDI file a .mid name")
        inputs = [getattr(args, name, None) for name in ("melody", "piece", "primer", "model")]
        check_outputs(parser, [path.with_suffix(f".{fmt}") for path in midis for fmt in args.format], inputs,
                      args.force)
        status = handler(args, parser)
        if status != 0:
            return status
        return _write_scores(midis, args.format, next((p for p in files if p.name == "manifest.json"), None),
                             args.command)

    return run


def _write_scores(midis: list[Path], formats: tuple[str, ...], manifest: Path | None, command: str) -> int:
    """Write each MIDI file the command wrote as a score in each format (the manifest's chords as symbols).

    Returns:
        0, or 1 when one cannot be written (the reason printed in one line; the others are still tried).
    """
    from composer.music.midi_io import MidiReadError
    from composer.music.notation import NotationError, manifest_chords, write_beside

    chords, status = manifest_chords(manifest), 0
    for midi in (path for path in midis if path.is_file()):
        for fmt in formats:
            try:
                print(write_beside(midi, fmt, chords))
            except (MidiReadError, NotationError) as error:
                print(f"composer {command}: {error}", file=sys.stderr)
                status = 1
    return status


FORCE_HELP = "overwrite existing output files (an input file is never overwritten)"


def add_force_argument(parser: argparse.ArgumentParser, help_text: str = FORCE_HELP) -> argparse.ArgumentParser:
    """Give a subcommand that writes files its ``--force`` flag; returns the parser."""
    parser.add_argument("--force", action="store_true", help=help_text)
    return parser


def check_outputs(parser: argparse.ArgumentParser, outputs, inputs=(), force: bool = False,
                  flag: str = "--out", hint: str = "") -> None:
    """Refuse, before any work, to write over an input file, or over any existing file without ``--force``.

    Args:
        parser: the subcommand's parser; a refusal is its usage error, one line naming the file.
        outputs: every file the command would write.
        inputs: the files it reads (melody, piece, primer, model, data; None entries are skipped): writing
            over one of them is refused even with ``--force``.
        force: ``--force`` was given: existing files that are not inputs may be overwritten.
        flag: the option named in the message.
        hint: other advice when a file exists, before --force's (e.g. "--resume to continue it, ").

    Raises:
        SystemExit: (status 2, through ``parser.error``) when a file would be overwritten.
    """
    outputs = [Path(path) for path in outputs]
    for path in outputs:
        for source in inputs:
            if source is not None and _same_file(path, Path(source)):
                same = "" if path == Path(source) else f" (as {source})"
                parser.error(f"argument {flag}: {path} is an input file{same}; it is never overwritten, "
                             f"choose another {flag}")
    existing = None if force else next((path for path in outputs if os.path.lexists(path)), None)
    if existing is not None:
        parser.error(f"argument {flag}: {existing} exists; pass {hint}--force to overwrite it, or choose "
                     f"another {flag}")


def check_json_output(parser: argparse.ArgumentParser, args: argparse.Namespace, inputs=()) -> None:
    """:func:`check_outputs` for a report command's ``--json FILE`` (when given), before any work.

    Args:
        parser: the subcommand's parser.
        args: its arguments (``json``, ``force``).
        inputs: the files it reads (the model...): never overwritten.

    Raises:
        SystemExit: (status 2) when FILE exists and ``--force`` is not given, or is an input.
    """
    if getattr(args, "json", None):
        check_outputs(parser, [args.json], inputs, args.force, flag="--json")


def with_json_lock(args: argparse.Namespace, command: str, run) -> int:
    """Run a report command holding the lock of its ``--json FILE`` (when given) from its check to its write, so
    that a second run given the same FILE stops before any work (see :func:`with_output_lock`)."""
    if not getattr(args, "json", None):
        return run()
    return with_output_lock(args.json, command, run, writer="composer command", flag="--json")


def write_json_report(args: argparse.Namespace, data, command: str) -> bool:
    """Write a report command's ``--json FILE`` (:func:`write_json`), under its lock (:func:`with_json_lock`).

    FILE was checked before the work (:func:`check_json_output`); one that appeared since, written by some
    other program, is kept unless ``--force`` was given, and the reason is printed in one line.

    Returns:
        True when FILE was written.
    """
    if not args.force and os.path.lexists(args.json):
        print(f"composer {command}: {args.json} appeared while the report was made; it is kept (pass --force to "
              f"replace it, or choose another --json)", file=sys.stderr)
        return False
    write_json(args.json, data)
    return True


def write_json(path: Path, data) -> None:
    """Write ``data`` as indented JSON to ``path``, atomically (the file is whole, or what it was).

    Raises:
        OSError: the file cannot be written; it names the file.
    """
    from composer.core.atomic import write_atomically

    text = json.dumps(data, indent=2).encode()
    write_atomically(path, lambda handle: handle.write(text))


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (links followed); paths that do not both exist compare resolved."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


class UnwritableOutput(Exception):
    """An output cannot be written (checked before any work); the message is ``cannot write to PATH: why``."""


def check_writable(files=(), folders=()) -> None:
    """Refuse, before any work, outputs that cannot be written: the folder each would be written in must be a
    folder, or be missing but creatable, and a file must really be creatable there (a test file is made and
    removed: permissions, a read-only disk, ``/proc`` and the like all fail it).

    Args:
        files: files the command would write (their folders are checked; an existing folder is refused).
        folders: folders the command would write files into (``generate --out``).

    Raises:
        UnwritableOutput: one of them cannot be written; the message names it and says why.
    """
    checked = set()
    for path, folder in [(Path(f), Path(f).parent) for f in files] + [(Path(d), Path(d)) for d in folders]:
        if path != folder and path.is_dir():
            raise UnwritableOutput(f"cannot write to {path}: it is a folder")
        if folder in checked:
            continue
        checked.add(folder)
        reason = _unwritable_reason(folder)
        if reason:
            raise UnwritableOutput(f"cannot write to {path}: {reason}")


def _unwritable_reason(folder: Path) -> str:
    """Why no file can be written in ``folder`` (created if missing), or "" when one can."""
    existing = folder if str(folder) else Path(".")
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"no permission to write in {existing}"
    try:
        fd, name = tempfile.mkstemp(prefix=".composer-write-test-", dir=existing)
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        return f"no file can be created in {existing} ({error.strerror or error})"
    return ""


def with_output_lock(out: Path, command: str, run, writer: str = "training", flag: str = "--out") -> int:
    """Run a training command holding the lock of its model file (see composer.core.locks), so that a second
    training into the same file stops before any work.

    Args:
        out: the model file.
        command: the command named in the message (``train``, ``benchmark``).
        run: runs the command and returns its exit status.
        writer, flag: the refusal's words for the other process and the option (``training``, ``--out``).

    Returns:
        ``run``'s exit status, or 1 (the reason printed) when another process holds the lock.
    """
    from composer.core.locks import OutputLockedError, output_lock

    if os.environ.get("RANK", "0") != "0":   # under torchrun only the first process writes (and locks)
        return run()
    try:
        with output_lock(out, writer, flag):
            return run()
    except OutputLockedError as error:
        print(f"composer {command}: {error}", file=sys.stderr)
        return 1


def read_rate(files_per_s: float) -> str:
    """How fast files were read, in words that never round a slow read to nothing.

    Args:
        files_per_s: files read per second.

    Returns:
        ``"1,234 files/s"``, ``"2.5 files/s"``, ``"4.0 s per file"``, or ``"no files read"``.
    """
    if files_per_s <= 0:
        return "no files read"
    if files_per_s >= 10:
        return f"{files_per_s:,.0f} files/s"
    if files_per_s >= 1:
        return f"{files_per_s:.1f} files/s"
    return f"{1 / files_per_s:,.1f} s per file"


PROGRESS_DELAY_ENV = "COMPOSER_PROGRESS_DELAY"   # seconds before progress shows (default 1; tests set 0 or a lot)


def progress_delay(default: float = 1.0) -> float:
    """Seconds a command runs before its progress shows: ``$COMPOSER_PROGRESS_DELAY``, else ``default``."""
    try:
        return max(0.0, float(os.environ.get(PROGRESS_DELAY_ENV, default)))
    except ValueError:
        return default


class _LogLines:
    """A stream for tqdm where it is not a terminal (a log, a pipe): each refresh becomes one line, and the
    carriage returns and blank clearing that a terminal needs are left out."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        for part in text.replace("\r", "\n").split("\n"):
            if part.strip():
                self.stream.write(part.rstrip() + "\n")

    def flush(self) -> None:
        self.stream.flush()


def _terminal_width(stream) -> int:
    """The columns of the terminal ``stream`` writes to (0 when it has no size or none can be read)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 0


class ProgressLine:
    """Progress of a long command on stderr, through tqdm, shown only once the command has run for ``after_s``
    seconds (so a quick command prints nothing extra): on a terminal a bar rewritten in place (at most every
    0.2 s) and erased when done, elsewhere (a log) a line every ``log_every_s`` seconds. Nothing is ever
    written to stdout. Each new ``text`` starts a new bar; :meth:`clear` ends the current one.

    Args:
        stream: where to write (default stderr).
        after_s: quiet time first (default ``$COMPOSER_PROGRESS_DELAY``, else 1 s).
        log_every_s: the interval between lines when the stream is not a terminal.
        unit: what ``done`` counts, in the bar (e.g. ``"piece"``).
        stages: for the library's ``progress(what, done, total)`` callback (:meth:`__call__`): the words shown
            and the unit of each ``what`` (others are shown as they are, counted in ``unit``).
    """

    def __init__(self, stream=None, after_s: float | None = None, log_every_s: float = 5.0,
                 unit: str = "it", stages: dict[str, tuple[str, str]] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.started = time.monotonic()
        self.after_s = progress_delay() if after_s is None else after_s
        self.interval, self.unit, self.stages = (0.2 if self.live else log_every_s), unit, stages or {}
        self.bar, self.text = None, None

    def update(self, text: str, done: int | None = None, total: int | None = None, status: str = "",
               unit: str | None = None) -> None:
        """Show ``text`` (and ``done`` of ``total``, a count when ``total`` is None, and ``status`` after the
        bar) if it is time to (see the class docstring); ``unit``: what ``done`` counts (default the line's)."""
        if self.bar is not None and text != self.text:
            self.clear()
        if self.bar is None:   # its first display (at once when the delay has passed) shows done and status
            self._open(text, total, unit or self.unit, done or 0, status)
            return
        if total is not None and total != self.bar.total:
            self.bar.total = total
        if status:
            self.bar.set_postfix_str(status, refresh=False)
        self.bar.update(0 if done is None else done - self.bar.n)

    def __call__(self, what: str, done: int | None = None, total: int | None = None) -> None:
        """The ``progress(what, done, total)`` callback of the library functions: :meth:`update`, with the
        words and unit that ``stages`` gives ``what``."""
        text, unit = self.stages.get(what, (what, self.unit))
        self.update(text, done, total, unit=unit)

    def _open(self, text: str, total: int | None, unit: str, done: int, status: str) -> None:
        """Start a bar for ``text`` at ``done``, shown once the quiet time since the line began is over."""
        from tqdm import tqdm

        waited = time.monotonic() - self.started
        self.text = text
        stream = self.stream if self.live else _LogLines(self.stream)
        sized = self.live and _terminal_width(self.stream) > 0   # a terminal of no size (some pseudo-terminals)
        fixed = {} if sized else {"ncols": 100, "nrows": 20}      # would get no bar at all from tqdm
        self.bar = tqdm(desc=text, total=total, initial=done, postfix=status or None, unit=unit, file=stream,
                        delay=max(0.0, self.after_s - waited), mininterval=self.interval, miniters=0, leave=False,
                        dynamic_ncols=sized, ascii=not self.live, **fixed)

    def clear(self) -> None:
        """End the current bar, erasing it from a terminal (before other output, and at the end)."""
        if self.bar is not None:
            self.bar.close()
            self.bar, self.text = None, None

    def __enter__(self) -> "ProgressLine":
        return self

    def __exit__(self, *exc) -> None:
        self.clear()


# -- model files -------------------------------------------------------------------------------------
def load_model(path: Path, kinds: tuple[str, ...] | None, command: str, hint: str = ""):
    """Read a model file once (see composer.core.modelfile.load_model_file) for ``composer COMMAND``.

    Args:
        path: the model file.
        kinds: the kinds of model file the command can use (None: any).
        command: the subcommand, named in the message.
        hint: appended to the message when the file cannot be loaded.

    Returns:
        The family's loaded model, or None when it cannot be loaded (the reason is printed).
    """
    from composer.core.modelfile import KINDS, ModelFileError, load_model_file

    try:
        return load_model_file(path, kinds=tuple(KINDS) if kinds is None else kinds)
    except ModelFileError as error:
        print(f"composer {command}: {error}{hint}", file=sys.stderr)
        return None


def model_file_kind(path: Path) -> str | None:
    """The ``kind`` saved in a model file, reading only the file's plain data (its tensors are mapped, not
    read); None when it is not a readable model file (the command that loads it says why)."""
    import torch

    from composer.core.modelfile import check_archive

    try:
        check_archive(Path(path))   # a zip bomb is refused before anything is unpacked
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - any unreadable or refused file: the loader that runs next reports it
        return None
    return checkpoint.get("kind") if isinstance(checkpoint, dict) else None


def set_threads(threads: int | None) -> None:
    """``--threads``: CPU threads for PyTorch (None: leave PyTorch's default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


# -- training ------------------------------------------------------------------------------------------
def run_training(start, out: Path) -> int:
    """Run a trainer call and turn its outcome into an exit status for ``composer train``.

    Args:
        start: calls the trainer and returns its final checkpoint dict.
        out: the model file, named in the message after Ctrl-C.

    Returns:
        0 when a validation score was saved, 1 on a TrainingError or no score, 130 on Ctrl-C.
    """
    from composer.core.training import TrainingError

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
    """Progress of ``composer train`` on stderr: a bar of each epoch's batches (:class:`ProgressLine`, not with
    ``quiet``), a line per epoch."""

    def __init__(self, quiet: bool = False, stream=None) -> None:
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.line = ProgressLine(self.stream, log_every_s=30.0, unit="batch")

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind != "step":
            self._clear()
        if kind == "data":
            self._data(event)
        elif kind == "step" and not self.quiet:
            self._step(event)
        elif kind == "epoch":
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
              f"({read_rate(stats.get('files_per_s', 0))}{cached})", file=self.stream)
        if skipped:
            print(f"skipped {len(skipped)} file(s):", file=self.stream)
            for path, reason in skipped[:20]:
                print(f"  {path}: {reason}", file=self.stream)
            if len(skipped) > 20:
                print(f"  ... and {len(skipped) - 20} more (all listed in the .data.csv beside the model)",
                      file=self.stream)

    def _step(self, event: dict) -> None:
        """The epoch's batches as a bar (see :class:`ProgressLine`), with the running loss and speed."""
        status = (f"loss {event['loss']:.4f} ppl {math.exp(min(event['loss'], 50)):.3f} "
                  f"acc {100 * event['accuracy']:.1f}% {event['tokens_per_s']:,.0f} tok/s")
        self.line.update(f"epoch {event['epoch']}/{event['epochs']}", event["batch"], event["batches"], status)

    def _clear(self) -> None:
        self.line.clear()
