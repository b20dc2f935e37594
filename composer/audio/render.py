"""The one renderer of Composer: a piece to stereo audio, through a SoundFont when one can be used.

The CLI (``composer render``, ``--wav``) and the app (playback and Export WAV) both call :func:`render` and
:func:`export_wav`. With ``soundfont=AUTO`` (the default) the General MIDI SoundFont that comes with
pretty_midi is played through FluidSynth (:mod:`composer.audio.soundfont`); when it cannot be loaded (no
FluidSynth library, no SoundFont file) the additive synth (:mod:`composer.audio.additive`) renders instead
and :attr:`Rendering.note` says why. A SoundFont the caller names must work: its failure is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer.audio import additive
from composer.audio.programs import with_programs
from composer.audio.soundfont import (Progress, SoundFontError, check_soundfont, default_soundfont_path,
                                      fluidsynth_module, render_soundfont)
from composer.audio.wav import SAMPLE_RATE, write_wav
from composer.music.notes import Piece

AUTO = "auto"   # soundfont=AUTO: the default SoundFont, else the additive synth
SOUNDFONT = "soundfont"
ADDITIVE = "additive"


@dataclass(frozen=True)
class Rendering:
    """Rendered audio and how it was made.

    Attributes:
        samples: float32 [frames, 2] in [-1, 1].
        sample_rate: samples per second.
        engine: :data:`SOUNDFONT` or :data:`ADDITIVE`.
        soundfont: the SoundFont played, or None.
        note: why the additive synth was used although a SoundFont was wanted ("" otherwise).
    """

    samples: np.ndarray
    sample_rate: int
    engine: str
    soundfont: Path | None = None
    note: str = ""

    @property
    def seconds(self) -> float:
        return self.samples.shape[0] / self.sample_rate


def render(piece: Piece, sample_rate: int = SAMPLE_RATE, tempo_factor: float = 1.0, start_tick: int = 0,
           soundfont: str | os.PathLike | None = AUTO, programs: dict[int, int] | None = None,
           progress: Progress | None = None) -> Rendering:
    """Render a piece to stereo audio.

    Args:
        piece: what to play.
        sample_rate: samples per second.
        tempo_factor: playback speed (2.0 plays twice as fast; pitch is unchanged).
        start_tick: where the audio starts; notes still sounding there start at once.
        soundfont: :data:`AUTO` (the default SoundFont, or the additive synth when it cannot be used), a
            SoundFont file (it must work), or None (the additive synth).
        programs: General MIDI program by voice index, overriding the voices' own (both synths follow it).
        progress: called as ``progress("rendering", frames done, frames)`` first, every second or so of audio
            and at the end, by either synth (the audio is the same with or without it).

    Returns:
        The audio and the engine that made it.

    Raises:
        SoundFontError: a named SoundFont cannot be used.
        ValueError: bad ``tempo_factor``, ``sample_rate`` or ``start_tick``; or
            :class:`~composer.audio.limits.AudioTooLongError` (raised before any audio is allocated).
    """
    note = ""
    if soundfont is not None:
        try:
            font = _soundfont(soundfont)
            samples = render_soundfont(piece, font, sample_rate, tempo_factor, start_tick, programs, progress)
            return Rendering(samples, sample_rate, SOUNDFONT, font.path)
        except SoundFontError as error:
            if soundfont != AUTO:
                raise
            note = f"no SoundFont synthesizer: {error}; the additive synth renders instead"
    samples = additive.render(with_programs(piece, programs), sample_rate, tempo_factor, start_tick, progress)
    return Rendering(samples, sample_rate, ADDITIVE, None, note)


def _soundfont(soundfont: str | os.PathLike):
    """The checked SoundFont for ``soundfont`` (:data:`AUTO`: the default one), FluidSynth loaded.

    Raises:
        SoundFontError: no default SoundFont, a bad file, or no FluidSynth.
    """
    if soundfont == AUTO:
        path = default_soundfont_path()
        if path is None:
            raise SoundFontError("pretty_midi's TimGM6mb.sf2 is not installed")
    else:
        path = Path(soundfont)
    font = check_soundfont(path)
    fluidsynth_module()
    return font


def export_wav(piece: Piece, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE,
               soundfont: str | os.PathLike | None = AUTO, programs: dict[int, int] | None = None,
               progress: Progress | None = None) -> Rendering:
    """Render a piece (see :func:`render`) and write it as a 16-bit PCM stereo WAV file, atomically.

    Args:
        piece: what to render.
        path: the .wav file; its folder is created if missing. A crash never leaves half a file.
        sample_rate: samples per second.
        soundfont: as in :func:`render`.
        programs: as in :func:`render`.
        progress: as in :func:`render`.

    Returns:
        The rendering that was written.

    Raises:
        OSError: the file cannot be written.
        SoundFontError: a named SoundFont cannot be used.
        ValueError: see :func:`render`.
    """
    rendering = render(piece, sample_rate, soundfont=soundfont, programs=programs, progress=progress)
    write_wav(rendering.samples, path, sample_rate)
    return rendering
