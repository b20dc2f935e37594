"""Four-part writing with a harmony model: harmonize a melody, regenerate a region, write a chorale.

All three are one operation: some cells of the SATB frame grid are given, the rest are drawn frame by
frame (soprano, alto, tenor, bass in turn) by the model, which sees every given cell, before and after
(see :mod:`composer.harmony.model`). Given cells are never changed. That operation,
:func:`composer.harmony.sampler.fill`, and its machinery live in :mod:`composer.harmony.sampler`; this
module turns melodies and pieces into grids and the filled grids back into pieces.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from composer.harmony.grid import (MASK, NUM_VOICES, UNKNOWN_KEY, VOICE_NAMES, HarmonyError, compound_beats,
                                   frames_to_notes, key_index, key_of_index, num_frames, piece_key_index,
                                   piece_to_frames, positions_for, to_frame, to_tick, transpose_key_index,
                                   voice_frames)
from composer.harmony.model import (DEFAULT_HARMONY_MODEL, KEY_ENSEMBLE, HarmonyModel, key_shifts,  # noqa: F401 (API)
                                    load_harmony_model)
from composer.harmony.cadence import Guide, final_span, melody_guide
from composer.harmony.key_guide import DEFAULT_KEY_GUIDE, key_bias
from composer.harmony.refine import refine
from composer.harmony.sampler import StepCallback, fill
from composer.music.bounds import check_length
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice

DEFAULT_SEARCH = 1
DEFAULT_TEMPERATURE = 0.4   # what harmonize, regenerate and evaluate-harmony use unless told (the CLI's, the app's)
DEFAULT_REPEAT_BIAS = -1.0  # harmonize's bias on striking a lower voice's sounding pitch again, chosen on valid
DEFAULT_HOLD_BIAS = -1.25  # harmonize's bias on HOLD in the lower voices (see fill), chosen on the valid split
DEFAULT_REFINE_STEPS = 0  # harmonize's pseudo-Gibbs refinement steps (see composer.harmony.refine)

__all__ = ["DEFAULT_HARMONY_MODEL", "HarmonyError", "HarmonyModel", "HarmonyResult", "load_harmony_model",
           "harmonize", "regenerate_region", "generate_chorale", "fill"]


@dataclass
class HarmonyResult:
    """Pieces written by the model (voices 0..3 = Soprano, Alto, Tenor, Bass) and how they were made."""

    pieces: list[Piece]
    seed: int
    seconds: float
    transposed: int = 0   # semitones the melody was moved to fit the soprano range (and moved back)
    key: str | None = None   # the key the model was told (None: unknown, the model guessed)
    chords_reduced: int = 0  # chords in the melody (e.g. a fiddle's double stops) sung as their top note
    closes_in: str | None = None   # the key of the closing cadence (harmonize; see its ``cadence`` argument)


# -- harmonize ----------------------------------------------------------------------------------------------
MAX_CHORD_SHARE = 0.1   # a melody may have chords (sung as their top note) at up to this share of its onsets


def melody_line(melody: Piece) -> tuple[list[Note], int]:
    """The melody's notes as one line, checked; and how many chords were reduced to their top note.

    A few chords, such as a fiddle tune's double stops on downbeats, are read as their top note, the
    tune. Chords at more than ``MAX_CHORD_SHARE`` of the onsets mean the part is not a melody.

    Raises:
        HarmonyError: no notes, several parts, chords at too many onsets, or notes overlapping.
    """
    if not melody.notes:
        raise HarmonyError("the melody has no notes")
    voices = sorted({n.voice for n in melody.notes})
    if len(voices) > 1:
        raise HarmonyError(f"the melody has {len(voices)} parts with notes; choose one track to harmonize")
    notes, chords = _chord_tops(sorted(melody.notes, key=lambda n: (n.start, -n.pitch)))
    if chords > MAX_CHORD_SHARE * len(notes):
        raise HarmonyError(f"the melody is not a single line: it has chords at {chords} of its {len(notes)} "
                           f"onsets; harmonize needs one note at a time (choose one track)")
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
    return line, chords


def _chord_tops(notes: list[Note]) -> tuple[list[Note], int]:
    """Notes sorted by (start, highest pitch first) -> the top note of each onset, and the number of onsets
    where several notes start together."""
    per_onset = Counter(note.start for note in notes)
    tops = [note for index, note in enumerate(notes) if index == 0 or note.start != notes[index - 1].start]
    return tops, sum(1 for count in per_onset.values() if count > 1)


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
              seed: int | None = None, on_step: StepCallback | None = None,
              rules: bool = True, search: int = DEFAULT_SEARCH, key: str | None = None, cadence: bool = True,
              clash_guard: bool = True, hold_bias: float = DEFAULT_HOLD_BIAS,
              refine_steps: int = DEFAULT_REFINE_STEPS, key_guide: float = DEFAULT_KEY_GUIDE,
              repeat_bias: float = DEFAULT_REPEAT_BIAS) -> HarmonyResult | None:
    """Write alto, tenor and bass under a melody, which becomes the soprano unchanged.

    Args:
        model: a loaded harmony model.
        melody: one line (a single voice, one note at a time); any length, key, metre and resolution.
            Notes off the 16th-note grid are kept as they are in the output; the model hears them rounded.
            A few chords (see :func:`melody_line`) are sung as their top note.
        count: harmonizations drawn as one batch.
        temperature: randomness (0: always the likeliest chord tone; 1: the model's own distribution).
        seed: random seed (None: a random one, reported in the result).
        on_step: progress callback (frames done, frames total); returning True cancels (result None).
        rules: keep to the rules of four-part writing (see :func:`fill`).
        search: candidates drawn per harmonization, the likeliest kept (see :func:`fill`).
        key: the key to harmonize in ("F", "Dm", ...); None: the melody's key signature, else its
            estimated key.
        cadence: close on a tonic chord over the melody's last note (bass on the tonic, a Picardy third allowed
            in minor): without ``key`` in the key on that note where the melody keeps to a scale on it
            (:func:`composer.music.analysis.closing_key`), else in the key told; none if that note is off the chord.
        clash_guard: refuse lower-voice notes a minor second, major seventh or minor ninth from the melody
            on beats.
        hold_bias: added to HOLD's log-probability in the lower voices (negative: more attacks).
        refine_steps: regions rewritten afterwards by pseudo-Gibbs refinement, each kept only if the
            model finds the whole more likely (see :func:`composer.harmony.refine.refine`); 0: none.
        repeat_bias: added to the log-probability of a lower voice striking its sounding pitch again
            (negative: fewer repeated notes).
        key_guide: nats off lower-voice notes outside the key's usual notes (:mod:`composer.harmony.key_guide`).

    Returns:
        A :class:`HarmonyResult` whose pieces have the melody's resolution, tempo, metre and key.

    Raises:
        HarmonyError: empty or polyphonic melody, one too wide for a soprano, or an unknown key.
    """
    _check_count(count, temperature)
    check_length(melody, "the melody", HarmonyError)   # bounded before any work (issue 17, item 10)
    started = time.perf_counter()
    seed = seed if seed is not None else random.randrange(2**31)
    line, chords = melody_line(melody)
    shift = soprano_shift([n.pitch for n in line], model.voice_limits[0])
    told, closes_in = _keys_for(key, melody.replace(notes=tuple(line)))
    given, positions = _melody_grid(model, line, melody, shift)
    model_key = transpose_key_index(told, shift)
    guide = _guide(model, melody, given, positions, (model_key, transpose_key_index(closes_in, shift)), cadence,
                   clash_guard)
    grids = fill(model, given, positions, count, temperature, seed, on_step, rules, search, model_key,
                 guide=guide, **_leanings(model, given, model_key, cadence, key_guide, hold_bias, repeat_bias))
    if grids is None:
        return None
    if refine_steps:
        grids = np.stack([refine(model, given, grid, positions, refine_steps, model_key, seed + index, rules=rules,
                                 guide=guide)[0] for index, grid in enumerate(grids)])
    pieces = _harmonized_pieces(grids, line, melody, shift, melody.key or key_of_index(told))
    return HarmonyResult(pieces, seed, time.perf_counter() - started, shift, key_of_index(told), chords,
                         key_of_index(closes_in) if cadence else None)


def _leanings(model: HarmonyModel, given: np.ndarray, key: int, cadence: bool, strength: float, hold_bias: float,
              repeat_bias: float) -> dict:
    """``fill``'s soft leanings: the key guide's bias (:func:`composer.harmony.key_guide.key_bias`), the hold
    and repeat biases, and, with a final cadence, its first frame, where they stop (the final chord is the
    cadence guide's)."""
    closing = final_span(given[:, 0]) if cadence else None
    return {"key_bias": key_bias(key, model.net.config.vocab_size, strength), "hold_bias": hold_bias,
            "repeat_bias": repeat_bias, "closing": closing[0] if closing else None}


def _harmonized_pieces(grids: np.ndarray, line: list[Note], melody: Piece, shift: int, key: str | None) -> list[Piece]:
    """Four-part pieces from filled grids [N, T, 4]: the melody's own notes as the soprano, the lower voices
    moved back by ``shift`` semitones, the melody's resolution, tempo and metre, and ``key``."""
    soprano = tuple(Note(n.start, n.end, n.pitch, n.velocity, 0) for n in line)
    pieces = []
    for index, grid in enumerate(grids):
        lower = [Note(n.start, n.end, n.pitch - shift, n.velocity, n.voice)
                 for n in frames_to_notes(grid, melody.ticks_per_beat, voices=(1, 2, 3))]
        piece = _satb_piece(soprano + tuple(lower), melody, f"{melody.name or 'melody'} harmonized {index + 1}")
        pieces.append(piece.replace(key=key))
    return pieces


def _melody_grid(model: HarmonyModel, line: list[Note], melody: Piece, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid to fill under a melody line moved ``shift`` semitones (MASK below the soprano), and its
    frame positions.

    Raises:
        HarmonyError: the lower voices would leave the MIDI range.
    """
    tpb = melody.ticks_per_beat
    moved = [Note(n.start, n.end, n.pitch + shift, n.velocity, 0) for n in line]
    lowest = min(model.voice_limits[3][0], model.voice_limits[2][0]) - shift
    if lowest < 0 or max(lim[1] for lim in model.voice_limits) - shift > 127:
        raise HarmonyError(f"the melody is too {'low' if lowest < 0 else 'high'} to harmonize in its own "
                           f"register (the bass would leave the MIDI range); transpose it by an octave")
    length = num_frames(Piece(tuple(moved), tpb))
    given = np.full((length, NUM_VOICES), MASK, dtype=np.int64)
    given[:, 0] = voice_frames(moved, tpb, length)
    return given, positions_for(melody.time_signatures, tpb, length)


def _key_for(key: str | None, piece: Piece) -> int:
    """The key index to tell the model: ``key`` if given, else the piece's signature or estimate."""
    if key is None:
        return piece_key_index(piece)
    try:
        return key_index(key)
    except ValueError as error:
        raise HarmonyError(str(error)) from None


def _keys_for(key: str | None, line: Piece) -> tuple[int, int]:
    """(the key index to tell the model, the key index the cadence closes in) for a melody line: ``key`` for
    both if given; else the line's signature or estimate, and the key on its last note where it keeps to a
    scale on it (:func:`composer.music.analysis.closing_key`), else the same."""
    from composer.music.analysis import closing_key   # as piece_key_index: analysis loads on first use

    told = _key_for(key, line)
    closing = closing_key(line) if key is None else None
    return told, key_index(closing) if closing is not None else told


def _guide(model: HarmonyModel, melody: Piece, given: np.ndarray, positions: np.ndarray, keys: tuple[int, int],
           cadence: bool, clash_guard: bool) -> Guide | None:
    """The cadence and clash guide for a melody grid (:func:`composer.harmony.cadence.melody_guide`), with keys
    (told, closing) already moved with the soprano."""
    compound = compound_beats(melody.time_signatures, melody.ticks_per_beat, len(given))
    return melody_guide(given, positions, keys[0], model.net.config.vocab_size, cadence, clash_guard, compound,
                        closing_key=keys[1])


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
                      on_step: StepCallback | None = None, rules: bool = True,
                      search: int = DEFAULT_SEARCH) -> HarmonyResult | None:
    """Rewrite some voices of a four-part piece between two times, fitting what comes before AND after.

    Everything outside [start, end) of the chosen voices is kept: other voices entirely, and the chosen
    voices' notes outside the region (a note crossing a region edge is cut there; its outside part stays).
    The region's edges snap to the nearest 16th note.

    Args:
        model: a loaded harmony model.
        piece: four voices, 0..3 = soprano, alto, tenor, bass.
        start_tick, end_tick: the region, in the piece's ticks.
        voices: voice indices (0..3) to rewrite.
        count, temperature, seed, on_step, rules, search: as in :func:`harmonize`.

    Returns:
        A :class:`HarmonyResult` with ``count`` versions of the piece.

    Raises:
        HarmonyError: not a four-part piece, no voices, or an empty region.
    """
    _check_count(count, temperature)
    check_length(piece, "the piece", HarmonyError)   # bounded before any work (issue 17, item 10)
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
    told = _key_for(None, piece)
    grids = fill(model, given, positions, count, temperature, seed, on_step, rules, search, told)
    if grids is None:
        return None
    pieces = []
    for index, grid in enumerate(grids):
        new = frames_to_notes(grid[first:last], tpb, voices=voices, offset_frames=first)
        new = [Note(n.start, min(n.end, end), n.pitch, n.velocity, n.voice) for n in new]
        pieces.append(piece.replace(notes=tuple(kept) + tuple(new),
                                    name=f"{piece.name or 'piece'} regenerated {index + 1}"))
    return HarmonyResult(pieces, seed, time.perf_counter() - started, key=key_of_index(told))


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
                     ticks_per_beat: int = 12, on_step: StepCallback | None = None,
                     rules: bool = True, search: int = DEFAULT_SEARCH,
                     key: str | None = None) -> HarmonyResult | None:
    """Write ``count`` four-part pieces of ``bars`` bars from nothing (``rules``, ``search``: see
    :func:`fill`), in ``key`` ("G", "Em", ...) or, with None, a key the model picks.

    Raises:
        ValueError: bars or count below 1.
        HarmonyError: an unknown key name.
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
    told = _key_for(key, Piece((), ticks_per_beat)) if key is not None else UNKNOWN_KEY
    grids = fill(model, given, positions, count, temperature, seed, on_step, rules, search, told)
    if grids is None:
        return None
    template = Piece((), ticks_per_beat, tempos=(TempoChange(0, qpm),), time_signatures=(signature,), key=key)
    pieces = [_satb_piece(frames_to_notes(grid, ticks_per_beat), template, f"chorale {i + 1}")
              for i, grid in enumerate(grids)]
    return HarmonyResult(pieces, seed, time.perf_counter() - started, key=key)

