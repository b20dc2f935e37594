"""The additive synthesizer: a :class:`~composer.music.notes.Piece` to stereo audio with no SoundFont.

It is the fallback of :mod:`composer.audio` when no SoundFont can be loaded. Each note is a sum of harmonics
shaped by an ADSR envelope; the timbre follows
the voice's General MIDI program family (piano, organ, choir, bass, strings, winds, plucked, drums), and
SATB-named voices (Soprano, Alto, Tenor, Bass) get a soft organ/choir blend. Velocity sets the gain
(a curve, not linear), each voice gets its own place in the stereo field, and the mix keeps headroom:
it is only scaled down, to a -1 dBFS peak, when it would be louder than that. Work is done with numpy,
one vector operation per harmonic of each note, so 16 bars of four voices render in well under a second.

The time map (:func:`seconds_at`, :func:`tick_at_seconds`) is :mod:`composer.audio.timemap`'s and WAV
writing is :mod:`composer.audio.wav`'s; both are importable from here too.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from composer.audio.limits import audio_frames
from composer.audio.timemap import seconds_at, tick_at_seconds
from composer.audio.wav import SAMPLE_RATE, to_pcm16, write_wav
from composer.music.notes import Note, Piece, Voice

__all__ = [
    "PEAK_CEILING",
    "RELEASE_TAIL_SECONDS",
    "SAMPLE_RATE",
    "Timbre",
    "envelope",
    "export_wav",
    "note_wave",
    "pan_gains",
    "render",
    "seconds_at",
    "tick_at_seconds",
    "timbre_for",
    "to_pcm16",
    "velocity_gain",
    "write_wav",
]

RELEASE_TAIL_SECONDS = 0.4   # silence rendered after the last note ends, long enough for every release
PEAK_CEILING = 10 ** (-1 / 20)  # -1 dBFS: the loudest a rendered mix may be
NOTE_GAIN = 0.5              # gain of one note at full velocity, before the mix is checked for headroom
_CACHE_LIMIT = 512           # distinct (timbre, pitch, velocity, length) notes kept per render
PROGRESS_FRAMES = 1 << 15    # audio between two progress reports (0.74 s at 44.1 kHz)

Progress = Callable[[str, int, int], None]   # progress("rendering", frames done, frames)


@dataclass(frozen=True)
class Timbre:
    """How one family of instruments sounds.

    Attributes:
        name: a label (for tests and debugging).
        partials: relative amplitudes of harmonics 1, 2, 3, ...
        attack: seconds from silence to full level.
        decay: seconds (time constant) from full level towards ``sustain``.
        sustain: level held while the note is down (0 gives a piano-like fade).
        release: seconds from the note's end to silence.
        brightness_decay: extra fade per second of harmonic k, times k (upper partials die first).
        vibrato_hz: vibrato rate (0: none).
        vibrato_depth: vibrato depth as a fraction of the frequency.
        detune_cents: a second, detuned oscillator (chorus) when non-zero.
        noise: a noise burst instead of a pitched tone (drums).
    """

    name: str
    partials: tuple[float, ...]
    attack: float
    decay: float
    sustain: float
    release: float
    brightness_decay: float = 0.0
    vibrato_hz: float = 0.0
    vibrato_depth: float = 0.0
    detune_cents: float = 0.0
    noise: bool = False


PIANO = Timbre("piano", (1.0, 0.55, 0.3, 0.22, 0.12, 0.08, 0.05, 0.03), attack=0.004, decay=1.6, sustain=0.0,
               release=0.12, brightness_decay=0.9)
PLUCK = Timbre("pluck", (1.0, 0.6, 0.35, 0.2, 0.1, 0.05), attack=0.003, decay=0.7, sustain=0.0, release=0.08,
               brightness_decay=2.0)
ORGAN = Timbre("organ", (1.0, 0.7, 0.45, 0.3, 0.0, 0.2, 0.0, 0.12), attack=0.02, decay=0.1, sustain=1.0,
               release=0.06)
CHORALE = Timbre("chorale", (1.0, 0.5, 0.35, 0.2, 0.12, 0.06), attack=0.06, decay=0.3, sustain=0.85,
                 release=0.16, vibrato_hz=5.0, vibrato_depth=0.002, detune_cents=5.0)
CHOIR = Timbre("choir", (1.0, 0.35, 0.45, 0.2, 0.1, 0.05), attack=0.1, decay=0.4, sustain=0.8, release=0.2,
               vibrato_hz=5.5, vibrato_depth=0.003, detune_cents=7.0)
BASS = Timbre("bass", (1.0, 0.45, 0.18, 0.08), attack=0.008, decay=0.35, sustain=0.6, release=0.08,
              brightness_decay=1.5)
STRINGS = Timbre("strings", tuple(1.0 / k for k in range(1, 11)), attack=0.12, decay=0.3, sustain=0.85,
                 release=0.25, vibrato_hz=5.5, vibrato_depth=0.003, detune_cents=6.0)
LEAD = Timbre("lead", (1.0, 0.3, 0.15, 0.08, 0.04), attack=0.035, decay=0.2, sustain=0.8, release=0.1,
              vibrato_hz=5.0, vibrato_depth=0.002)
DRUM = Timbre("drum", (1.0,), attack=0.001, decay=0.12, sustain=0.0, release=0.05, noise=True)

_SATB_WORDS = ("soprano", "alto", "tenor", "bass", "choir", "chorale", "satb")


def timbre_for(voice: Voice) -> Timbre:
    """The timbre of a voice: by General MIDI program family; SATB-named voices on program 0 get
    the organ/choir blend.

    Args:
        voice: the piece's voice (name, program, drum flag).

    Returns:
        One of the module's timbres.
    """
    if voice.is_drum:
        return DRUM
    program = voice.program
    if program == 0 and any(word in voice.name.lower() for word in _SATB_WORDS):
        return CHORALE
    families = ((8, PIANO), (16, PLUCK), (24, ORGAN), (32, PLUCK), (40, BASS), (52, STRINGS), (55, CHOIR),
                (56, STRINGS), (80, LEAD), (88, LEAD), (104, STRINGS), (128, PLUCK))
    return next(timbre for limit, timbre in families if program < limit)


# -- rendering ---------------------------------------------------------------------------------------
def velocity_gain(velocity: int) -> float:
    """Gain of a MIDI velocity 1..127: a curve, so soft notes are clearly softer (about -18 dB at 32)."""
    return (min(127, max(1, velocity)) / 127.0) ** 1.5


def pan_gains(voice: int, voice_count: int) -> tuple[float, float]:
    """Constant-power (left, right) gains that spread the voices from left to right, within +-0.6."""
    position = 0.0 if voice_count <= 1 else -0.6 + 1.2 * voice / (voice_count - 1)  # -1 left .. 1 right
    angle = (position + 1) * math.pi / 4
    return math.cos(angle), math.sin(angle)


def envelope(timbre: Timbre, hold: int, sample_rate: int) -> np.ndarray:
    """The ADSR envelope of one note: ``hold`` samples with the key down, then the release.

    Returns:
        float64 [hold + release samples], starting and ending at 0 (no clicks).
    """
    release = max(1, int(round(timbre.release * sample_rate)))
    t = np.arange(hold, dtype=np.float64) / sample_rate
    attack = max(timbre.attack, 1.0 / sample_rate)
    after_attack = np.maximum(t - attack, 0.0)
    level = timbre.sustain + (1.0 - timbre.sustain) * np.exp(-after_attack / timbre.decay)
    held = np.minimum(t / attack, 1.0) * level
    last = held[-1] if hold else 0.0
    fade = last * (1.0 - np.arange(1, release + 1, dtype=np.float64) / release) ** 2
    return np.concatenate([held, fade])


def note_wave(timbre: Timbre, pitch: int, hold: int, sample_rate: int) -> np.ndarray:
    """One note at full gain: harmonics (or noise for drums) times the envelope.

    Args:
        timbre: how it sounds.
        pitch: MIDI pitch (69 = A4 = 440 Hz).
        hold: samples with the key down (the release follows).
        sample_rate: samples per second.

    Returns:
        float64 [hold + release samples], peak at most 1.
    """
    env = envelope(timbre, hold, sample_rate)
    t = np.arange(env.size, dtype=np.float64) / sample_rate
    if timbre.noise:
        rng = np.random.default_rng(pitch)  # the same drum sounds the same every time
        decay = np.exp(-t / (0.03 + 0.002 * (pitch % 24)))
        return rng.uniform(-1.0, 1.0, env.size) * decay * env
    frequency = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    signal = _harmonics(timbre, frequency, t, sample_rate)
    if timbre.detune_cents:
        signal = 0.5 * (signal + _harmonics(timbre, frequency * 2 ** (timbre.detune_cents / 1200), t,
                                             sample_rate))
    return signal * env


def _harmonics(timbre: Timbre, frequency: float, t: np.ndarray, sample_rate: int) -> np.ndarray:
    """Sum of the timbre's harmonics below 0.45 * sample_rate, normalised so the peak is at most 1."""
    phase = 2 * np.pi * frequency * t
    if timbre.vibrato_hz:
        rate = timbre.vibrato_hz
        phase = phase + frequency * timbre.vibrato_depth / rate * (1 - np.cos(2 * np.pi * rate * t))
    total = np.zeros_like(t)
    weight = 0.0
    sine, previous = np.sin(phase), np.zeros_like(t)  # sin(k * phase) and sin((k - 1) * phase)
    twice_cosine = 2.0 * np.cos(phase)
    fade = np.exp(-timbre.brightness_decay * t) if timbre.brightness_decay else None  # per harmonic step
    fading = None  # fade ** (k - 1)
    for k, amplitude in enumerate(timbre.partials, start=1):
        if k * frequency >= 0.45 * sample_rate:
            break
        if amplitude:
            total += amplitude * sine if fading is None else amplitude * sine * fading
            weight += amplitude
        sine, previous = twice_cosine * sine - previous, sine  # sin((k+1)x) = 2 cos x sin(kx) - sin((k-1)x)
        if fade is not None:
            fading = fade if fading is None else fading * fade
    return total / weight if weight else total


def render(piece: Piece, sample_rate: int = SAMPLE_RATE, tempo_factor: float = 1.0,
           start_tick: int = 0, progress: Progress | None = None) -> np.ndarray:
    """Render a piece to stereo audio.

    Args:
        piece: what to play; notes of every voice, with the piece's tempo map.
        sample_rate: samples per second.
        tempo_factor: playback speed (2.0 plays twice as fast; pitch is unchanged).
        start_tick: where the audio starts; notes still sounding there start at once.
        progress: called as ``progress("rendering", frames done, frames)`` first, as the notes are mixed in
            (the frame where the latest one starts, about every :data:`PROGRESS_FRAMES`) and at the end.

    Returns:
        float32 [frames, 2] in [-1, 1]: the piece from ``start_tick`` to its end, then
        :data:`RELEASE_TAIL_SECONDS` for the last releases. Silence is exactly 0.

    Raises:
        ValueError: ``tempo_factor`` or ``sample_rate`` not positive, or ``start_tick`` negative.
        composer.audio.limits.AudioTooLongError: longer than :data:`composer.audio.limits.MAX_SECONDS`.
    """
    frames = audio_frames(piece, sample_rate, tempo_factor, start_tick, RELEASE_TAIL_SECONDS)
    origin = float(seconds_at(piece, [start_tick])[0])
    mix = np.zeros((frames, 2), dtype=np.float64)
    notes = [n for n in piece.notes if n.end > start_tick]
    if progress is not None:
        progress("rendering", 0, frames)
    if notes:
        _mix_notes(mix, piece, notes, origin, tempo_factor, sample_rate, start_tick, progress)
    if progress is not None:
        progress("rendering", frames, frames)
    peak = float(np.abs(mix).max()) if frames else 0.0
    if peak > PEAK_CEILING:
        mix *= PEAK_CEILING / peak
    return mix.astype(np.float32)


def _mix_notes(mix: np.ndarray, piece: Piece, notes: list[Note], origin: float, tempo_factor: float,
               sample_rate: int, start_tick: int, progress: Progress | None = None) -> None:
    """Add every note into ``mix`` [frames, 2] in place (``notes`` in order of start; ``progress``: see
    :func:`render`)."""
    starts = seconds_at(piece, [max(n.start, start_tick) for n in notes])
    ends = seconds_at(piece, [n.end for n in notes])
    first = np.round((starts - origin) / tempo_factor * sample_rate).astype(np.int64)
    last = np.round((ends - origin) / tempo_factor * sample_rate).astype(np.int64)
    voice_count = max(len(piece.voices), 1 + max(n.voice for n in notes))
    timbres = [timbre_for(piece.voices[v]) if v < len(piece.voices) else PIANO for v in range(voice_count)]
    pans = [pan_gains(v, voice_count) for v in range(voice_count)]
    cache: dict[tuple, np.ndarray] = {}
    reported = 0
    for note, begin, end in zip(notes, first, last):
        if progress is not None and begin - reported >= PROGRESS_FRAMES and begin < mix.shape[0]:
            progress("rendering", int(begin), mix.shape[0])
            reported = int(begin)
        hold = max(1, int(end - begin))
        key = (note.voice, note.pitch, hold)
        wave_ = cache.get(key)
        if wave_ is None:
            wave_ = note_wave(timbres[note.voice], note.pitch, hold, sample_rate)
            if len(cache) < _CACHE_LIMIT:
                cache[key] = wave_
        stop = min(mix.shape[0], begin + wave_.size)
        if stop <= begin:
            continue
        gain = NOTE_GAIN * velocity_gain(note.velocity)
        left, right = pans[note.voice]
        segment = wave_[:stop - begin] * gain
        mix[begin:stop, 0] += segment * left
        mix[begin:stop, 1] += segment * right


# -- WAV -----------------------------------------------------------------------------------------------
def export_wav(piece: Piece, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> None:
    """Render a piece and write it as a 16-bit PCM stereo WAV file, atomically.

    Args:
        piece: what to render (see :func:`render`).
        path: the .wav file; its folder is created if missing. A crash never leaves half a file.
        sample_rate: samples per second.

    Raises:
        OSError: the file cannot be written.
        ValueError: see :func:`render`.
    """
    write_wav(render(piece, sample_rate), path, sample_rate)
