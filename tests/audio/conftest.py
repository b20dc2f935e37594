"""Shared pieces of the audio tests: real bundled music, the real SoundFont, and a WAV reader that is not ours."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from composer.audio.soundfont import SoundFontError, default_soundfont_path, fluidsynth_module
from composer.music.midi_io import read_midi
from composer.music.notes import Note, Piece, TempoChange, Voice, crop
from composer.shipped import CHORALES

CHORALE = CHORALES / "bwv10.7.mid"   # four parts, Soprano/Alto/Tenor/Bass, 44 s


def fluidsynth_missing() -> str:
    """Why the SoundFont synthesizer cannot run here ("" when it can)."""
    if default_soundfont_path() is None:
        return "pretty_midi's TimGM6mb.sf2 is not installed"
    try:
        fluidsynth_module()
    except SoundFontError as error:
        return str(error)
    return ""


needs_fluidsynth = pytest.mark.skipif(bool(fluidsynth_missing()), reason=fluidsynth_missing() or "-")


def chorale(bars: int = 4) -> Piece:
    """The first ``bars`` bars of a real Bach chorale."""
    piece = read_midi(CHORALE)
    return crop(piece, 0, min(piece.end, bars * piece.ticks_per_bar))


def melody(program: int = 0, notes=((0, 4, 69),), qpm: float = 120.0, drum: bool = False) -> Piece:
    """One voice on a 4-ticks-per-beat grid: (start, end, pitch) triples."""
    return Piece(tuple(Note(s, e, p, 100) for s, e, p in notes), 4, voices=(Voice("Tune", program, drum),),
                 tempos=(TempoChange(0, qpm),))


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, float [frames, channels]) read with Python's own ``wave`` module."""
    with wave.open(str(path), "rb") as handle:
        assert handle.getsampwidth() == 2
        rate, channels = handle.getframerate(), handle.getnchannels()
        data = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return rate, data.reshape(-1, channels).astype(np.float64) / 32767.0


def expected_frames(piece: Piece, rate: int, tail: float = 0.4) -> int:
    """The documented length: the music (to its last note) plus the 0.4 s release tail."""
    return round(piece.seconds(piece.end) * rate) + round(tail * rate)
