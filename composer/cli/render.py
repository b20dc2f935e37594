"""``composer render`` (a MIDI file to a WAV file) and ``--wav`` on the commands that write MIDI files.

Both play through :mod:`composer.audio`: the General MIDI SoundFont (``--soundfont FILE``, default pretty_midi's
TimGM6mb.sf2, or the file in ``COMPOSER_SOUNDFONT``), one instrument per voice (the file's programs, or
``--program VOICE=PROGRAM``); without a usable default SoundFont the additive synth renders and a note says why.

``--wav`` on ``generate``, ``harmonize`` and ``regenerate`` writes ``NAME.wav`` beside each ``NAME.mid`` the
command writes, under the same rules: an existing file only with ``--force``, never an input file, all checked
before any work. Like the family modules, this module imports only :mod:`composer.cli.common` at import time;
numpy and the synthesizers load when audio is made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from composer.cli.common import ProgressLine, add_force_argument, check_outputs, existing_file, int_range

WAV_SUFFIX = ".wav"


# -- the arguments ------------------------------------------------------------------------------------
def program_override(text: str) -> str:
    """argparse type: ``VOICE=PROGRAM`` (the voice is resolved against the piece later)."""
    from composer.audio.programs import ProgramError, parse_program, split_override

    try:
        parse_program(split_override(text)[1])
    except ProgramError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _add_sound_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--soundfont`` and ``--program`` (``what`` names the audio they apply to)."""
    parser.add_argument("--soundfont", type=Path, metavar="FILE",
                        help=f"General MIDI SoundFont (.sf2) for {what} (default: $COMPOSER_SOUNDFONT, else the "
                        "TimGM6mb.sf2 that comes with pretty_midi; without FluidSynth the additive synth renders)")
    parser.add_argument("--program", action="append", default=[], type=program_override, metavar="VOICE=PROGRAM",
                        help="instrument of a voice, repeatable: VOICE is its number from 1, its name (soprano) or "
                        "'all'; PROGRAM a General MIDI program 0-127 (0 piano, 19 church organ, 40 violin, 52 choir, "
                        "73 flute) or its name: --program all=19 --program 1=flute")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``composer render`` to the ``composer`` parser."""
    r = commands.add_parser("render", help="render a MIDI file to a WAV file (General MIDI SoundFont)",
                            description="Render a MIDI file to a 16-bit stereo WAV file through a General MIDI "
                            "SoundFont (FluidSynth), one instrument per track: the file's own programs (parts "
                            "named Soprano, Alto, Tenor or Bass left at program 0 sing, as Choir Aahs) unless "
                            "--program says otherwise. The WAV lasts the music plus 0.4 s of release. Without "
                            "the FluidSynth library (Debian/Ubuntu: libfluidsynth3) the built-in additive synth "
                            "renders, and says so.")
    r.add_argument("midi", type=existing_file, metavar="IN.mid")
    r.add_argument("--out", required=True, type=Path, metavar="OUT.wav", help="WAV file to write")
    _add_sound_arguments(r, "the audio")
    r.add_argument("--sample-rate", type=int_range(8000, 96000), default=44100,
                   help="samples per second (8000-96000, default 44100)")
    add_force_argument(r, "overwrite an existing OUT.wav (never IN.mid or the SoundFont)")
    r.set_defaults(handler=run_render)


def add_wav_arguments(parser: argparse.ArgumentParser, midi_files) -> None:
    """Give a command that writes MIDI files ``--wav`` (with ``--soundfont`` and ``--program``), wrapping its
    handler: the WAV files are checked before the command runs and rendered after it succeeds.

    Args:
        parser: the subcommand's parser; its ``handler`` default is the command.
        midi_files: ``midi_files(args)`` lists the MIDI files the command writes (some may be other files,
            such as manifest.json: only ``.mid`` files get a WAV).
    """
    parser.add_argument("--wav", action="store_true", help="also write NAME.wav beside each NAME.mid written "
                        "(General MIDI SoundFont; same --force rule)")
    _add_sound_arguments(parser, "--wav")
    parser.set_defaults(handler=_with_wav(parser.get_default("handler"), midi_files))


# -- composer render ------------------------------------------------------------------------------------
def run_render(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``composer render IN.mid --out OUT.wav``. Returns 0, or 1 with the reason printed in one line."""
    if args.out.suffix.lower() != WAV_SUFFIX:
        parser.error(f"argument --out: {args.out} must be a .wav file")
    check_outputs(parser, [args.out], (args.midi, args.soundfont), args.force)
    if _soundfont_problem(args, "render"):
        return 1
    piece = _read(args.midi, "render")
    if piece is None:
        return 1
    with ProgressLine() as line:
        return _write_wav(piece, args.midi, args.out, args, "render", args.sample_rate, line)


def _soundfont_problem(args: argparse.Namespace, command: str) -> bool:
    """Check ``--soundfont`` (when given) before any work; True when it cannot be used (the reason printed)."""
    if args.soundfont is None:
        return False
    from composer.audio.soundfont import SoundFontError, check_soundfont, fluidsynth_module

    try:
        check_soundfont(args.soundfont)
        fluidsynth_module()
    except SoundFontError as error:
        print(f"composer {command}: argument --soundfont: {error}", file=sys.stderr)
        return True
    return False


def _read(path: Path, command: str):
    """The piece in a MIDI file (drums included), or None when it cannot be read or has no notes (reported)."""
    from composer.music.midi_io import MidiReadError, read_midi

    try:
        piece = read_midi(path, include_drums=True)
    except MidiReadError as error:
        print(f"composer {command}: {error}", file=sys.stderr)
        return None
    if not piece.notes:
        print(f"composer {command}: {path} has no notes", file=sys.stderr)
        return None
    return piece


def _write_wav(piece, source: Path, out: Path, args: argparse.Namespace, command: str,
               sample_rate: int = 44100, line: ProgressLine | None = None) -> int:
    """Render ``piece`` (read from ``source``) into ``out`` with the ``--soundfont`` and ``--program`` of
    ``args``; print one line (and, the first time, why the additive synth renders when it does). With a
    progress ``line``, the seconds of audio rendered show on it (see :class:`ProgressLine`).

    Returns:
        0, or 1 when it cannot be rendered (the reason printed in one line).
    """
    from composer.audio import SOUNDFONT, SoundFontError
    from composer.audio.programs import ProgramError, resolve_programs

    try:
        programs = resolve_programs(piece, args.program)
    except ProgramError as error:
        print(f"composer {command}: argument --program: {error}", file=sys.stderr)
        return 1
    try:
        rendering = _export(piece, out, sample_rate, args, programs, line)
    except SoundFontError as error:
        print(f"composer {command}: argument --soundfont: {error}", file=sys.stderr)
        return 1
    except ValueError as error:   # AudioTooLongError: the piece is too long to render
        print(f"composer {command}: cannot render {source}: {error}", file=sys.stderr)
        return 1
    if rendering.note and not getattr(args, "_audio_noted", False):
        print(f"note: {rendering.note}", file=sys.stderr)
        args._audio_noted = True
    engine = f"SoundFont {rendering.soundfont.name}" if rendering.engine == SOUNDFONT else "additive synth"
    print(f"{out}: {rendering.seconds:.1f}s, 16-bit stereo {rendering.sample_rate} Hz ({engine})")
    return 0


def _export(piece, out: Path, sample_rate: int, args: argparse.Namespace, programs, line: ProgressLine | None):
    """:func:`composer.audio.export_wav` with ``args``' SoundFont, the seconds of audio rendered shown on
    ``line`` (when given), which is cleared afterwards, also when rendering fails."""
    from composer.audio import AUTO, export_wav

    def show(what: str, done: int, total: int) -> None:
        line.update(f"rendering {out.name}", done // sample_rate, -(-total // sample_rate), unit="s audio")

    try:
        return export_wav(piece, out, sample_rate, soundfont=args.soundfont or AUTO, programs=programs,
                          progress=None if line is None else show)
    finally:
        if line is not None:
            line.clear()


# -- --wav on generate, harmonize and regenerate ------------------------------------------------------------
def wav_beside(midi: Path) -> Path:
    """The WAV file written beside a MIDI file: the same name with ``.wav``."""
    return midi.with_suffix(WAV_SUFFIX)


def _with_wav(handler, midi_files):
    """``handler`` with ``--wav``: WAV files checked before it runs and rendered after it succeeds."""

    def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
        if not args.wav:
            for flag, value in (("--soundfont", args.soundfont), ("--program", args.program)):
                if value:
                    parser.error(f"argument {flag}: only with --wav")
            return handler(args, parser)
        midis = [Path(path) for path in midi_files(args) if Path(path).suffix.lower() != ".json"]
        wavs = [wav_beside(path) for path in midis]
        for midi, wav in zip(midis, wavs):
            if midi == wav:
                parser.error(f"argument --out: {midi} ends in .wav; with --wav give the MIDI file a .mid name")
        inputs = [getattr(args, name, None) for name in ("melody", "piece", "primer", "model", "soundfont")]
        check_outputs(parser, wavs, inputs, args.force)
        if _soundfont_problem(args, args.command):
            return 1
        status = handler(args, parser)
        if status != 0:
            return status
        return _render_written(midis, wavs, args)

    return run


def _render_written(midis: list[Path], wavs: list[Path], args: argparse.Namespace) -> int:
    """Render every MIDI file the command wrote into its WAV file; the fallback note is printed once.

    Returns:
        0, or 1 when one cannot be rendered (the others are still tried).
    """
    status = 0
    with ProgressLine() as line:   # one line for all: the delay counts from the first file
        for midi, wav in zip(midis, wavs):
            if not midi.is_file():
                continue
            piece = _read(midi, args.command)
            if piece is None or _write_wav(piece, midi, wav, args, args.command, line=line) != 0:
                status = 1
    return status
