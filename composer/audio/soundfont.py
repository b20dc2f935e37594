"""The General MIDI SoundFont synthesizer: a piece to stereo audio through FluidSynth, one instrument per voice.

FluidSynth (the C library ``libfluidsynth``, LGPL-2.1, Debian package ``libfluidsynth3``) is driven through
the ``pyfluidsynth`` bindings (MIT). Every voice gets its own MIDI channel and its General MIDI program (the
voice's own, or the caller's choice); drum voices play bank 128 (the kit). Notes are sent at the sample where
they start and end, and the audio between events is written as 32-bit floats straight into one buffer, so
the rendering is exact to FluidSynth's 64-sample block and never clips inside the synthesizer; the mix is
then scaled down to a -1 dBFS peak when it would be louder than that (never up).

The default SoundFont is ``TimGM6mb.sf2`` as installed with pretty_midi (a dependency): see
``composer/audio/PROVENANCE.md`` for where it comes from and its licence (GPL-2.0, not copied here).

Nothing here is imported by ``composer --help``; numpy and the FluidSynth library load when a rendering is made.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer.audio.limits import audio_frames
from composer.audio.programs import sounding_program
from composer.audio.timemap import seconds_at
from composer.music.notes import Piece

TAIL_SECONDS = 0.4            # audio kept after the last note ends, as the additive synth: the same length
FADE_SECONDS = 0.1            # the end of that tail fades out, so what is left of a long release never clicks
PEAK_CEILING = 10 ** (-1 / 20)  # -1 dBFS, as the additive synth
SYNTH_GAIN = 1.0              # FluidSynth's master gain: a four-part chorale on TimGM6mb peaks near -10 dBFS
DRUM_BANK = 128
SAMPLE_RATES = (8000, 96000)  # the range FluidSynth renders at (outside it, it would silently use 44100)
SOUNDFONT_VARIABLE = "COMPOSER_SOUNDFONT"   # names the default SoundFont (the app has no other way to choose one)
_MIN_SIZE = 12                # a RIFF header: "RIFF", the size, "sfbk"
CHUNK_FRAMES = 1 << 15        # the most audio written per call (0.74 s at 44.1 kHz); progress after each

Progress = Callable[[str, int, int], None]   # progress("rendering", frames done, frames)


class SoundFontError(Exception):
    """A SoundFont cannot be used (missing, unreadable, not a SoundFont, FluidSynth missing); one line."""


@dataclass(frozen=True)
class SoundFont:
    """A SoundFont file that was checked (it exists and starts as a SoundFont 2 file should).

    Attributes:
        path: the .sf2 file.
    """

    path: Path


def default_soundfont_path() -> Path | None:
    """The General MIDI SoundFont Composer uses when none is named: the file in the environment variable
    ``COMPOSER_SOUNDFONT`` when it is set (even if that file is missing: using it then fails, and says so), else
    pretty_midi's ``TimGM6mb.sf2``.

    Returns:
        Its path, or None when neither is there.
    """
    import importlib.util

    chosen = os.environ.get(SOUNDFONT_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    spec = importlib.util.find_spec("pretty_midi")   # its folder, without importing it (and numpy with it)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "TimGM6mb.sf2"
        if path.is_file():
            return path
    return None


def check_soundfont(path: str | os.PathLike) -> SoundFont:
    """Check that a file is a readable SoundFont 2 file (its RIFF ``sfbk`` header), before FluidSynth sees it.

    Args:
        path: the .sf2 file.

    Returns:
        The checked SoundFont.

    Raises:
        SoundFontError: the file is missing, a folder, unreadable, or not a SoundFont 2 file.
    """
    path = Path(path)
    if not path.exists():
        raise SoundFontError(f"no such SoundFont file: {path}")
    if path.is_dir():
        raise SoundFontError(f"{path} is a folder, not a SoundFont file")
    try:
        with open(path, "rb") as handle:
            header = handle.read(_MIN_SIZE)
    except OSError as error:
        raise SoundFontError(f"cannot read the SoundFont {path}: {error.strerror or error}") from None
    if len(header) < _MIN_SIZE or header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise SoundFontError(f"{path} is not a SoundFont 2 file (.sf2)")
    declared = int.from_bytes(header[4:8], "little") + 8
    if path.stat().st_size < declared:
        raise SoundFontError(f"{path} is a truncated SoundFont file ({path.stat().st_size} of {declared} bytes)")
    return SoundFont(path)


def fluidsynth_module():
    """The ``fluidsynth`` bindings with the FluidSynth library loaded, its log messages silenced.

    Raises:
        SoundFontError: pyfluidsynth or the FluidSynth library (``libfluidsynth3``) is not installed.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):   # pyfluidsynth prints where it found the library under CI
            import fluidsynth
    except ImportError as error:   # pyfluidsynth says "Couldn't find the FluidSynth library."
        if isinstance(error, ModuleNotFoundError) and error.name == "fluidsynth":
            raise SoundFontError("pyfluidsynth is not installed (pip install pyfluidsynth)") from None
        raise SoundFontError("the FluidSynth library was not found (on Debian or Ubuntu: sudo apt-get install "
                             "libfluidsynth3)") from None
    except OSError as error:       # a library that is there but cannot be loaded
        raise SoundFontError(f"the FluidSynth library cannot be loaded ({error})") from None
    library = ctypes.CDLL(fluidsynth.lib)
    for level in range(5):   # FLUID_PANIC .. FLUID_DBG: no messages on stderr; errors come back as results
        library.fluid_set_log_function(level, None, None)
    return fluidsynth


def voice_programs(piece: Piece, programs: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """(bank, program) of every voice: bank 128 for a drum voice, else 0; the program is the voice's own
    (:func:`~composer.audio.programs.sounding_program`: sung parts left at 0 sing) unless ``programs`` gives
    another.

    Args:
        piece: its voices.
        programs: General MIDI program (0..127) by voice index, overriding the voice's.

    Returns:
        One (bank, program) per voice index used by the piece (voices or notes).
    """
    count = max(len(piece.voices), 1 + max((n.voice for n in piece.notes), default=-1))
    result = []
    for index in range(count):
        voice = piece.voices[index] if index < len(piece.voices) else None
        program = (programs or {}).get(index, sounding_program(voice) if voice is not None else 0)
        result.append((DRUM_BANK if voice is not None and voice.is_drum else 0, program))
    return result


def render_soundfont(piece: Piece, soundfont: SoundFont, sample_rate: int, tempo_factor: float = 1.0,
                     start_tick: int = 0, programs: dict[int, int] | None = None,
                     progress: Progress | None = None) -> np.ndarray:
    """Render a piece through a SoundFont.

    Args:
        piece: what to play; notes of every voice, with the piece's tempo map.
        soundfont: a checked SoundFont (:func:`check_soundfont`).
        sample_rate: samples per second.
        tempo_factor: playback speed (2.0 plays twice as fast; pitch is unchanged).
        start_tick: where the audio starts; notes still sounding there start at once.
        programs: General MIDI program by voice index, overriding the voices' own.
        progress: called as ``progress("rendering", frames done, frames)`` first, about every
            :data:`CHUNK_FRAMES` frames of audio and at the end (the audio is the same with or without it).

    Returns:
        float32 [frames, 2] in [-1, 1]: the piece from ``start_tick`` to its last note, then
        :data:`TAIL_SECONDS` of release, fading out over its last :data:`FADE_SECONDS`.

    Raises:
        SoundFontError: FluidSynth is missing or cannot load the file.
        ValueError: bad ``tempo_factor``, ``sample_rate`` (also outside :data:`SAMPLE_RATES`) or ``start_tick``.
        composer.audio.limits.AudioTooLongError: longer than the limit (checked before any allocation).
    """
    frames = audio_frames(piece, sample_rate, tempo_factor, start_tick, TAIL_SECONDS)
    if not SAMPLE_RATES[0] <= sample_rate <= SAMPLE_RATES[1]:
        raise ValueError(f"the SoundFont synthesizer renders at {SAMPLE_RATES[0]}-{SAMPLE_RATES[1]} samples per "
                         f"second, got {sample_rate}")
    fluidsynth = fluidsynth_module()
    synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(sample_rate))
    try:
        with _stderr_silenced():   # libinstpatch (inside FluidSynth) prints GLib criticals on a broken file
            font = synth.sfload(str(soundfont.path))
        if font < 0:
            raise SoundFontError(f"FluidSynth cannot load the SoundFont {soundfont.path}")
        channels = _select_programs(synth, font, voice_programs(piece, programs))
        audio = np.zeros((frames, 2), dtype=np.float32)
        _play_events(synth, audio, _events(piece, channels, sample_rate, tempo_factor, start_tick), progress)
    finally:
        synth.delete()
    _fade_tail(audio, frames - round(TAIL_SECONDS * sample_rate), round(FADE_SECONDS * sample_rate))
    peak = float(np.abs(audio).max()) if frames else 0.0
    if peak > PEAK_CEILING:
        audio *= PEAK_CEILING / peak
    return audio


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null meanwhile (what C libraries print there); Python's own
    ``sys.stderr`` is flushed first. Where the descriptor cannot be duplicated, nothing is silenced."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _fade_tail(audio: np.ndarray, tail_start: int, fade: int) -> None:
    """Fade the last ``fade`` frames of ``audio`` to silence, in place, but nothing before ``tail_start``
    (the music itself is never faded)."""
    begin = max(tail_start, audio.shape[0] - fade)
    if begin < audio.shape[0]:
        ramp = np.linspace(1.0, 0.0, audio.shape[0] - begin + 1, dtype=np.float32)[1:]
        audio[begin:] *= ramp[:, None]


def _select_programs(synth, font: int, banks_programs: list[tuple[int, int]]) -> list[int]:
    """Give every voice a channel (channel 9, the General MIDI drum channel, only to drums) and select its
    preset; a preset the SoundFont lacks falls back to program 0 of its bank (FluidSynth's own rule).

    Returns:
        The channel of each voice.
    """
    melodic = [c for c in range(256) if c % 16 != 9]
    channels, next_melodic = [], 0
    for bank, program in banks_programs:
        if bank == DRUM_BANK:
            channel = 9
        else:
            channel = melodic[next_melodic % len(melodic)]
            next_melodic += 1
        if synth.program_select(channel, font, bank, program) != 0:
            synth.program_select(channel, font, bank, 0)
        channels.append(channel)
    return channels


def _events(piece: Piece, channels: list[int], sample_rate: int, tempo_factor: float,
            start_tick: int) -> list[tuple[int, int, int, int, int]]:
    """(frame, on, channel, pitch, velocity) of every note's start and end, in order; at one frame the
    releases come first, so a repeated note is struck again."""
    notes = [n for n in piece.notes if n.end > start_tick]
    if not notes:
        return []
    origin = float(seconds_at(piece, [start_tick])[0])
    starts = seconds_at(piece, [max(n.start, start_tick) for n in notes])
    ends = seconds_at(piece, [n.end for n in notes])
    first = np.round((starts - origin) / tempo_factor * sample_rate).astype(np.int64)
    last = np.round((ends - origin) / tempo_factor * sample_rate).astype(np.int64)
    events = []
    for note, begin, end in zip(notes, first.tolist(), last.tolist()):
        channel = channels[note.voice]
        events.append((begin, 1, channel, note.pitch, min(127, max(1, note.velocity))))
        events.append((max(end, begin + 1), 0, channel, note.pitch, 0))
    events.sort()
    return events


def _play_events(synth, audio: np.ndarray, events: list[tuple[int, int, int, int, int]],
                 progress: Progress | None = None) -> None:
    """Send the events at their frames, writing the audio between them into ``audio`` [frames, 2] float32, at
    most :data:`CHUNK_FRAMES` frames a call (FluidSynth carries on where the last call stopped, so the audio
    does not depend on the chunks); ``progress`` is called first, then whenever another :data:`CHUNK_FRAMES`
    frames are written, and at the end."""
    library = ctypes.CDLL(_library_path())
    write = library.fluid_synth_write_float
    write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    base = audio.ctypes.data
    position = 0
    frames = audio.shape[0]
    reported = 0
    if progress is not None:
        progress("rendering", 0, frames)
    for frame, on, channel, pitch, velocity in events + [(frames, -1, 0, 0, 0)]:
        frame = min(frame, frames)
        while frame > position:
            step = min(frame - position, CHUNK_FRAMES)
            # left samples at 2 * position, right at 2 * position + 1, each every 2 floats
            write(synth.synth, step, base, 2 * position, 2, base, 2 * position + 1, 2)
            position += step
            if progress is not None and (position - reported >= CHUNK_FRAMES or position == frames):
                progress("rendering", position, frames)
                reported = position
        if on == 1:
            synth.noteon(channel, pitch, velocity)
        elif on == 0:
            synth.noteoff(channel, pitch)


def _library_path() -> str:
    """The FluidSynth library pyfluidsynth loaded."""
    import fluidsynth

    return fluidsynth.lib
