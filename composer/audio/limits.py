"""How long a rendering may be: checked before any audio buffer is allocated.

A MIDI file whose last note is hours away (a stray note, a broken file) must not make Composer allocate
gigabytes: above :data:`MAX_SECONDS` of audio it is refused with a message saying how long it would be.
Ten minutes of 44.1 kHz stereo is about 200 MB of float32 samples (the additive synth mixes in float64,
twice that), and is far longer than the sketches Composer writes.
"""

from __future__ import annotations

from composer.music.notes import Piece

MAX_SECONDS = 600.0   # the longest audio rendered, tail included


class AudioTooLongError(ValueError):
    """The audio would be longer than :data:`MAX_SECONDS`; the message says how long and what the limit is."""


def _minutes(seconds: float) -> str:
    """``3 h 2 min``, ``12 min 5 s`` or ``40 s``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def audio_frames(piece: Piece, sample_rate: int, tempo_factor: float, start_tick: int, tail_seconds: float) -> int:
    """How many frames a rendering has: the piece from ``start_tick`` to its last note, then the tail.

    Args:
        piece: what is rendered.
        sample_rate: samples per second (positive).
        tempo_factor: playback speed (positive).
        start_tick: where the audio starts (>= 0).
        tail_seconds: silence kept after the last note for its release.

    Returns:
        The frame count.

    Raises:
        ValueError: ``tempo_factor`` or ``sample_rate`` not positive, or ``start_tick`` negative.
        AudioTooLongError: the audio would last more than :data:`MAX_SECONDS`.
    """
    if not (tempo_factor > 0 and sample_rate > 0):
        raise ValueError(f"tempo_factor and sample_rate must be positive, got {tempo_factor} and {sample_rate}")
    if start_tick < 0:
        raise ValueError(f"start_tick must be >= 0, got {start_tick}")
    length = max(0.0, piece.seconds(piece.end) - piece.seconds(min(start_tick, piece.end))) / tempo_factor
    if length + tail_seconds > MAX_SECONDS:
        where = f" (its last note ends after {_minutes(length * tempo_factor)})" if tempo_factor != 1 else ""
        raise AudioTooLongError(f"the audio would last {_minutes(length + tail_seconds)}{where}; at most "
                                f"{_minutes(MAX_SECONDS)} is rendered")
    return round(length * sample_rate) + round(tail_seconds * sample_rate)
