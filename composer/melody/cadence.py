"""The closing cadence of a sampled melody: its last note is the tonic (issue 14).

A model that knows where the end is (:mod:`composer.melody.form_inputs`) often closes on its own, but not
always. :class:`CadenceGuide` makes sure, step by step and without looking ahead:

* in the final beat, a new note can only be the tonic;
* a note that is not the tonic must end (and a rest after it must stop) before the final beat, so another
  note, the tonic, follows it; and in the final beat a rest cannot run to the end after it.

So the last note of every row is the tonic, and everything before the final beat is the model's own. The
tonic is the key's: the request's ``--key``, else each row's ``KEY`` token (the prompt's, or the one the
model drew first). A row whose key is unknown (a model without key tokens, no key asked) is left alone.
"""

from __future__ import annotations

import numpy as np
import torch

from composer.melody.encoding import Vocabulary
from composer.music.keys import parse_key
from composer.music.metre import Metre

NEG_INF = float("-inf")


class CadenceGuide:
    """Keeps the last note of each row on its tonic (see the module docstring).

    Args:
        vocab: the vocabulary.
        prompt: int64 [P] the prompt (its KEY token, if any, gives every row's tonic).
        rows: batch rows.
        end: the tick where the rows end.
        key: a key asked for (its tonic wins over KEY tokens), or None.
        reach: int64 [V] how far each token moves the cursor or holds its note (SHIFT and DUR tokens).
        span: ticks of the closing span, where only the tonic may start (default one quarter note; see
            :func:`closing_span`).
    """

    def __init__(self, vocab: Vocabulary, prompt: np.ndarray, rows: int, end: int, key: str | None,
                 reach: np.ndarray, span: int | None = None) -> None:
        self.vocab, self.end = vocab, end
        self.reach = np.asarray(reach, dtype=np.int64)                            # [V]
        self.longest = int(self.reach.max())
        self.final_beat = end - (span or vocab.config.ticks_per_beat)            # the closing span's first tick
        pitches = np.arange(len(vocab)) - vocab.pitch_offset + vocab.config.min_pitch
        self.pitch_class = np.where(_pitch_mask(vocab), pitches % 12, -1)        # [V], -1 not a pitch
        self.is_key = np.zeros(len(vocab), dtype=bool)
        self.is_key[vocab.key_offset:vocab.shift_offset] = True
        self.is_shift = np.zeros(len(vocab), dtype=bool)
        self.is_shift[vocab.shift_offset:vocab.voice_offset] = True
        self.moves = self.reach > 0                                                  # [V]: tokens that take time
        tonics = np.arange(12)[:, None]                                              # [12, 1]
        self.off_tonic = (self.pitch_class >= 0) & (self.pitch_class != tonics)      # [12, V]: pitches off each tonic
        self.fixed = parse_key(key)[0] if key else None
        self.tonic = np.full(rows, -1 if self.fixed is None else self.fixed, dtype=np.int64)
        self.last_is_tonic = np.ones(rows, dtype=bool)                           # no note yet: nothing to finish
        for token in np.asarray(prompt, dtype=np.int64).tolist():
            self.record(np.full(rows, token, dtype=np.int64))

    def record(self, token: np.ndarray, keys: bool = True) -> None:
        """Note the tokens (int [B]) the rows took: a KEY token sets a row's tonic, a pitch its last note.
        ``keys=False``: the caller knows there is no KEY token among them."""
        token = np.asarray(token, dtype=np.int64)
        if self.fixed is None and keys:
            is_key = self.is_key[token]
            if is_key.any():
                self.tonic = np.where(is_key, (token - self.vocab.key_offset) % 12, self.tonic)
        pitch_class = self.pitch_class[token]
        self.last_is_tonic = np.where(pitch_class >= 0, pitch_class == self.tonic, self.last_is_tonic)

    def select(self, rows: np.ndarray) -> None:
        """Keep the given rows (int [R]), in this order (beam search)."""
        rows = np.asarray(rows, dtype=np.int64)
        self.tonic, self.last_is_tonic = self.tonic[rows], self.last_is_tonic[rows]

    def restrict(self, logits: np.ndarray | torch.Tensor, cursor: np.ndarray) -> None:
        """Forbid (in place) what would end a row off the tonic: [B, V] logits (an array, or a CPU tensor), int
        [B] cursors. A row the
        masks would leave without any token is left as it was."""
        cursor = np.asarray(cursor, dtype=np.int64)
        if int(cursor.max()) + self.longest <= self.final_beat:
            return                                     # every row is still far from the end: the common case
        known, open_end = self.tonic >= 0, ~self.last_is_tonic
        in_final_beat = cursor >= self.final_beat
        near = (cursor + self.longest > self.final_beat) & (cursor < self.end)                # [B]
        rows = np.flatnonzero(near & known & (in_final_beat | open_end))   # rows a rule can bite (numpy, a few)
        if not len(rows):
            return
        after = cursor[rows, None] + self.reach[None, :]                                      # [R, V]
        in_final, must_play = in_final_beat[rows, None], open_end[rows, None]
        # in the final beat: only the tonic may start, and a row off the tonic may not rest to the end;
        # before it (the row's last note is off the tonic): nothing may run into the final beat
        final_rules = self.off_tonic[self.tonic[rows]] | (must_play & (after >= self.end) & self.is_shift)
        forbid = np.where(in_final, final_rules, (after > self.final_beat) & self.moves)      # [R, V]
        values = logits if isinstance(logits, np.ndarray) else logits.numpy()   # the same memory either way
        chosen = values[rows]                                                                 # [R, V]
        still_open = (np.where(forbid, NEG_INF, chosen) > NEG_INF).any(1, keepdims=True)      # [R, 1]
        chosen[forbid & still_open] = NEG_INF
        values[rows] = chosen


def closing_span(metre: Metre) -> int:
    """Ticks of a piece's closing span: the last half bar where a bar has an even number of beats (the third
    and fourth beats of 4/4, the second dotted quarter of 6/8, the last beat of 2/4), else the last beat (3/4,
    9/8). The tonic lands on a strong beat and sounds to the end, as a tune's final note does."""
    beats = metre.bar_ticks // metre.beat_ticks if metre.beat_ticks else 1
    return metre.bar_ticks // 2 if beats % 2 == 0 else metre.beat_ticks


def _pitch_mask(vocab: Vocabulary) -> np.ndarray:
    mask = np.zeros(len(vocab), dtype=bool)
    mask[vocab.pitch_offset:vocab.duration_offset] = True
    return mask
