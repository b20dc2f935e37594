"""The harmony sampler: write the MASK cells of an SATB frame grid, frame by frame, voice by voice.

:func:`fill` is the one operation behind harmonizing, regenerating a region and writing a chorale (see
:mod:`composer.harmony.inference`). The network reads the grid in each transposition of its key ensemble
at once (:class:`_KeyEnsemble`, stepping the decoder on fused cells with
:class:`composer.core.lstm_step.FusedStack`); each cell is drawn from the averaged distribution, limited
to the voice's range and, with rules on, to notes that keep the rules of four-part writing
(:func:`rule_mask`).
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np
import torch

from composer.core.lstm_step import FusedStack, one_thread
from composer.core.sampling import GumbelNoise
from composer.harmony.cadence import Guide
from composer.harmony.grid import (HOLD, MASK, MIN_PITCH, NUM_VOICES, PITCH_OFFSET, REST, UNKNOWN_KEY,
                                   transpose_key_index)
from composer.harmony.model import HarmonyModel

StepCallback = Callable[[int, int], bool]   # (frames done, frames to write) -> True cancels
NEG_INF = float("-inf")

__all__ = ["StepCallback", "fill", "rule_mask", "key_views", "shift_tokens", "fitting_shifts", "key_ensemble_index",
           "average_over_keys"]


# -- fill ------------------------------------------------------------------------------------------------------
def _limit_bias(model: HarmonyModel) -> torch.Tensor:
    """[4, V] additive mask: -inf on pitches a voice may not write, and on MASK."""
    vocab = model.net.config.vocab_size
    bias = torch.zeros(NUM_VOICES, vocab)
    bias[:, MASK] = NEG_INF
    pitches = torch.arange(vocab - PITCH_OFFSET) + MIN_PITCH            # pitch of each pitch token
    for voice, (low, high) in enumerate(model.voice_limits):
        bias[voice, PITCH_OFFSET:] = torch.where((pitches < low) | (pitches > high), NEG_INF, 0.0)
    return bias


def _draw(logits: torch.Tensor, temperature: float, noise: GumbelNoise) -> torch.Tensor:
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
    return (logits / temperature - noise.next()).argmax(-1)        # Gumbel-max: a draw from the softmax


@torch.no_grad()
def fill(model: HarmonyModel, given: np.ndarray, positions: np.ndarray, count: int = 1,
         temperature: float = 1.0, seed: int = 0, on_step: StepCallback | None = None,
         rules: bool = True, search: int = 1, key: int = UNKNOWN_KEY, guide: Guide | None = None,
         hold_bias: float = 0.0, key_bias: np.ndarray | None = None,
         closing: int | None = None, repeat_bias: float = 0.0) -> np.ndarray | None:
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
        guide: limits on the pitch classes each cell may sound (a final cadence, no clashes with the
            melody: see :mod:`composer.harmony.cadence`); kept before the rules, dropped on a cell where
            it leaves nothing to draw. None: no limits.
        hold_bias: added to the log-probability of HOLD in the alto, tenor and bass (negative: more
            attacks, a livelier texture).
        key_bias: float [4, V] added to each voice's log-probabilities where the model writes (the key guide:
            see :func:`composer.harmony.key_guide.key_bias`); None: nothing added.
        repeat_bias: added to the log-probability of striking again the pitch a lower voice is sounding
            (negative: fewer repeated notes, more that move).
        closing: the first frame of a final cadence (None: none). From there on ``key_bias``, ``hold_bias`` and
            ``repeat_bias`` do not apply: the final chord, Picardy third included, is the guide's and the
            model's, and it is held as the model would hold it.

    Returns:
        int64 [count, T, 4], or None when cancelled.
    """
    if search < 1:
        raise ValueError(f"search must be at least 1, got {search}")
    with one_thread():
        result = _fill(model, given, positions, count * search, temperature, seed, on_step, rules, key,
                       score=search > 1, guide=guide.with_vocab(model.net.config.vocab_size) if guide else None,
                       hold_bias=hold_bias, key_bias=key_bias, closing=closing, repeat_bias=repeat_bias)
    if result is None:
        return None
    grids, scores = result
    if search == 1:
        return grids
    best = scores.reshape(count, search).argmax(1) + np.arange(count) * search
    return grids[best]


def _fill(model, given, positions, count, temperature, seed, on_step, rules, key, score, guide=None,
          hold_bias=0.0, key_bias=None, closing=None, repeat_bias=0.0):
    # The cells' bookkeeping (sounding pitches, biases, rules, the guide) is numpy: a cell takes dozens of
    # operations on a few rows, where numpy's per-call cost is a tenth of PyTorch's. The network and the
    # draw (its random stream) are PyTorch; ``tokens`` and ``out`` share memory.
    out = np.repeat(given[None], count, axis=0)                          # [B, T, 4]
    unknown = given == MASK                                              # [T, 4]
    rows = np.flatnonzero(unknown.any(1))
    scores = torch.zeros(count)                                          # log-probability of each row
    if not len(rows):
        return out, scores.numpy()
    first, last = int(rows[0]), int(rows[-1]) + 1
    noise = GumbelNoise(torch.Generator().manual_seed(seed), (count, model.net.config.vocab_size))
    limit_bias = _limit_bias(model).numpy()                              # [4, V]
    written_bias = limit_bias if key_bias is None else limit_bias + key_bias.astype(np.float32)  # [4, V]
    candidates = _token_pitches(model.net.config.vocab_size).numpy()    # [V]
    reader = _KeyEnsemble(model, given, positions, key, count)
    tokens = torch.from_numpy(out)                                       # [B, T, 4], the same memory as out
    before = np.full((count, NUM_VOICES), -1, dtype=np.int64)            # pitch sounding at t-1, -1 silent
    if first > 0:                                                        # read the given opening at once
        reader.read_opening(tokens[:, :first])
        for t in range(first):
            before = _advance(before, out[:, t])
    for t in range(first, last):
        reader.step(tokens[:, t - 1] if t > 0 else None, t)
        now = _advance(before, out[:, t])             # given cells of this frame already sound
        for voice in range(NUM_VOICES):
            if not unknown[t, voice]:
                continue
            before_closing = closing is None or t < closing
            bias = written_bias if before_closing else limit_bias
            logits = reader.log_probs(voice, tokens[:, t, :voice]).numpy() + bias[voice]        # [B, V]
            if t == 0 or not unknown[t - 1, voice]:
                logits[:, HOLD] = NEG_INF                # never extend a given note
            else:
                lean = (hold_bias, repeat_bias) if voice > 0 and before_closing else (0.0, 0.0)
                _lean_away_from_holding(logits, before[:, voice], *lean)
            guided = guide.forbidden(t, voice, before, now) if guide is not None else None
            broken = None
            if rules:
                decided = [u for u in range(NUM_VOICES) if u < voice or not unknown[t, u]]
                broken = rule_mask(candidates, before, now, voice, decided)                   # [B, V]
            logits = torch.from_numpy(_constrain(logits, broken, guided))
            choice = _draw(logits, temperature, noise)
            out[:, t, voice] = choice.numpy()
            if guide is not None:
                guide.record(t, voice, choice)
            if score:                                    # only best-of-N search needs it
                scores += torch.log_softmax(logits, -1).gather(1, choice[:, None])[:, 0]
            now[:, voice] = _advance(before, out[:, t])[:, voice]
        before = now
        if on_step is not None and on_step(t - first + 1, last - first):
            return None
    return out, scores.numpy()


def _lean_away_from_holding(logits: np.ndarray, sounding: np.ndarray, hold_bias: float,
                            repeat_bias: float) -> None:
    """Add (in place) ``hold_bias`` to HOLD and ``repeat_bias`` to the token that strikes the sounding pitch
    again, for rows [B, V] whose voice sounds ``sounding`` [B] (-1: silent, and HOLD is refused)."""
    logits, sounding = np.asarray(logits), np.asarray(sounding)
    logits[:, HOLD] = np.where(sounding < 0, NEG_INF, logits[:, HOLD] + np.float32(hold_bias))
    if repeat_bias:
        rows = np.flatnonzero(sounding >= 0)
        again = np.minimum(sounding[rows] - MIN_PITCH + PITCH_OFFSET, logits.shape[1] - 1)
        logits[rows, again] += np.float32(repeat_bias)


def _constrain(logits: np.ndarray, broken: np.ndarray | None, guided: np.ndarray | None) -> np.ndarray:
    """float32 ``logits`` [B, V] with the tokens that break a rule (``broken``) and those the guide refuses
    (``guided``) at -inf. A row where that leaves nothing to draw keeps the rules alone, else the guide alone,
    else neither."""
    options = [f for f in (broken | guided if broken is not None and guided is not None else None, broken, guided)
               if f is not None]
    result = logits
    for forbidden in reversed(options):                # the last assigned wins: both, then rules, then guide
        kept = np.where(forbidden, np.float32(NEG_INF), logits)
        result = np.where(np.isinf(kept).all(-1, keepdims=True), result, kept)
    return result.astype(np.float32, copy=False)


# -- the key ensemble ------------------------------------------------------------------------------------------
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
        self.shift_array = self.shifts.numpy()
        encoded = self.net.encode(grids, torch.from_numpy(positions)[None].expand(self.size, -1), keys=keys)
        self.encoded = encoded.repeat(count, 1, 1)                       # [B*S, T, 2Ce], row b*S + s
        self.moved = key_ensemble_index(self.shifts, self.net.config.vocab_size)              # [S, V]
        self.step_fn = FusedStack(self.net.decoder)   # one decoder step on fused cells
        self.token_gates, self.frame_gates = self._first_layer_inputs(encoded)
        self.frame_gates = self.frame_gates.repeat(count, 1, 1)          # [B*S, T, 4H]
        self.bags = torch.arange(0, count * self.size * NUM_VOICES, NUM_VOICES)  # a bag of four tokens per row
        self.state = self.step_fn.zeros(count * self.size)
        self.hidden = self.projected = None

    def _first_layer_inputs(self, encoded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's first-layer input side, split in the two parts of its input (:meth:`decoder_input`):
        each previous-frame token's share [4V, 4H] (a step sums four rows) and each frame's encoder share with
        both biases [S, T, 4H], all frames in one product instead of one small product a frame."""
        weight = self.step_fn.layers[0][0]                                                   # [4H, E + 2Ce]
        width = self.net.previous_embedding.embedding_dim
        _, _, b_ih, b_hh = self.step_fn.layers[0]
        token_gates = self.net.previous_embedding.weight.detach() @ weight[:, :width].t()     # [4V, 4H]
        frames = torch.addmm(b_ih + b_hh, encoded.reshape(-1, encoded.shape[-1]), weight[:, width:].t())
        return token_gates, frames.view(*encoded.shape[:2], -1)

    def _rows(self, tokens: torch.Tensor) -> torch.Tensor:
        """Grid tokens [B, ...] -> every member's view of them [B*S, ...], row b*S + s (numpy inside: a few
        tiny operations per cell)."""
        grid = tokens.numpy()[:, None]                                                        # [B, 1, ...]
        shifts = self.shift_array.reshape(1, -1, *[1] * (grid.ndim - 2))                      # [1, S, 1...]
        moved = np.where(grid >= PITCH_OFFSET, grid + shifts, grid)                           # [B, S, ...]
        return torch.from_numpy(moved.reshape(-1, *grid.shape[2:]))

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
        ids = rows + self.net.voice_offsets                                                   # [B*S, 4]
        tokens = torch.embedding_bag(self.token_gates, ids.reshape(-1), self.bags, False, 0)[0]   # [B*S, 4H]
        gates = self.frame_gates[:, t] + tokens
        self.hidden, self.state = self.step_fn(None, self.state, gates)                       # [B*S, H]
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


# -- the rules of four-part writing ----------------------------------------------------------------------------
def _token_pitches(vocab: int) -> torch.Tensor:
    """[V] the pitch each token starts (-1 for REST, HOLD, MASK)."""
    pitches = torch.full((vocab,), -1, dtype=torch.long)
    pitches[PITCH_OFFSET:] = torch.arange(vocab - PITCH_OFFSET) + MIN_PITCH
    return pitches


def _advance(before: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Sounding pitches int64 [B, 4] after a frame of tokens [B, 4] (MASK cells: unknown yet, counted silent)."""
    frame = np.asarray(frame)
    held = np.where(frame == HOLD, before, -1)
    return np.where(frame >= PITCH_OFFSET, frame - PITCH_OFFSET + MIN_PITCH, held)


def rule_mask(candidates: np.ndarray, before: np.ndarray, now: np.ndarray, voice: int,
              decided: list[int]) -> np.ndarray:
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
    before_np, now_np = np.asarray(before), np.asarray(now)
    pitch = np.repeat(np.asarray(candidates)[None], before_np.shape[0], axis=0)   # [B, V]
    pitch[:, HOLD] = before_np[:, voice]
    if not decided:
        return np.zeros(pitch.shape, dtype=bool)
    others, sign, spaced = _voice_pairs(voice, tuple(decided))        # [K]; [1, K, 1] each
    mine, mine_before = pitch[:, None, :], before_np[:, voice, None, None]      # [B, 1, V], [B, 1, 1]
    theirs, theirs_before = now_np[:, others, None], before_np[:, others, None]  # [B, K, 1]
    gap = (mine - theirs) * sign                                         # upper minus lower  [B, K, V]
    gap_before = (mine_before - theirs_before) * sign                    # [B, K, 1]
    present = (mine >= 0) & (theirs >= 0)
    perfect = (gap_before % 12 == 0) | (gap_before % 12 == 7)
    parallel = (perfect & (gap % 12 == gap_before % 12) & (mine != mine_before) & (theirs != theirs_before)
                & (np.sign(mine - mine_before) == np.sign(theirs - theirs_before))
                & (mine_before >= 0) & (theirs_before >= 0))
    broken = present & ((gap < 0) | (spaced & (gap > 12)) | parallel)
    return broken.any(1)


@functools.lru_cache(maxsize=64)
def _voice_pairs(voice: int, decided: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For :func:`rule_mask`: the decided voices int [K]; +1 where ``voice`` is the upper of the pair, else -1,
    and whether the pair's spacing is limited to an octave (soprano-alto, alto-tenor), each [1, K, 1]."""
    others = np.array(decided)
    sign = np.where(others > voice, 1, -1)[None, :, None]
    spaced = np.array([{voice, u} in ({0, 1}, {1, 2}) for u in decided])[None, :, None]
    return others, sign, spaced
