"""What form adds to each sampling step: the model's form inputs, the exact end, and repeated sections.

:class:`FormSteps` is used by :class:`composer.melody.sample.Sampler` once per step for a batch of rows:

* the model's form inputs (:mod:`composer.melody.form_inputs`): per-tick ones become a table of what they
  add to the first layer's input side (looked up by each row's cursor), lookbacks are gathered per row;
* boundaries (:class:`composer.melody.form_plan.FormPlan`): a token that would move the cursor, or hold a
  note, past the next section boundary or the requested end is not drawn, so every piece ends exactly where
  asked and every section starts on its downbeat;
* repeats: a row inside a repeated stretch replays its own tokens from the stretch it copies, while the model
  reads them as it would read a primer;
* the rhythm grid: a time shift or a note length may only end on a sixteenth or an eighth-note triplet
  (:func:`rhythm_grid`), so a rare draw of a 1/12-beat token cannot put the rest of a piece a tick late.
"""

from __future__ import annotations

import numpy as np
import torch

from composer.melody.cadence import CadenceGuide, closing_span
from composer.melody.encoding import BOS, EOS, PAD, Vocabulary
from composer.melody.form_inputs import LookbackTracker, key_ids, sequence_ids, tick_ids
from composer.melody.form_plan import FormPlan
from composer.melody.mode import ModeKeeper
from composer.music.metre import Metre

NEG_INF = float("-inf")


class FormSteps:
    """Per-step form work for ``rows`` rows sampling from ``prompt`` to the plan's end.

    Args:
        model: the :class:`~composer.melody.model.ComposerLM` (its form inputs, if any, are used).
        input_side: maps [N, E] embedding-width inputs to what a step adds, float32 [N, G]
            (``Stepper.input_side``).
        vocab: the vocabulary.
        prompt: int64 [P] the prompt's tokens.
        rows: batch rows.
        metre: bar lines of the piece.
        plan: the sections (default: through-composed to ``until``).
        until: the requested end tick (used when ``plan`` is None).
        cadence: end every row on its tonic (:class:`composer.melody.cadence.CadenceGuide`).
        key: the key asked for (the cadence's tonic; else each row's KEY token).
        horizon: the last tick the rows can reach in the steps allowed (tables stop there; default ``until``),
            so a request for a far end with few steps costs only what those steps can use.
        key_guide: keep each row in its key's mode (:class:`composer.melody.mode.ModeKeeper`); not with ``key``,
            whose scale is a hard limit already.
    """

    def __init__(self, model, input_side, vocab: Vocabulary, prompt: np.ndarray, rows: int, metre: Metre,
                 plan: FormPlan | None, until: int, cadence: bool = False, key: str | None = None,
                 horizon: int | None = None, key_guide: bool = False) -> None:
        self.plan = plan
        self.end = plan.end if plan is not None else until
        self.limit = self.end if horizon is None else max(0, min(self.end, horizon))      # last tick in the tables
        self.vocab, self.metre = vocab, metre
        self.layout = getattr(model, "layout", None) if getattr(model, "form", None) is not None else None
        reach = vocab.shift_steps.copy()
        reach[vocab.duration_offset:] = np.arange(1, vocab.config.max_duration + 1)
        self.reach = reach                                                                # [V]
        self.reach_row = torch.from_numpy(reach).unsqueeze(0)                             # [1, V]
        self.longest = int(reach.max())
        self.advance = vocab.shift_steps                                                  # [V]
        self.is_key = np.zeros(len(vocab), dtype=bool)                                    # [V]
        self.is_key[vocab.key_offset:vocab.shift_offset] = True
        self.boundary = plan.boundary[:self.limit + 1] if plan is not None \
            else np.full(self.limit + 1, self.end, dtype=np.int64)                       # [limit + 1]
        self.beat = vocab.config.ticks_per_beat
        self.off_grid = torch.from_numpy(~rhythm_grid(vocab, reach))                      # [beat, V]
        self.tick_table = self.lookback_table = self.tracker = self.key_row = None
        if self.layout:
            weight = model.form.weight.detach()                                           # [rows, E]
            ticks = np.arange(self.limit + 1)
            per_tick = tick_ids(self.layout, metre, self.end, ticks, vocab.config.ticks_per_beat)   # [T, K]
            form_rows = input_side(weight)                               # [rows, G]: what each form row adds
            # a tick's inputs are a sum of form rows, so their share of a step is the sum of those rows' shares
            self.tick_table = np.add.reduce(form_rows[per_tick], 1) if per_tick.shape[1] else None   # [T, G]
            if self.layout.lags or self.layout.key_offset is not None:
                self.lookback_table = form_rows                                           # [rows, G]
            if self.layout.lags:
                self.tracker = LookbackTracker(self.layout, metre, vocab, prompt, rows, self.limit + 1)
            if self.layout.key_offset is not None:                                        # each row's key class
                self.key_row = np.full(rows, int(key_ids(prompt, vocab)[-1]) + self.layout.key_offset)
                self.key_shift = self.layout.key_offset - vocab.key_offset    # KEY token -> its table row
        self.repeats = _Replay(plan, vocab, prompt, rows) if plan is not None and _has_repeats(plan) else None
        self.cadence = CadenceGuide(vocab, prompt, rows, self.end, key, self.reach,
                                    closing_span(metre)) if cadence else None
        self.mode = ModeKeeper(vocab, prompt, rows) if key_guide and key is None else None

    def prompt_form(self, prompt: np.ndarray) -> torch.Tensor | None:
        """int64 [1, P - 1, K]: the form ids the model reads with the prompt (None without form inputs)."""
        if not self.layout:
            return None
        ids = sequence_ids(prompt, self.vocab, self.layout, self.metre, self.end)
        return torch.from_numpy(ids[:-1]).unsqueeze(0)

    def lookback_ids(self, cursor: np.ndarray) -> np.ndarray | None:
        """int64 [B, K]: the rows of ``lookback_table`` the rows' lookback and key inputs read at their cursors
        (int [B]); None without such inputs."""
        if self.tracker is None and self.key_row is None:
            return None
        columns = [self.tracker.ids(cursor)] if self.tracker is not None else []          # [B, 2L]
        if self.key_row is not None:
            columns.append(self.key_row[:, None])                                         # [B, 1]
        return columns[0] if len(columns) == 1 else np.concatenate(columns, 1)

    def lookback_extra(self, cursor: np.ndarray) -> np.ndarray | None:
        """float32 [B, G]: what the lookback inputs add to this step at the rows' cursors (int [B]); None
        without them. The per-tick inputs are ``tick_table``'s rows."""
        ids = self.lookback_ids(np.asarray(cursor, dtype=np.int64))
        if ids is None:
            return None
        return np.add.reduce(self.lookback_table[ids], 1)

    def restrict(self, logits: torch.Tensor, cursor: np.ndarray) -> None:
        """Forbid (in place) what the form does not allow at the rows' cursors: [B, V] logits, int [B] cursors
        (:meth:`bias_tables`' biases, then :meth:`restrict_near_ends`)."""
        cursor = np.asarray(cursor, dtype=np.int64)
        logits.masked_fill_(self.off_grid.index_select(0, torch.from_numpy(cursor % self.beat)), NEG_INF)
        if self.mode is not None:
            self.mode.bias(logits)
        self.restrict_near_ends(logits, cursor)

    def bias_tables(self) -> list[torch.Tensor]:
        """The form's additive biases as tables [N, V] whose rows :meth:`bias_ids` picks, so a sampler can add
        them with its own in one lookup:

        * per tick (cursor): the rhythm grid, EOS before the end, and the boundaries (-inf on a token that would
          cross the next section boundary or the end), [limit + 1, V];
        * per mode state: the mode's penalties (negated), [STATES + 1, V], with the key guide.

        Together they do what :meth:`restrict` does but the cadence, which :meth:`restrict_rows` keeps.
        """
        ticks = np.arange(self.limit + 1)                                                 # [T]
        room = self.boundary - ticks                                                      # [T]
        blocked = self.off_grid.numpy()[ticks % self.beat] | (self.reach[None, :] > room[:, None])   # [T, V]
        blocked[ticks < self.end, EOS] = True
        tables = [torch.from_numpy(np.where(blocked, np.float32(NEG_INF), np.float32(0.0)))]
        if self.mode is not None:
            tables.append(-self.mode.table)                                               # [STATES + 1, V]
        return tables

    def bias_ids(self, cursor: np.ndarray) -> list[np.ndarray]:
        """int64 [B] per table of :meth:`bias_tables`: each row's row of it at its cursor."""
        ids = [np.minimum(cursor, self.limit)]
        if self.mode is not None:
            ids.append(self.mode.states())
        return ids

    def restrict_near_ends(self, logits: torch.Tensor, cursor: np.ndarray) -> None:
        """Forbid (in place) tokens that would cross the next boundary, and what would end a row off its
        tonic (the cadence): the checks that only bite near a boundary or the end."""
        room = self.boundary[np.minimum(cursor, self.limit)] - cursor                     # [B]
        if int(room.min()) < self.longest:                                                # a boundary is near
            logits.masked_fill_(self.reach_row > torch.from_numpy(room).unsqueeze(1), NEG_INF)
        self.restrict_rows(logits, cursor)

    def restrict_rows(self, logits: np.ndarray | torch.Tensor, cursor: np.ndarray) -> None:
        """Forbid (in place, in logits [B, V]: an array, or a CPU tensor) what would end a row off its tonic (the
        cadence): the one limit that depends on a row's own notes, not only on its cursor, so no table of
        :meth:`bias_tables` holds it."""
        if self.cadence is not None:
            self.cadence.restrict(logits, cursor)

    def replay(self, drawn: np.ndarray, cursor: np.ndarray) -> np.ndarray:
        """int [B] the tokens the rows take: a repeat's copy where a row is inside a repeated stretch, else
        ``drawn``."""
        if self.repeats is None:
            return drawn
        forced = self.repeats.forced(np.asarray(cursor, dtype=np.int64), self.advance)
        return np.where(forced >= 0, forced, drawn)

    def record(self, token: np.ndarray, cursor_before: np.ndarray) -> None:
        """Note the tokens (int [B]) the rows took, drawn at ``cursor_before`` (int [B])."""
        token = np.asarray(token, dtype=np.int64)
        cursor_before = np.asarray(cursor_before, dtype=np.int64)
        is_key = self.is_key[token]                                                       # [B]
        keys = bool(is_key.any())                                 # a KEY token comes first, so rarely
        if self.tracker is not None:
            self.tracker.record(token, cursor_before)
        if self.key_row is not None and keys:
            self.key_row = np.where(is_key, token + self.key_shift, self.key_row)
        if self.repeats is not None:
            self.repeats.record(token, cursor_before)
        if self.cadence is not None:
            self.cadence.record(token, keys)
        if self.mode is not None:
            self.mode.record(token, keys)

    def select(self, rows: np.ndarray) -> None:
        """Keep the given rows (int [R]), in this order (beam search)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.tracker is not None:
            self.tracker.select(rows)
        if self.key_row is not None:
            self.key_row = self.key_row[rows]
        if self.cadence is not None:
            self.cadence.select(rows)
        if self.mode is not None:
            self.mode.select(rows)


def rhythm_grid(vocab: Vocabulary, reach: np.ndarray) -> np.ndarray:
    """bool [ticks_per_beat, V]: from a cursor this far into a beat, may the token be drawn?

    Time shifts and note lengths must end on a sixteenth or an eighth-note triplet (where the grid holds
    them; every tick where it holds neither); other tokens always may.
    """
    beat = vocab.config.ticks_per_beat
    points = {k * beat // parts for parts in (4, 3) if beat % parts == 0 for k in range(parts)}
    if not points:
        points = set(range(beat))
    on_grid = np.zeros(beat, dtype=bool)
    on_grid[sorted(points)] = True
    moves = reach > 0                                                                     # [V]
    lands = (np.arange(beat)[:, None] + reach[None, :]) % beat                            # [beat, V]
    return ~moves[None, :] | on_grid[lands]


def _has_repeats(plan: FormPlan) -> bool:
    return bool((plan.copy_source >= 0).any())


class _Replay:
    """Each row's own history, so a repeated stretch can copy it token by token.

    ``first[row, tick]`` is the history index of the first event token (a time shift or a note) drawn with the
    cursor at ``tick``; a row whose cursor reaches a copied tick where its source tick has such a token starts
    replaying there, and stops at the end of the copied stretch (or where a copied token would cross it).
    """

    def __init__(self, plan: FormPlan, vocab: Vocabulary, prompt: np.ndarray, rows: int) -> None:
        self.source = plan.copy_source                                                    # [end + 1]
        self.copy_end = _copy_ends(plan.copy_source)                                      # [end + 1]
        self.end = len(plan.copy_source) - 1
        prompt = np.asarray(prompt, dtype=np.int64)
        self.history = np.full((rows, len(prompt) + 256), PAD, dtype=np.int64)       # grows as tokens come
        self.first = np.full((rows, self.end + 1), -1, dtype=np.int64)
        self.length = 0
        self.pointer = np.full(rows, -1, dtype=np.int64)
        self.rows = np.arange(rows)
        self.is_event = np.ones(len(vocab), dtype=bool)
        self.is_event[[BOS, EOS, PAD]] = False
        self.is_event[vocab.key_offset:vocab.shift_offset] = False
        self.is_event[vocab.duration_offset:] = False
        before = np.cumsum(vocab.shift_steps[prompt]) - vocab.shift_steps[prompt]
        for token, at in zip(prompt.tolist(), before.tolist()):
            self.record(np.full(rows, token), np.full(rows, at))

    def record(self, token: np.ndarray, cursor_before: np.ndarray) -> None:
        if self.length >= self.history.shape[1]:                    # double the room (memory follows the steps)
            self.history = np.concatenate([self.history, np.full_like(self.history, PAD)], 1)
        self.history[:, self.length] = token
        mark = self.is_event[token] & (cursor_before <= self.end)
        at = np.minimum(cursor_before, self.end)
        unset = self.first[self.rows, at] < 0
        self.first[self.rows[mark & unset], at[mark & unset]] = self.length
        self.pointer = np.where(self.pointer >= 0, self.pointer + 1, self.pointer)
        self.length += 1

    def forced(self, cursor: np.ndarray, advance: np.ndarray) -> np.ndarray:
        at = np.minimum(cursor, self.end)
        source = self.source[at]                                                          # [B]
        inside = source >= 0
        start = np.where(inside, self.first[self.rows, np.maximum(source, 0)], -1)
        self.pointer = np.where(inside & (self.pointer < 0), start, self.pointer)
        self.pointer = np.where(inside, self.pointer, -1)
        pointer = np.minimum(np.maximum(self.pointer, 0), self.history.shape[1] - 1)
        token = self.history[self.rows, pointer]
        fits = cursor + advance[token] <= self.copy_end[at]
        usable = (self.pointer >= 0) & (self.pointer < self.length) & fits & (token != PAD) & (token != EOS)
        self.pointer = np.where(usable, self.pointer, -1)
        return np.where(usable, token, -1)


def _copy_ends(copy_source: np.ndarray) -> np.ndarray:
    """Per tick of a copied stretch, the tick where the stretch ends (the tick itself elsewhere)."""
    ends = np.arange(len(copy_source), dtype=np.int64)
    for tick in range(len(copy_source) - 2, -1, -1):
        if copy_source[tick] >= 0:
            ends[tick] = ends[tick + 1] if copy_source[tick + 1] >= 0 else tick + 1
    return ends
