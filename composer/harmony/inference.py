"""Four-part writing with a harmony model: harmonize a melody, regenerate a region, write a chorale.

All three are one operation: some cells of the SATB frame grid are given, the rest are drawn frame by
frame (soprano, alto, tenor, bass in turn) by the model, which sees every given cell, before and after
(see :mod:`composer.harmony.model`). Given cells are never changed.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from composer.harmony.model import (DEFAULT_HARMONY_MODEL, KEY_ENSEMBLE, HarmonyModel, key_shifts,  # noqa: F401 (API)
                                    load_harmony_model)
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice
from composer.melody.sample import draw_tokens, one_thread
from composer.harmony.grid import (HOLD, MASK, MIN_PITCH, NUM_VOICES, UNKNOWN_KEY, key_index, key_of_index, piece_key_index,
                           transpose_key_index, PITCH_OFFSET, REST, VOICE_NAMES, HarmonyError,
                           frames_to_notes, num_frames, piece_to_frames, positions_for, to_frame, to_tick,
                           voice_frames)

StepCallback = Callable[[int, int], bool]
DEFAULT_SEARCH = 1
NEG_INF = float("-inf")

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
    """One token per row from masked logits [B, V].

    Temperature 0 decides in two steps: first whether the voice rests, holds or starts a note (the
    likeliest of the three, a new note counting all its pitches together), then which pitch. Taking the
    single likeliest token instead would nearly always hold, as HOLD alone usually outweighs any one pitch.
    """
    if temperature <= 0:
        probs = torch.softmax(logits, -1)                                 # [B, V]
        attack = probs[:, PITCH_OFFSET:].sum(-1)
        pitch = logits[:, PITCH_OFFSET:].argmax(-1) + PITCH_OFFSET
        other = torch.where(probs[:, HOLD] >= probs[:, REST], HOLD, REST)
        return torch.where(attack >= probs.gather(1, other[:, None])[:, 0], pitch, other)
    return draw_tokens(logits / temperature, generator)


@torch.no_grad()
def fill(model: HarmonyModel, given: np.ndarray, positions: np.ndarray, count: int = 1,
         temperature: float = 1.0, seed: int = 0, on_step: StepCallback | None = None,
         rules: bool = True, search: int = 1, key: int = UNKNOWN_KEY) -> np.ndarray | None:
    """Write every MASK cell of ``given``; return ``count`` completed grids.

    Args:
        model: a loaded harmony model.
        given: int64 [T, 4] tokens, MASK where the model writes.
        positions: int64 [T] frame positions in the bar.
        count: completions drawn as one batch.
        temperature: sampling temperature (0: the likeliest token each time).
        seed: random seed.
        on_step: called after each written frame with (frames done, frames to write); True cancels.
        rules: refuse notes that would make parallel fifths or octaves, cross a voice, or leave more
            than an octave between soprano and alto or alto and tenor (see :func:`rule_mask`); a cell
            where every note breaks a rule is drawn without them.
        key: the key index (see :func:`composer.harmony.grid.key_index`) the model is told.
        search: draw ``search`` candidates per completion and keep the likeliest (by the model's own
            log-probability of the cells it wrote); 1 keeps every draw.

    Returns:
        int64 [count, T, 4], or None when cancelled.
    """
    if search < 1:
        raise ValueError(f"search must be at least 1, got {search}")
    with one_thread():
        result = _fill(model, given, positions, count * search, temperature, seed, on_step, rules, key,
                       score=search > 1)
    if result is None:
        return None
    grids, scores = result
    if search == 1:
        return grids
    best = scores.reshape(count, search).argmax(1) + np.arange(count) * search
    return grids[best]


def _fill(model, given, positions, count, temperature, seed, on_step, rules, key, score):
    out = np.repeat(given[None], count, axis=0)                          # [B, T, 4]
    unknown = given == MASK                                              # [T, 4]
    rows = np.flatnonzero(unknown.any(1))
    scores = torch.zeros(count)                                          # log-probability of each row
    if not len(rows):
        return out, scores.numpy()
    first, last = int(rows[0]), int(rows[-1]) + 1
    generator = torch.Generator().manual_seed(seed)
    limit_bias = _limit_bias(model)                                      # [4, V]
    candidates = _token_pitches(model.net.config.vocab_size)            # [V]
    reader = _KeyEnsemble(model, given, positions, key, count)
    tokens = torch.from_numpy(out)                                       # [B, T, 4]
    before = torch.full((count, NUM_VOICES), -1, dtype=torch.long)       # pitch sounding at t-1, -1 silent
    if first > 0:                                                        # read the given opening at once
        reader.read_opening(tokens[:, :first])
        for t in range(first):
            before = _advance(before, tokens[:, t])
    for t in range(first, last):
        reader.step(tokens[:, t - 1] if t > 0 else None, t)
        now = _advance(before, tokens[:, t])          # given cells of this frame already sound
        for voice in range(NUM_VOICES):
            if not unknown[t, voice]:
                continue
            logits = reader.log_probs(voice, tokens[:, t, :voice]) + limit_bias[voice]           # [B, V]
            if t == 0 or not unknown[t - 1, voice]:
                logits[:, HOLD] = NEG_INF                # never extend a given note
            else:
                logits[:, HOLD] = torch.where(before[:, voice] < 0, NEG_INF, logits[:, HOLD])
            if rules:
                decided = [u for u in range(NUM_VOICES) if u < voice or not unknown[t, u]]
                broken = rule_mask(candidates, before, now, voice, decided)                   # [B, V]
                ruled = logits.masked_fill(broken, NEG_INF)
                stuck = torch.isinf(ruled).all(-1, keepdim=True)
                logits = torch.where(stuck, logits, ruled)
            choice = _draw(logits, temperature, generator)
            tokens[:, t, voice] = choice
            if score:                                    # only best-of-N search needs it
                scores += torch.log_softmax(logits, -1).gather(1, choice[:, None])[:, 0]
            now[:, voice] = _advance(before, tokens[:, t])[:, voice]
        before = now
        if on_step is not None and on_step(t - first + 1, last - first):
            return None
    return tokens.numpy(), scores.numpy()


def shift_tokens(tokens: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Tokens [S, ...] with every pitch token of row s moved by ``shifts[s]`` semitones."""
    return torch.where(tokens >= PITCH_OFFSET, tokens + shifts.view(-1, *[1] * (tokens.dim() - 1)), tokens)


def key_views(model: HarmonyModel, grid: np.ndarray, key: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The music as each member of ``model``'s key ensemble reads it.

    Args:
        model: a loaded harmony model.
        grid: int64 [T, 4] tokens in the key as written.
        key: the key index of the music as written.

    Returns:
        The members' shifts int64 [S] (those that keep the grid inside the vocabulary; [0] if none),
        the grid as each reads it int64 [S, T, 4], and the key each is told int64 [S].
    """
    shifts = torch.tensor(fitting_shifts(model.shifts, grid, model.net.config.vocab_size) or [0])
    grids = shift_tokens(torch.from_numpy(grid)[None].expand(len(shifts), -1, -1), shifts)
    keys = torch.tensor([transpose_key_index(key, int(s)) for s in shifts])
    return shifts, grids, keys


class _KeyEnsemble:
    """The network reading a grid in each of the model's key-ensemble transpositions at once.

    Batch rows are (completion, transposition) pairs, ``count * S`` of them. Tokens go in and
    log-probabilities come out in the grid's own key; inside, every transposition sees its own copy.
    With the single shift 0 this is the plain model.
    """

    def __init__(self, model: HarmonyModel, given: np.ndarray, positions: np.ndarray, key: int, count: int):
        self.net = model.net.eval()
        self.shifts, grids, keys = key_views(model, given, key)                               # [S], [S, T, 4]
        self.count, self.size = count, len(self.shifts)
        encoded = self.net.encode(grids, torch.from_numpy(positions)[None].expand(self.size, -1), keys=keys)
        self.encoded = encoded.repeat(count, 1, 1)                       # [B*S, T, 2Ce], row b*S + s
        self.moved = key_ensemble_index(self.shifts, self.net.config.vocab_size)              # [S, V]
        self.step_fn = _DecoderStep(self.net.decoder)
        self.state = self.step_fn.zeros(count * self.size)
        self.hidden = self.projected = None

    def _rows(self, tokens: torch.Tensor) -> torch.Tensor:
        """Grid tokens [B, ...] -> every member's view of them [B*S, ...], row b*S + s."""
        moved = shift_tokens(tokens[None].expand(self.size, *tokens.shape), self.shifts)      # [S, B, ...]
        return moved.transpose(0, 1).reshape(-1, *tokens.shape[1:])

    def read_opening(self, tokens: torch.Tensor) -> None:
        """Run the decoder over given opening frames [B, F, 4] at once (the next step writes frame F)."""
        rows = self._rows(tokens)                                                              # [B*S, F, 4]
        previous = torch.cat([torch.full_like(rows[:, :1], MASK), rows[:, :-1]], dim=1)
        _, module_state = self.net.decoder(self.net.decoder_input(previous, self.encoded[:, :rows.shape[1]]), None)
        self.state = self.step_fn.from_module(module_state)

    def step(self, previous: torch.Tensor | None, t: int) -> None:
        """Advance to frame ``t``, given frame t-1's tokens [B, 4] (None at t = 0)."""
        rows = self._rows(previous) if previous is not None else \
            torch.full((self.count * self.size, NUM_VOICES), MASK, dtype=torch.long)
        x = self.net.decoder_input(rows[:, None], self.encoded[:, t:t + 1])[:, 0]
        self.hidden, self.state = self.step_fn(x, self.state)                                 # [B*S, H]
        self.projected = self.net.head_in(self.hidden)                                       # [B*S, 4Z]

    def log_probs(self, voice: int, decided: torch.Tensor) -> torch.Tensor:
        """Log-probabilities [B, V] of ``voice``'s token in the grid's key, the members averaged.

        Args:
            voice: 0..3.
            decided: [B, voice] tokens of the frame's earlier voices.
        """
        logits = self.net.head_logits(self.hidden, voice, self._rows(decided) if voice else None,
                                      self.projected)                                         # [B*S, V]
        return average_over_keys(logits.reshape(self.count, self.size, -1), self.moved)


def fitting_shifts(shifts: Sequence[int], given: np.ndarray, vocab: int) -> list[int]:
    """The transpositions in ``shifts`` that keep every pitch token of ``given`` inside the vocabulary."""
    pitched = given[given >= PITCH_OFFSET]
    return [s for s in shifts if not len(pitched)
            or (pitched.min() + s >= PITCH_OFFSET and pitched.max() + s < vocab)]


def key_ensemble_index(shifts: torch.Tensor, vocab: int) -> torch.Tensor:
    """int64 [S, V]: the token of the member moved by ``shifts[s]`` semitones that means token v of the
    music as written; MASK (never written, so -inf in :func:`average_over_keys`) where that pitch leaves
    the vocabulary."""
    tokens = torch.arange(vocab)[None]                                                         # [1, V]
    pitch = tokens >= PITCH_OFFSET
    target = torch.where(pitch, tokens + shifts[:, None], tokens)                              # [S, V]
    inside = ~pitch | ((target >= PITCH_OFFSET) & (target < vocab))
    return torch.where(inside, target, MASK)


_MASK_INDEX = torch.tensor([MASK])


def average_over_keys(logits: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The key ensemble's log-probabilities [..., V] from its members' logits [..., S, V].

    Each member's log-probabilities (MASK excluded) are moved back to the key as written (``index``
    from :func:`key_ensemble_index`) and averaged; a token some member cannot express gets -inf. The
    result is not normalized: a softmax of it is the ensemble's distribution.
    """
    member = torch.log_softmax(logits.index_fill(-1, _MASK_INDEX, NEG_INF), -1)                # [..., S, V]
    return member.gather(-1, index.expand(*member.shape[:-1], -1)).mean(-2)


class _DecoderStep:
    """One step of the decoder's stacked LSTM on fused cells (``torch.lstm_cell``), for sampling.

    Calling ``nn.LSTM`` for a single time step costs far more than the arithmetic; the fused cell with the
    same weights gives the same result (tested) several times faster.
    """

    def __init__(self, lstm: torch.nn.LSTM) -> None:
        self.layers = [tuple(getattr(lstm, f"{name}_l{k}") for name in ("weight_ih", "weight_hh", "bias_ih",
                                                                        "bias_hh"))
                       for k in range(lstm.num_layers)]
        self.hidden = lstm.hidden_size

    def zeros(self, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(torch.zeros(batch, self.hidden), torch.zeros(batch, self.hidden)) for _ in self.layers]

    def from_module(self, state) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per-layer (h, c) from ``nn.LSTM``'s (h [L, B, H], c [L, B, H])."""
        return [(state[0][k], state[1][k]) for k in range(len(self.layers))]

    def __call__(self, x: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """x [B, In] -> top layer's h [B, H] and the new state."""
        new_state = []
        for weights, layer_state in zip(self.layers, state):
            h, c = torch.lstm_cell(x, layer_state, *weights)
            new_state.append((h, c))
            x = h
        return x, new_state


def _token_pitches(vocab: int) -> torch.Tensor:
    """[V] the pitch each token starts (-1 for REST, HOLD, MASK)."""
    pitches = torch.full((vocab,), -1, dtype=torch.long)
    pitches[PITCH_OFFSET:] = torch.arange(vocab - PITCH_OFFSET) + MIN_PITCH
    return pitches


def _advance(before: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """Sounding pitches [B, 4] after a frame of tokens [B, 4] (MASK cells: unknown yet, counted silent)."""
    pitch = frame - PITCH_OFFSET + MIN_PITCH
    held = torch.where(frame == HOLD, before, torch.full_like(before, -1))
    return torch.where(frame >= PITCH_OFFSET, pitch, held)


def rule_mask(candidates: torch.Tensor, before: torch.Tensor, now: torch.Tensor, voice: int,
              decided: list[int]) -> torch.Tensor:
    """Which tokens of ``voice`` would break a rule of four-part writing against the voices decided.

    Args:
        candidates: [V] pitch of each token (-1 for non-pitch tokens; HOLD is judged by the held pitch).
        before: [B, 4] pitches sounding in the previous frame (-1 silent).
        now: [B, 4] pitches of this frame for the decided voices.
        voice: the voice being drawn (0 = soprano .. 3 = bass).
        decided: voices whose pitch in this frame is known.

    Returns:
        bool [B, V]: True where the token makes parallel fifths/octaves, crosses a voice, or spaces
        soprano-alto or alto-tenor more than an octave apart.
    """
    before_np, now_np = before.numpy(), now.numpy()                     # numpy: ~10x less per-op overhead
    pitch = np.repeat(candidates.numpy()[None], before_np.shape[0], axis=0)   # [B, V]
    pitch[:, HOLD] = before_np[:, voice]
    if not decided:
        return torch.zeros(pitch.shape, dtype=torch.bool)
    others = np.array(decided)                                           # [K]
    mine, mine_before = pitch[:, None, :], before_np[:, voice, None, None]      # [B, 1, V], [B, 1, 1]
    theirs, theirs_before = now_np[:, others, None], before_np[:, others, None]  # [B, K, 1]
    sign = np.where(others > voice, 1, -1)[None, :, None]               # +1 where I am the upper voice
    gap = (mine - theirs) * sign                                         # upper minus lower  [B, K, V]
    gap_before = (mine_before - theirs_before) * sign                    # [B, K, 1]
    present = (mine >= 0) & (theirs >= 0)
    spaced = np.array([{voice, u} in ({0, 1}, {1, 2}) for u in decided])[None, :, None]
    perfect = (gap_before % 12 == 0) | (gap_before % 12 == 7)
    parallel = (perfect & (gap % 12 == gap_before % 12) & (mine != mine_before) & (theirs != theirs_before)
                & (np.sign(mine - mine_before) == np.sign(theirs - theirs_before))
                & (mine_before >= 0) & (theirs_before >= 0))
    broken = present & ((gap < 0) | (spaced & (gap > 12)) | parallel)
    return torch.from_numpy(broken.any(1))


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
              rules: bool = True, search: int = DEFAULT_SEARCH, key: str | None = None) -> HarmonyResult | None:
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

    Returns:
        A :class:`HarmonyResult` whose pieces have the melody's resolution, tempo, metre and key.

    Raises:
        HarmonyError: empty or polyphonic melody, one too wide for a soprano, or an unknown key.
    """
    _check_count(count, temperature)
    started = time.perf_counter()
    seed = seed if seed is not None else random.randrange(2**31)
    line, chords = melody_line(melody)
    shift = soprano_shift([n.pitch for n in line], model.voice_limits[0])
    told = _key_for(key, melody.replace(notes=tuple(line)))
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
    grids = fill(model, given, positions, count, temperature, seed, on_step, rules, search,
                 transpose_key_index(told, shift))
    if grids is None:
        return None
    soprano = tuple(Note(n.start, n.end, n.pitch, n.velocity, 0) for n in line)
    pieces = []
    for index, grid in enumerate(grids):
        lower = [Note(n.start, n.end, n.pitch - shift, n.velocity, n.voice)
                 for n in frames_to_notes(grid, tpb, voices=(1, 2, 3))]
        piece = _satb_piece(soprano + tuple(lower), melody, f"{melody.name or 'melody'} harmonized {index + 1}")
        pieces.append(piece.replace(key=melody.key or key_of_index(told)))
    return HarmonyResult(pieces, seed, time.perf_counter() - started, shift, key_of_index(told), chords)


def _key_for(key: str | None, piece: Piece) -> int:
    """The key index to tell the model: ``key`` if given, else the piece's signature or estimate."""
    if key is None:
        return piece_key_index(piece)
    try:
        return key_index(key)
    except ValueError as error:
        raise HarmonyError(str(error)) from None


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

