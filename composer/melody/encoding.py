"""Notes <-> note-event token ids.

A piece on the grid becomes, per onset time (earliest first) and per note at that onset (by voice, then
pitch)::

    SHIFT_t...  [VOICE_v]  [VEL_b]  PITCH_p  DUR_d...

* ``SHIFT_t`` moves the time cursor forward t grid steps (long gaps chain several);
* ``VOICE_v`` and ``VEL_b`` are written only when the voice or velocity bin changes (and only when the
  encoding has several voices, or velocity);
* ``DUR_d`` tokens after a pitch add up to the note's length (longer than ``max_duration``: several).

With ``durations_advance`` (one melodic line only), DUR tokens also move the cursor to the note's end, so
a SHIFT is written only for a rest: a legato line costs two tokens per note instead of three, which makes
sampling a third faster and lets the model see half as much music again in the same number of steps.

Every sequence starts with BOS and ends with EOS. The encoding is exact: ``decode(encode(p)) == p`` for
every piece on the grid whose pitches, voices and velocities the configuration can hold.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

from composer.core.config import Settings
from composer.music.keys import MINOR_MODES, key_name, parse_key
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice, quantize, to_monophonic

PAD, BOS, EOS = 0, 1, 2


# Bounds on an encoding (the shipped models: 12 steps per beat, SHIFT and DUR tokens up to 48 steps). A model
# file's vocabulary is built from these numbers, and generation keeps a [V, V] grammar mask: 4096 SHIFT and
# 4096 DUR tokens make a vocabulary of about 8,300 and a 70 MB mask; 10^8 of them would take tens of GB.
MAX_TICKS_PER_BEAT = 960
MAX_STEP_TOKENS = 4096


@dataclass(frozen=True)
class EncodingConfig(Settings):
    """What a token sequence can say. Saved inside every model file.

    Attributes:
        ticks_per_beat: grid steps per quarter note (12 holds sixteenths and triplets).
        max_shift: longest single SHIFT token, in steps.
        max_duration: longest single DUR token, in steps.
        num_voices: 1 for one stream of notes; 4 for SATB (adds VOICE tokens).
        velocity_bins: 0 for no velocity (notes get ``default_velocity``), else the number of VEL tokens.
        min_pitch: lowest encodable MIDI pitch.
        max_pitch: highest encodable MIDI pitch.
        monophonic: reduce input to one melodic line before encoding.
        default_velocity: velocity of decoded notes when velocity is not encoded.
        key_tokens: start each sequence with a KEY token (the piece's key, major or minor), so the model
            knows the tonic from the first note and generation can be asked for a key.
        durations_advance: DUR tokens move the time cursor too (SHIFT only for rests); needs
            ``monophonic`` and one voice.
    """

    LABEL = "encoding settings"

    ticks_per_beat: int = 12
    max_shift: int = 48
    max_duration: int = 48
    num_voices: int = 1
    velocity_bins: int = 0
    min_pitch: int = 21
    max_pitch: int = 108
    monophonic: bool = True
    default_velocity: int = 90
    key_tokens: bool = False
    durations_advance: bool = False

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):   # the checks below compare, and Vocabulary counts, with these
            value, kind = getattr(self, field.name), field.type if isinstance(field.type, str) else field.type.__name__
            if kind == "bool" and not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"EncodingConfig: {field.name} must be true or false, got {value!r:.40}")
            if kind == "int" and (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)):
                raise ValueError(f"EncodingConfig: {field.name} must be a whole number, got {value!r:.40}")
        checks = [
            (0 < self.ticks_per_beat <= MAX_TICKS_PER_BEAT, f"ticks_per_beat must be 1..{MAX_TICKS_PER_BEAT}"),
            (0 < self.max_shift <= MAX_STEP_TOKENS, f"max_shift must be 1..{MAX_STEP_TOKENS}"),
            (0 < self.max_duration <= MAX_STEP_TOKENS, f"max_duration must be 1..{MAX_STEP_TOKENS}"),
            (1 <= self.num_voices <= 16, "num_voices must be 1..16"),
            (0 <= self.velocity_bins <= 127, "velocity_bins must be 0..127"),
            (0 <= self.min_pitch <= self.max_pitch <= 127, "need 0 <= min_pitch <= max_pitch <= 127"),
            (1 <= self.default_velocity <= 127, "default_velocity must be 1..127"),
            (not self.durations_advance or (self.monophonic and self.num_voices == 1),
             "durations_advance needs a monophonic encoding with one voice"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"EncodingConfig: {message}")



class Vocabulary:
    """Token ids of an :class:`EncodingConfig`, with lookup tables for fast sampling.

    Attributes:
        names: token name per id (``"PITCH_60"``...).
        shift_steps: int64 [V], the steps each token moves the time cursor (SHIFT tokens, and DUR tokens
            when durations advance; 0 for the others).
    """

    def __init__(self, config: EncodingConfig) -> None:
        self.config = config
        names = ["PAD", "BOS", "EOS"]
        self.key_offset = len(names)
        if config.key_tokens:
            names += [f"KEY_{key_name(t, 'major')}" for t in range(12)]
            names += [f"KEY_{key_name(t, 'minor')}" for t in range(12)]
        self.shift_offset = len(names)
        names += [f"SHIFT_{t}" for t in range(1, config.max_shift + 1)]
        self.voice_offset = len(names)
        names += [f"VOICE_{v}" for v in range(config.num_voices)] if config.num_voices > 1 else []
        self.velocity_offset = len(names)
        names += [f"VEL_{b}" for b in range(config.velocity_bins)]
        self.pitch_offset = len(names)
        names += [f"PITCH_{p}" for p in range(config.min_pitch, config.max_pitch + 1)]
        self.duration_offset = len(names)
        names += [f"DUR_{d}" for d in range(1, config.max_duration + 1)]
        self.names = names
        self.shift_steps = np.zeros(len(names), dtype=np.int64)
        self.shift_steps[self.shift_offset:self.voice_offset] = np.arange(1, config.max_shift + 1)
        if config.durations_advance:
            self.shift_steps[self.duration_offset:] = np.arange(1, config.max_duration + 1)

    def __len__(self) -> int:
        return len(self.names)

    # -- token classes ------------------------------------------------------------------------
    def shift(self, steps: int) -> int:
        return self.shift_offset + steps - 1

    def key(self, name: str) -> int:
        """The KEY token of a key name; church modes map to the major or minor of the same tonic.

        Raises:
            ValueError: the encoding has no key tokens, or the name is not a key.
        """
        if not self.config.key_tokens:
            raise ValueError("this encoding has no key tokens")
        tonic, mode = parse_key(name)
        minor = mode in MINOR_MODES
        return self.key_offset + 12 * minor + tonic

    def key_of(self, token: int) -> str | None:
        """The key name of a KEY token, or None for another token."""
        if not self.key_offset <= token < self.shift_offset:
            return None
        index = token - self.key_offset
        return key_name(index % 12, "minor" if index >= 12 else "major")

    def voice(self, v: int) -> int:
        return self.voice_offset + v

    def velocity(self, b: int) -> int:
        return self.velocity_offset + b

    def pitch(self, p: int) -> int:
        return self.pitch_offset + p - self.config.min_pitch

    def duration(self, d: int) -> int:
        return self.duration_offset + d - 1

    def kind(self, token: int) -> str:
        """One of PAD, BOS, EOS, KEY, SHIFT, VOICE, VEL, PITCH, DUR."""
        return self.names[token].split("_")[0]

    @property
    def pitch_ids(self) -> range:
        return range(self.pitch_offset, self.duration_offset)

    # -- velocity bins ----------------------------------------------------------------------
    def velocity_bin(self, velocity: int) -> int:
        bins = self.config.velocity_bins
        return min(bins - 1, (velocity - 1) * bins // 127)

    def bin_velocity(self, b: int) -> int:
        """The velocity a bin decodes to (the middle of its range, so it falls back into the bin)."""
        bins = self.config.velocity_bins
        low = -(-b * 127 // bins) + 1
        high = -(-(b + 1) * 127 // bins)
        return (low + high) // 2

    def grammar_mask(self) -> np.ndarray:
        """bool [V, V]: ``mask[prev, next]`` says whether ``next`` may follow ``prev``.

        Sampling under this mask always gives a sequence that :meth:`decode` reads in full, and for a
        monophonic encoding, at most one note per onset.
        """
        size = len(self)
        shifts = range(self.shift_offset, self.voice_offset)
        voices = range(self.voice_offset, self.velocity_offset)
        velocities = range(self.velocity_offset, self.pitch_offset)
        pitches = self.pitch_ids
        durations = range(self.duration_offset, size)
        between_notes = [EOS, *shifts, *voices, *velocities, *pitches]
        keys = range(self.key_offset, self.shift_offset)
        mask = np.zeros((size, size), dtype=bool)
        for prev in [BOS, *shifts, *keys]:
            mask[prev, between_notes] = True
        if self.config.key_tokens:  # the key comes first, and only there
            mask[BOS, :] = False
            mask[BOS, list(keys)] = True
        # a monophonic line has one note per onset: after a note, time must move on (or the piece end);
        # when durations advance, the note's own length has moved it on already
        after_note = [EOS, *shifts] if self.config.monophonic and not self.config.durations_advance \
            else between_notes
        for prev in durations:
            mask[prev, after_note] = True
        for prev in voices:
            mask[prev, [*velocities, *pitches]] = True
        for prev in velocities:
            mask[prev, list(pitches)] = True
        for prev in pitches:
            mask[prev, list(durations)] = True
        mask[self.duration(self.config.max_duration), list(durations)] = True  # long notes chain DURs
        mask[EOS, PAD] = True
        mask[PAD, PAD] = True
        return mask

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "tokens": list(self.names)}

    @classmethod
    def from_dict(cls, values: dict) -> Vocabulary:
        """Rebuild a vocabulary saved by :meth:`to_dict`, checking the token list matches.

        Raises:
            ValueError: not a dict with a ``config`` dict (and a ``tokens`` list), settings out of range, or saved
                tokens that differ from what this version of Composer builds.
        """
        if not isinstance(values, dict) or not isinstance(values.get("config"), dict):
            raise ValueError("a saved vocabulary is a dict with its encoding settings as a dict under 'config'")
        tokens = values.get("tokens")
        if tokens is not None and not isinstance(tokens, (list, tuple)):
            raise ValueError(f"the saved vocabulary's tokens are a {type(tokens).__name__}, not a list")
        vocab = cls(EncodingConfig.from_dict(values["config"]))   # bounded: at most ~8,300 tokens
        if tokens is not None and list(tokens) != vocab.names:
            raise ValueError("the saved vocabulary does not match its encoding settings")
        return vocab


# -- piece -> ids -------------------------------------------------------------------------------
def prepare(piece: Piece, config: EncodingConfig) -> Piece:
    """Make a piece encodable: quantize to the grid, reduce to one line if monophonic, fold pitches
    outside the range into it by octaves, and drop voices the encoding cannot hold.

    Args:
        piece: any piece.
        config: the encoding it must fit.

    Returns:
        A new piece that :func:`encode` accepts.
    """
    if piece.ticks_per_beat != config.ticks_per_beat:
        piece = quantize(piece, config.ticks_per_beat)
    if config.monophonic:
        piece = to_monophonic(piece)
    notes = []
    for n in piece.notes:
        if n.voice >= config.num_voices:
            continue
        pitch = n.pitch
        while pitch < config.min_pitch:
            pitch += 12
        while pitch > config.max_pitch:
            pitch -= 12
        if config.min_pitch <= pitch <= config.max_pitch:
            notes.append(dataclasses.replace(n, pitch=pitch))
    voices = piece.voices[: config.num_voices]
    return piece.replace(notes=tuple(notes), voices=voices)


def encode(piece: Piece, vocab: Vocabulary) -> np.ndarray:
    """Token ids of a piece (see the module docstring).

    Args:
        piece: a piece on the vocabulary's grid, its notes within the pitch range and voices.

    Returns:
        int64 [T]: BOS, events, EOS.

    Raises:
        ValueError: the piece is on another grid, a note does not fit the vocabulary, or (when durations
            advance) two notes overlap.
    """
    config = vocab.config
    if piece.ticks_per_beat != config.ticks_per_beat:
        raise ValueError(f"piece is at {piece.ticks_per_beat} ticks per beat, the encoding at "
                         f"{config.ticks_per_beat}: quantize it first (encoding.prepare)")
    ids = [BOS]
    if config.key_tokens:
        ids.append(vocab.key(piece_key(piece)))
    cursor, voice, velocity_bin = 0, 0, _default_bin(vocab)
    for n in piece.notes:
        if not config.min_pitch <= n.pitch <= config.max_pitch:
            raise ValueError(f"pitch {n.pitch} is outside {config.min_pitch}..{config.max_pitch}")
        if n.voice >= config.num_voices:
            raise ValueError(f"voice {n.voice} is beyond the encoding's {config.num_voices} voices")
        gap = n.start - cursor
        if gap < 0:  # only possible when durations advance: the previous note is still sounding
            raise ValueError(f"the note at tick {n.start} starts before the previous one ends (tick {cursor}); "
                             f"with durations_advance the notes must form one line (see encoding.prepare)")
        while gap > 0:
            step = min(gap, config.max_shift)
            ids.append(vocab.shift(step))
            gap -= step
        cursor = n.start
        if config.num_voices > 1 and n.voice != voice:
            ids.append(vocab.voice(n.voice))
            voice = n.voice
        if config.velocity_bins:
            b = vocab.velocity_bin(n.velocity)
            if b != velocity_bin:
                ids.append(vocab.velocity(b))
                velocity_bin = b
        ids.append(vocab.pitch(n.pitch))
        length = n.end - n.start
        while length > 0:
            step = min(length, config.max_duration)
            ids.append(vocab.duration(step))
            length -= step
        if config.durations_advance:
            cursor = n.end
    ids.append(EOS)
    return np.asarray(ids, dtype=np.int64)


def piece_key(piece: Piece) -> str:
    """The key a piece is encoded in: its own key if it names one, else the estimated key (its final as the
    tonic where the tune keeps to a scale on it, :func:`composer.music.analysis.estimate_tune_key`), else C."""
    if piece.key:
        try:
            parse_key(piece.key)
            return piece.key
        except ValueError:
            pass
    from composer.music.analysis import estimate_tune_key

    estimate = estimate_tune_key(piece)
    return estimate.key if estimate else "C"


def _default_bin(vocab: Vocabulary) -> int:
    return vocab.velocity_bin(vocab.config.default_velocity) if vocab.config.velocity_bins else 0


# -- ids -> piece ----------------------------------------------------------------------------
def decode(ids, vocab: Vocabulary, qpm: float = 120.0, time_signature: tuple[int, int] = (4, 4),
           voices: tuple[Voice, ...] | None = None, key: str | None = None, name: str = "") -> Piece:
    """The piece a token sequence describes.

    Reading stops at EOS; PAD and BOS are skipped; a pitch with no duration after it is dropped. Every
    token sequence decodes to some piece, so sampled output never fails here.

    Args:
        ids: token ids (any int sequence or array).
        vocab: the vocabulary they come from.
        qpm, time_signature, voices, key, name: facts about the piece the tokens do not hold.

    Returns:
        The piece on the vocabulary's grid.
    """
    config = vocab.config
    notes: list[Note] = []
    cursor, voice, velocity_bin = 0, 0, _default_bin(vocab)
    pending_pitch, pending_length, onset = None, 0, 0

    def flush() -> None:
        nonlocal pending_pitch, pending_length
        if pending_pitch is not None and pending_length > 0:
            velocity = vocab.bin_velocity(velocity_bin) if config.velocity_bins else config.default_velocity
            notes.append(Note(onset, onset + pending_length, pending_pitch, velocity, voice))
        pending_pitch, pending_length = None, 0

    for token in (int(t) for t in ids):
        if token == EOS:
            break
        if vocab.key_offset <= token < vocab.shift_offset:
            key = key or vocab.key_of(token)
            continue
        if token < vocab.shift_offset or token >= len(vocab):
            continue
        if token >= vocab.duration_offset:
            if pending_pitch is not None:
                pending_length += token - vocab.duration_offset + 1
            cursor += int(vocab.shift_steps[token])                    # when durations advance
            continue
        flush()
        if token >= vocab.pitch_offset:
            pending_pitch, onset = token - vocab.pitch_offset + config.min_pitch, cursor
        elif token >= vocab.velocity_offset:
            velocity_bin = token - vocab.velocity_offset
        elif token >= vocab.voice_offset:
            voice = token - vocab.voice_offset
        else:
            cursor += int(vocab.shift_steps[token])
    flush()
    if voices is None:
        voices = tuple(Voice(f"Voice {v + 1}") for v in range(config.num_voices)) if config.num_voices > 1 \
            else (Voice("Melody" if config.monophonic else "Music"),)
    return Piece(notes=tuple(notes), ticks_per_beat=config.ticks_per_beat, voices=voices,
                 tempos=(TempoChange(0, qpm),), time_signatures=(TimeSignature(0, *time_signature),),
                 key=key, name=name)


# -- token-level transforms used in training ------------------------------------------------------
def pitch_span(ids: np.ndarray, vocab: Vocabulary) -> tuple[int, int] | None:
    """(lowest, highest) MIDI pitch in a token sequence, or None if it has no pitch."""
    mask = (ids >= vocab.pitch_offset) & (ids < vocab.duration_offset)
    if not mask.any():
        return None
    values = ids[mask] - vocab.pitch_offset + vocab.config.min_pitch
    return int(values.min()), int(values.max())


def transpose_ids(ids: np.ndarray, semitones: int, vocab: Vocabulary) -> np.ndarray:
    """A copy of ``ids`` with every pitch moved by ``semitones`` (the caller keeps them in range)."""
    out = ids.copy()
    mask = (ids >= vocab.pitch_offset) & (ids < vocab.duration_offset)
    out[mask] += semitones
    keys = (ids >= vocab.key_offset) & (ids < vocab.shift_offset)
    if keys.any():
        index = ids[keys] - vocab.key_offset
        out[keys] = vocab.key_offset + 12 * (index // 12) + (index % 12 + semitones) % 12
    return out
