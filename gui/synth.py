"""The app's synthesizer: a thin layer over :mod:`composer.audio`, the renderer the command line uses too.

Playback (:class:`gui.playback.Player`) plays what :func:`render` returns and Export WAV calls
:func:`export_wav`: both through the General MIDI SoundFont (one instrument per voice, the voices' own
programs) when it can be loaded, else through the additive synth. The time map (:func:`seconds_at`,
:func:`tick_at_seconds`) is shared with playback, so the playhead and the sound agree. No Qt in here.
"""

from __future__ import annotations

import os

import numpy as np

from composer import audio
from composer.audio.additive import RELEASE_TAIL_SECONDS
from composer.audio.timemap import seconds_at, tick_at_seconds
from composer.audio.wav import SAMPLE_RATE, to_pcm16, write_wav
from composer.music.notes import Piece

__all__ = ["RELEASE_TAIL_SECONDS", "SAMPLE_RATE", "export_wav", "render", "seconds_at", "tick_at_seconds",
           "to_pcm16", "write_wav"]


def render(piece: Piece, sample_rate: int = SAMPLE_RATE, tempo_factor: float = 1.0,
           start_tick: int = 0) -> np.ndarray:
    """Render a piece to stereo audio (see :func:`composer.audio.render`).

    Args:
        piece: what to play.
        sample_rate: samples per second.
        tempo_factor: playback speed (2.0 plays twice as fast; pitch is unchanged).
        start_tick: where the audio starts; notes still sounding there start at once.

    Returns:
        float32 [frames, 2] in [-1, 1]: the piece from ``start_tick`` to its end, then the release tail.

    Raises:
        ValueError: bad arguments, or a piece longer than :data:`composer.audio.MAX_SECONDS`.
    """
    return audio.render(piece, sample_rate, tempo_factor, start_tick).samples


def export_wav(piece: Piece, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> None:
    """Render a piece and write it as a 16-bit PCM stereo WAV file, atomically (see
    :func:`composer.audio.export_wav`).

    Args:
        piece: what to render.
        path: the .wav file; its folder is created if missing. A crash never leaves half a file.
        sample_rate: samples per second.

    Raises:
        OSError: the file cannot be written.
        ValueError: see :func:`render`.
    """
    audio.export_wav(piece, path, sample_rate)
