"""Keeping a sampled tune in its mode: a soft pull toward the notes of its key (issue 14).

The melody model's ``KEY`` token names a tonic and major or minor, and a folk tune under ``KEY_G`` may be in
G major or G mixolydian (F sharp or F natural), one under ``KEY_Dm`` in D minor or D dorian (B flat or B
natural). Sampled freely, a tune sometimes slides between the two, or off the key altogether, and then
sounds in another key (a G tune using F naturals and Cs on the strong beats is heard in C).

:class:`ModeKeeper` lowers, step by step and without looking ahead, the log-probability of

* pitches outside the key's modes (for major the major scale plus the flat seventh; for minor the natural
  minor scale plus the major sixth and the leading tone) by ``OUTSIDE_PENALTY`` nats;
* the mode's other variant once the tune has chosen one: after the first natural (or flat) seventh of a
  major tune, the flat (or natural) seventh; after the first flat (or major) sixth of a minor tune, the
  major (or flat) sixth; by ``MODE_PENALTY`` nats;
* for the tune's first note, pitches outside the tonic triad, by ``OPENING_PENALTY`` nats: a tune states its
  key as it begins (81 % of the bundled validation tunes open on a tonic-triad note; the model alone 72 %,
  with this pull 83 %).

The penalties are soft: a chromatic passing note or a change of mode stays possible, just rarer. A row
whose key is unknown, or a request with an explicit ``--key`` (its scale is already a hard limit), is left
alone.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from composer.melody.encoding import Vocabulary

OUTSIDE_PENALTY = 3.0    # nats off pitches outside both modes of the key
MODE_PENALTY = 3.0       # nats off the other mode's note once the tune has chosen
OPENING_PENALTY = 0.5    # nats off a first note outside the tonic triad
MAJOR_MODES = (0, 2, 4, 5, 7, 9, 10, 11)       # degrees (semitones over the tonic) of major and mixolydian
MINOR_MODES = (0, 2, 3, 5, 7, 8, 9, 10, 11)    # natural minor, dorian sixth, leading tone
MAJOR_CHOICE = (11, 10)                        # major's seventh, mixolydian's
MINOR_CHOICE = (8, 9)                          # aeolian's sixth, dorian's


class ModeKeeper:
    """Soft penalties that keep each row in its key's mode (see the module docstring).

    Args:
        vocab: the vocabulary (with KEY tokens; otherwise every row stays unknown and nothing is done).
        prompt: int64 [P] the prompt, read for a KEY token and the primer's notes.
        rows: batch rows.
    """

    def __init__(self, vocab: Vocabulary, prompt: np.ndarray, rows: int) -> None:
        self.vocab = vocab
        pitches = np.arange(len(vocab)) - vocab.pitch_offset + vocab.config.min_pitch
        is_pitch = np.zeros(len(vocab), dtype=bool)
        is_pitch[vocab.pitch_offset:vocab.duration_offset] = True
        state_table, choice_table = _tables(tuple(np.where(is_pitch, pitches % 12, -1).tolist()))
        self.table = torch.from_numpy(state_table)                                           # [STATES + 1, V]
        self.choice_of = choice_table                                                        # [25, V]
        self.key_of = np.full(len(vocab), -1, dtype=np.int64)                                # [V]: KEY tokens' keys
        self.key_of[vocab.key_offset:vocab.shift_offset] = np.arange(vocab.shift_offset - vocab.key_offset)
        self.is_pitch = is_pitch.astype(np.int64)                                            # [V]
        # per row, numpy (a step's bookkeeping is a few integer operations; see composer.melody.form_steps)
        self.key = np.full(rows, -1, dtype=np.int64)        # 0..11 major, 12..23 minor, -1 unknown
        self.choice = np.zeros(rows, dtype=np.int64)        # 0: no mode chosen yet, 1: the first, 2: other
        self.started = np.zeros(rows, dtype=np.int64)       # 1 once the row has played a note
        self.state = np.full(rows, STATES, dtype=np.int64)  # the penalty table's row (see states)
        for token in np.asarray(prompt, dtype=np.int64).tolist():
            self.record(np.full(rows, token, dtype=np.int64))

    def record(self, token: np.ndarray, keys: bool = True) -> None:
        """Note the tokens (int [B]) the rows took: a KEY token sets the key, a pitch may choose the mode.
        ``keys=False``: the caller knows there is no KEY token among them."""
        token = np.asarray(token, dtype=np.int64)
        if keys:
            new_key = self.key_of[token]                                                      # [B], -1 if none
            is_key = new_key >= 0
            if is_key.any():
                self.key = np.where(is_key, new_key, self.key)
                self.choice = np.where(is_key, 0, self.choice)
                self.started = np.where(is_key, 0, self.started)
        chosen = self.choice_of[self.key, token]                    # row -1 (unknown key) chooses nothing
        self.choice = np.where(self.choice == 0, chosen, self.choice)
        self.started = self.started | self.is_pitch[token]
        self.state = np.where(self.key >= 0, self.key * 6 + self.choice * 2 + self.started, STATES)

    def select(self, rows: np.ndarray) -> None:
        """Keep the given rows (int [R]), in this order (beam search)."""
        rows = np.asarray(rows, dtype=np.int64)
        self.key, self.choice, self.started = self.key[rows], self.choice[rows], self.started[rows]
        self.state = self.state[rows]

    def states(self) -> np.ndarray:
        """int64 [B]: each row's row of the penalty table (its key, mode choice and whether it has begun)."""
        return self.state                                    # kept by record and select

    def bias(self, logits: torch.Tensor) -> None:
        """Lower (in place) the logits [B, V] of pitches outside each row's mode."""
        logits.sub_(self.table.index_select(0, torch.from_numpy(self.states())))


STATES = 24 * 3 * 2     # key x mode choice x started; one more row, all zeros, for an unknown key


@functools.lru_cache(maxsize=8)
def _tables(pitch_classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The tables of a vocabulary's pitch classes (-1: not a pitch), built once per vocabulary and shared (never
    written): float32 [STATES + 1, V], the penalty of every token in each state (row key * 6 + choice * 2 +
    started; the last row, all zeros, for an unknown key); int64 [25, V], the mode choice a token makes in each
    key (1: the first mode's note, 2: the other's, 0: none; row 24, indexed as -1, for the unknown key)."""
    pitch_class = np.asarray(pitch_classes, dtype=np.int64)                                  # [V]
    keys = np.arange(24)
    minor, tonic = keys // 12, keys % 12                                                      # [24]
    degree = (pitch_class[None, :] - tonic[:, None]) % 12                                     # [24, V]
    penalty = _penalty_tables().numpy()[minor[:, None, None], np.arange(3)[None, :, None], degree[:, None, :]]
    third = np.where(minor == 1, 3, 4)[:, None]
    off_triad = ~((degree == 0) | (degree == 7) | (degree == third))                        # [24, V]
    not_started = np.array([1.0, 0.0])                                                        # started 0, 1
    table = penalty[:, :, None, :] + OPENING_PENALTY * off_triad[:, None, None, :] * not_started[None, None, :, None]
    table = np.concatenate([table.reshape(STATES, -1), np.zeros((1, len(pitch_class)))])     # [STATES + 1, V]
    table = (table * (pitch_class >= 0)).astype(np.float32)
    first = np.where(minor == 1, MINOR_CHOICE[0], MAJOR_CHOICE[0])[:, None]
    other = np.where(minor == 1, MINOR_CHOICE[1], MAJOR_CHOICE[1])[:, None]
    choice = np.where(degree == first, 1, np.where(degree == other, 2, 0)) * (pitch_class >= 0)
    choice = np.concatenate([choice, np.zeros((1, len(pitch_class)), dtype=np.int64)])      # [25, V]
    return table, choice


def _penalty_tables() -> torch.Tensor:
    """float [2, 3, 12]: the penalty of each degree for (major, minor) x (no choice yet, first, other)."""
    tables = torch.zeros(2, 3, 12)
    for quality, (modes, (first, other)) in enumerate(((MAJOR_MODES, MAJOR_CHOICE), (MINOR_MODES, MINOR_CHOICE))):
        outside = [d for d in range(12) if d not in modes]
        tables[quality, :, outside] = OUTSIDE_PENALTY
        tables[quality, 1, other] = MODE_PENALTY
        tables[quality, 2, first] = MODE_PENALTY
    return tables
