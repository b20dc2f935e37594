"""Four-part writing with a harmony model: harmonize a melody, regenerate a region, write a chorale.

All three are one operation: some cells of the SATB frame grid are given, the rest are drawn frame by
frame (soprano, alto, tenor, bass in turn) by the model, which sees every given cell, before and after
(see :mod:`composer.harmony_model`). Given cells are never changed.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from composer import checkpoint as ckpt
from composer.harmony_model import HarmonyConfig, HarmonyNet
from composer.harmony_train import HARMONY_KIND
from composer.notes import Note, Piece, TempoChange, TimeSignature, Voice
from composer.sample import one_thread
from composer.satb import (HOLD, MASK, MIN_PITCH, NUM_VOICES, PITCH_OFFSET, REST, VOICE_NAMES, HarmonyError,
                           frames_to_notes, num_frames, piece_to_frames, positions_for, to_frame, to_tick,
                           voice_frames)

DEFAULT_HARMONY_MODEL = Path(__file__).resolve().parent.parent / "midi_data" / "models" / "chorale.pt"
StepCallback = Callable[[int, int], bool]
NEG_INF = float("-inf")

__all__ = ["DEFAULT_HARMONY_MODEL", "HarmonyError", "HarmonyModel", "HarmonyResult", "load_harmony_model",
           "harmonize", "regenerate_region", "generate_chorale", "fill"]


@dataclass
class HarmonyModel:
    """A loaded harmony model: the network (eval mode), its sampling limits and its file's contents."""

    net: HarmonyNet
    voice_limits: list[list[int]]     # per voice [lowest, highest] pitch it may write
    checkpoint: dict
    path: str = ""


@dataclass
class HarmonyResult:
    """Pieces written by the model (voices 0..3 = Soprano, Alto, Tenor, Bass) and how they were made."""

    pieces: list[Piece]
    seed: int
    seconds: float
    transposed: int = 0   # semitones the melody was moved to fit the soprano range (and moved back)


def load_harmony_model(path: str | os.PathLike | None = None) -> HarmonyModel:
    """Load a harmony model file (default: the shipped ``midi_data/models/chorale.pt``).

    Raises:
        ModelFileError: missing, corrupt, unsafe or not a harmony model file.
    """
    path = Path(path) if path is not None else DEFAULT_HARMONY_MODEL
    checkpoint = ckpt.load_checkpoint(path, kinds=(HARMONY_KIND,))
    try:
        net = HarmonyNet(HarmonyConfig.from_dict(checkpoint["model_config"]))
        net.load_state_dict(checkpoint["model_state"])
        limits = [list(map(int, pair)) for pair in checkpoint["satb"]["voice_limits"]]
    except (KeyError, ValueError, RuntimeError, TypeError) as error:
        raise ckpt.ModelFileError(path, f"inconsistent contents: {error}") from None
    return HarmonyModel(net.eval(), limits, checkpoint, str(path))


# -- the sampler --------------------------------------------------------------------------------------------
def _limit_bias(model: HarmonyModel) -> torch.Tensor:
    """[4, V] additive mask: -inf on pitches a voice may not write, and on MASK."""
    vocab = model.net.config.vocab_size
    bias = torch.zeros(NUM_VOICES, vocab)
    bias[:, MASK] = NEG_INF
    pitches = torch.arange(vocab - PITCH_OFFSET) + MIN_PITCH            # pitch of each pitch token
    for voice, (low, high) in enumerate(model.voice_limits):
        bias[voice, PITCH_OFFSET:] = torch.where((pitches < low) | (pitches > high), NEG_INF, 0.0)
    return bias


def _draw(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """One token per row from masked logits [B, V]; temperature 0 takes the likeliest."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


@torch.no_grad()
def fill(model: HarmonyModel, given: np.ndarray, positions: np.ndarray, count: int = 1,
         temperature: float = 1.0, seed: int = 0, on_step: StepCallback | None = None) -> np.ndarray | None:
    """Write every MASK cell of ``given``; return ``count`` completed grids.

    Args:
        model: a loaded harmony model.
        given: int64 [T, 4] tokens, MASK where the model writes.
        positions: int64 [T] frame positions in the bar.
        count: completions drawn as one batch.
        temperature: sampling temperature (0: the likeliest token each time).
        seed: random seed.
        on_step: called after each written frame with (frames done, frames to write); True cancels.

    Returns:
        int64 [count, T, 4], or None when cancelled.
    """
    with one_thread():
        return _fill(model, given, positions, count, temperature, seed, on_step)


def _fill(model, given, positions, count, temperature, seed, on_step):
    net = model.net.eval()
    length = len(given)
    out = np.repeat(given[None], count, axis=0)                          # [B, T, 4]
    unknown = given == MASK                                              # [T, 4]
    rows = np.flatnonzero(unknown.any(1))
    if not len(rows):
        return out
    first, last = int(rows[0]), int(rows[-1]) + 1
    generator = torch.Generator().manual_seed(seed)
    limit_bias = _limit_bias(model)                                      # [4, V]
    encoded = net.encode(torch.from_numpy(given[None]), torch.from_numpy(positions[None]))   # [1, T, 2Ce]
    encoded = encoded.expand(count, -1, -1)
    state = None
    tokens = torch.from_numpy(out)                                       # [B, T, 4]
    if first > 0:                                                        # read the given opening at once
        previous = torch.cat([torch.full_like(tokens[:, :1], MASK), tokens[:, :first - 1]], dim=1)
        _, state = net.decoder(net.decoder_input(previous, encoded[:, :first]), None)
    for t in range(first, last):
        previous = tokens[:, t - 1:t] if t > 0 else torch.full_like(tokens[:, :1], MASK)     # [B, 1, 4]
        hidden, state = net.decoder(net.decoder_input(previous, encoded[:, t:t + 1]), state)
        hidden = hidden[:, 0]                                                               # [B, H]
        for voice in range(NUM_VOICES):
            if not unknown[t, voice]:
                continue
            logits = net.head_logits(hidden, voice, tokens[:, t, :voice] if voice else None)   # [B, V]
            logits = logits + limit_bias[voice]
            if t == 0 or not unknown[t - 1, voice]:
                logits[:, HOLD] = NEG_INF                # never extend a given note
            else:
                silent = tokens[:, t - 1, voice] == REST
                logits[:, HOLD] = torch.where(silent, NEG_INF, logits[:, HOLD])
            tokens[:, t, voice] = _draw(logits, temperature, generator)
        if on_step is not None and on_step(t - first + 1, last - first):
            return None
    return tokens.numpy()


# -- harmonize ----------------------------------------------------------------------------------------------
def melody_line(melody: Piece) -> list[Note]:
    """The melody's notes as one line, checked.

    Raises:
        HarmonyError: no notes, several parts, or notes sounding together.
    """
    if not melody.notes:
        raise HarmonyError("the melody has no notes")
    voices = sorted({n.voice for n in melody.notes})
    if len(voices) > 1:
        raise HarmonyError(f"the melody has {len(voices)} parts with notes; choose one track to harmonize")
    notes = sorted(melody.notes, key=lambda n: (n.start, n.pitch))
    slack = max(1, melody.ticks_per_beat // 8)                           # legato overlaps of a 32nd are fine
    line = []
    for note in notes:
        if line and note.start < line[-1].end - slack:
            bar, beat = _bar_beat(melody, note.start)
            raise HarmonyError(f"the melody is not a single line: two notes sound together at bar {bar}, "
                               f"beat {beat}; harmonize needs one note at a time (choose one track)")
        if line and note.start < line[-1].end:
            previous = line[-1]
            line[-1] = Note(previous.start, note.start, previous.pitch, previous.velocity, previous.voice)
        line.append(note)
    return line


def _bar_beat(piece: Piece, tick: int) -> tuple[int, str]:
    bar_ticks = piece.ticks_per_bar
    beat = (tick % bar_ticks) / piece.ticks_per_beat + 1
    return tick // bar_ticks + 1, f"{beat:g}"


def soprano_shift(pitches: Sequence[int], limits: Sequence[int]) -> int:
    """Semitones that move a melody into the soprano range: 0 if it fits, else whole octaves if they
    do, else the smallest shift that does.

    Raises:
        HarmonyError: the melody spans more than the soprano range.
    """
    low, high = min(pitches), max(pitches)
    if high - low > limits[1] - limits[0]:
        raise HarmonyError(f"the melody spans {high - low} semitones (MIDI {low}..{high}); a soprano line can "
                           f"span at most {limits[1] - limits[0]} (MIDI {limits[0]}..{limits[1]})")
    fits = [s for s in range(limits[0] - low, limits[1] - high + 1)]
    octaves = [s for s in fits if s % 12 == 0]
    return min(octaves or fits, key=abs)


def harmonize(model: HarmonyModel, melody: Piece, count: int = 1, temperature: float = 1.0,
              seed: int | None = None, on_step: StepCallback | None = None) -> HarmonyResult | None:
    """Write alto, tenor and bass under a melody, which becomes the soprano unchanged.

    Args:
        model: a loaded harmony model.
        melody: one line (a single voice, one note at a time); any length, key, metre and resolution.
            Notes off the 16th-note grid are kept as they are in the output; the model hears them rounded.
        count: harmonizations drawn as one batch.
        temperature: randomness (0: always the likeliest chord tone; 1: the model's own distribution).
        seed: random seed (None: a random one, reported in the result).
        on_step: progress callback (frames done, frames total); returning True cancels (result None).

    Returns:
        A :class:`HarmonyResult` whose pieces have the melody's resolution, tempo, metre and key.

    Raises:
        HarmonyError: empty or polyphonic melody, or one too wide for a soprano.
    """
    _check_count(count, temperature)
    started = time.perf_counter()
    seed = seed if seed is not None else random.randrange(2**31)
    line = melody_line(melody)
    shift = soprano_shift([n.pitch for n in line], model.voice_limits[0])
    tpb = melody.ticks_per_beat
    moved = [Note(n.start, n.end, n.pitch + shift, n.velocity, 0) for n in line]
    lowest = min(model.voice_limits[3][0], model.voice_limits[2][0]) - shift
    if lowest < 0 or max(lim[1] for lim in model.voice_limits) - shift > 127:
        raise HarmonyError(f"the melody is too {'low' if lowest < 0 else 'high'} to harmonize in its own "
                           f"register (the bass would leave the MIDI range); transpose it by an octave")
    length = num_frames(Piece(tuple(moved), tpb))
    given = np.full((length, NUM_VOICES), MASK, dtype=np.int64)
    given[:, 0] = voice_frames(moved, tpb, length)
    positions = positions_for(melody.time_signatures, tpb, length)
    grids = fill(model, given, positions, count, temperature, seed, on_step)
    if grids is None:
        return None
    soprano = tuple(Note(n.start, n.end, n.pitch, n.velocity, 0) for n in line)
    pieces = []
    for index, grid in enumerate(grids):
        lower = [Note(n.start, n.end, n.pitch - shift, n.velocity, n.voice)
                 for n in frames_to_notes(grid, tpb, voices=(1, 2, 3))]
        pieces.append(_satb_piece(soprano + tuple(lower), melody, f"{melody.name or 'melody'} harmonized "
                                                                    f"{index + 1}"))
    return HarmonyResult(pieces, seed, time.perf_counter() - started, shift)


def _satb_piece(notes, template: Piece, name: str) -> Piece:
    voices = tuple(Voice(n, 52) for n in VOICE_NAMES)   # GM 53, choir aahs
    return Piece(tuple(notes), template.ticks_per_beat, voices, template.tempos, template.time_signatures,
                 template.key, name)


def _check_count(count: int, temperature: float) -> None:
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if not 0 <= temperature <= 5:
        raise ValueError(f"temperature must be in [0, 5], got {temperature}")


# -- regenerate a region -----------------------------------------------------------------------------------
def regenerate_region(model: HarmonyModel, piece: Piece, start_tick: int, end_tick: int, voices: Sequence[int],
                      count: int = 1, temperature: float = 1.0, seed: int | None = None,
                      on_step: StepCallback | None = None) -> HarmonyResult | None:
    """Rewrite some voices of a four-part piece between two times, fitting what comes before AND after.

    Everything outside [start, end) of the chosen voices is kept: other voices entirely, and the chosen
    voices' notes outside the region (a note crossing a region edge is cut there; its outside part stays).
    The region's edges snap to the nearest 16th note.

    Args:
        model: a loaded harmony model.
        piece: four voices, 0..3 = soprano, alto, tenor, bass.
        start_tick, end_tick: the region, in the piece's ticks.
        voices: voice indices (0..3) to rewrite.
        count, temperature, seed, on_step: as in :func:`harmonize`.

    Returns:
        A :class:`HarmonyResult` with ``count`` versions of the piece.

    Raises:
        HarmonyError: not a four-part piece, no voices, or an empty region.
    """
    _check_count(count, temperature)
    started = time.perf_counter()
    seed = seed if seed is not None else random.randrange(2**31)
    voices = sorted(set(int(v) for v in voices))
    if not voices or voices[0] < 0 or voices[-1] >= NUM_VOICES:
        raise HarmonyError(f"choose voices among 0..3 (soprano, alto, tenor, bass), got {list(voices)}")
    if len(piece.voices) < NUM_VOICES:
        raise HarmonyError(f"regenerating needs a four-part piece; this one has {len(piece.voices)} part(s)")
    tpb = piece.ticks_per_beat
    first, last = to_frame(max(0, start_tick), tpb), to_frame(end_tick, tpb)
    if last <= first:
        raise HarmonyError("the region is shorter than a 16th note; select a longer stretch")
    start, end = to_tick(first, tpb), to_tick(last, tpb)
    kept = _cut_region(piece, start, end, voices)
    length = max(num_frames(piece), last)
    frames = piece_to_frames(piece.replace(notes=tuple(kept)), length)
    given = frames.copy()
    given[first:last, voices] = MASK
    positions = positions_for(piece.time_signatures, tpb, length)
    grids = fill(model, given, positions, count, temperature, seed, on_step)
    if grids is None:
        return None
    pieces = []
    for index, grid in enumerate(grids):
        new = frames_to_notes(grid[first:last], tpb, voices=voices, offset_frames=first)
        new = [Note(n.start, min(n.end, end), n.pitch, n.velocity, n.voice) for n in new]
        pieces.append(piece.replace(notes=tuple(kept) + tuple(new),
                                    name=f"{piece.name or 'piece'} regenerated {index + 1}"))
    return HarmonyResult(pieces, seed, time.perf_counter() - started)


def _cut_region(piece: Piece, start: int, end: int, voices: Sequence[int]) -> list[Note]:
    """The notes kept when [start, end) of ``voices`` is cleared: the other voices' notes, and the chosen
    voices' notes or note parts outside the region (the model hears a part kept after the region as a
    new attack at the region's end)."""
    kept = []
    for note in piece.notes:
        if note.voice not in voices or note.end <= start or note.start >= end:
            kept.append(note)
            continue
        if note.start < start:
            kept.append(Note(note.start, start, note.pitch, note.velocity, note.voice))
        if note.end > end:
            kept.append(Note(end, note.end, note.pitch, note.velocity, note.voice))
    return kept


# -- free four-part generation --------------------------------------------------------------------------------
def generate_chorale(model: HarmonyModel, bars: int, count: int = 1, temperature: float = 1.0,
                     seed: int | None = None, time_signature: tuple[int, int] = (4, 4), qpm: float = 80.0,
                     ticks_per_beat: int = 12, on_step: StepCallback | None = None) -> HarmonyResult | None:
    """Write ``count`` four-part pieces of ``bars`` bars from nothing.

    Raises:
        ValueError: bars or count below 1.
    """
    if bars < 1:
        raise ValueError(f"bars must be at least 1, got {bars}")
    _check_count(count, temperature)
    started = time.perf_counter()
    seed = seed if seed is not None else random.randrange(2**31)
    signature = TimeSignature(0, *time_signature)
    length = bars * to_frame(signature.ticks_per_bar(ticks_per_beat), ticks_per_beat)
    given = np.full((length, NUM_VOICES), MASK, dtype=np.int64)
    positions = positions_for([signature], ticks_per_beat, length)
    grids = fill(model, given, positions, count, temperature, seed, on_step)
    if grids is None:
        return None
    template = Piece((), ticks_per_beat, tempos=(TempoChange(0, qpm),), time_signatures=(signature,))
    pieces = [_satb_piece(frames_to_notes(grid, ticks_per_beat), template, f"chorale {i + 1}")
              for i, grid in enumerate(grids)]
    return HarmonyResult(pieces, seed, time.perf_counter() - started)

