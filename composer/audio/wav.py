"""Float audio to 16-bit PCM, and WAV files written atomically (a crash never leaves half a file)."""

from __future__ import annotations

import os
import wave

import numpy as np

from composer.core.atomic import write_atomically

SAMPLE_RATE = 44100   # samples per second of everything Composer renders, unless a caller asks otherwise
CHANNELS = 2          # rendered audio is always stereo


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples [frames, channels] in [-1, 1] as interleaved little-endian 16-bit PCM bytes."""
    clipped = np.clip(samples, -1.0, 1.0)
    return np.round(clipped * 32767.0).astype("<i2").tobytes()


def write_wav(samples: np.ndarray, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> None:
    """Write float samples [frames, 2] in [-1, 1] as a 16-bit PCM stereo WAV file, atomically.

    Args:
        samples: float [frames, 2] audio.
        path: the .wav file; its folder is created if missing.
        sample_rate: samples per second.

    Raises:
        OSError: the file cannot be written.
    """
    pcm = to_pcm16(samples)

    def write(handle) -> None:
        with wave.open(handle, "wb") as out:
            out.setnchannels(CHANNELS)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm)

    write_atomically(path, write)
