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
        self.pitch_class = torch.from_numpy(np.where(is_pitch, pitches % 12, -1))            # [V], -1 not a pitch
        self.table = _state_table(self.pitch_class)                                          # [STATES + 1, V]
        self.choice_of = _choice_table(self.pitch_class)                                      # [25, V]
        self.key_of = torch.full((len(vocab),), -1, dtype=torch.long)                         # [V]: KEY tokens' keys
        self.key_of[vocab.key_offset:vocab.shift_offset] = torch.arange(vocab.shift_offset - vocab.key_offset)
        self.is_pitch = (self.pitch_class >= 0).long()                                         # [V]
        self.key = torch.full((rows,), -1, dtype=torch.long)        # 0..11 major, 12..23 minor, -1 unknown
        self.choice = torch.zeros(rows, dtype=torch.long)           # 0: no mode chosen yet, 1: the first, 2: other
        self.started = torch.zeros(rows, dtype=torch.long)          # 1 once the row has played a note
        for token in np.asarray(prompt, dtype=np.int64).tolist():
            self.record(torch.full((rows,), token, dtype=torch.long))

    def record(self, token: torch.Tensor) -> None:
        """Note the tokens [B] the rows took: a KEY token sets the key, a pitch may choose the mode."""
        new_key = self.key_of[token]                                                          # [B], -1 if none
        if bool((new_key >= 0).any()):
            is_key = new_key >= 0
            self.key = torch.where(is_key, new_key, self.key)
            self.choice = torch.where(is_key, 0, self.choice)
            self.started = torch.where(is_key, 0, self.started)
        chosen = self.choice_of[self.key, token]                    # row -1 (unknown key) chooses nothing
        self.choice = torch.where(self.choice == 0, chosen, self.choice)
        self.started = self.started | self.is_pitch[token]

    def select(self, rows: torch.Tensor) -> None:
        """Keep the given rows, in this order (beam search)."""
        self.key, self.choice, self.started = self.key[rows], self.choice[rows], self.started[rows]

    def bias(self, logits: torch.Tensor) -> None:
        """Lower (in place) the logits [B, V] of pitches outside each row's mode."""
        state = torch.where(self.key >= 0, self.key * 6 + self.choice * 2 + self.started, STATES)     # [B]
        logits.sub_(self.table.index_select(0, state))


STATES = 24 * 3 * 2     # key x mode choice x started; one more row, all zeros, for an unknown key


def _state_table(pitch_class: torch.Tensor) -> torch.Tensor:
    """float [STATES + 1, V]: the penalty of every token in each state (row key * 6 + choice * 2 + started)."""
    per_degree = _penalty_tables()                                                            # [2, 3, 12]
    table = torch.zeros(STATES + 1, len(pitch_class))
    is_pitch = pitch_class >= 0
    for key in range(24):
        minor, tonic = key // 12, key % 12
        degree = (pitch_class - tonic) % 12                                                   # [V]
        off_triad = ~torch.isin(degree, torch.tensor([0, 7, 3 if minor else 4]))
        for choice in range(3):
            for started in range(2):
                penalty = per_degree[minor, choice][degree] + OPENING_PENALTY * off_triad * (1 - started)
                table[key * 6 + choice * 2 + started] = penalty * is_pitch
    return table


def _choice_table(pitch_class: torch.Tensor) -> torch.Tensor:
    """int64 [25, V]: the mode choice a token makes in each key (1: the first mode's note, 2: the other's, 0:
    none); row 24 (indexed as -1) is the unknown key."""
    table = torch.zeros(25, len(pitch_class), dtype=torch.long)
    for key in range(24):
        first, other = MINOR_CHOICE if key >= 12 else MAJOR_CHOICE
        degree = torch.where(pitch_class >= 0, (pitch_class - key) % 12, -1)
        table[key] = torch.where(degree == first, 1, torch.where(degree == other, 2, 0))
    return table


def _penalty_tables() -> torch.Tensor:
    """float [2, 3, 12]: the penalty of each degree for (major, minor) x (no choice yet, first, other)."""
    tables = torch.zeros(2, 3, 12)
    for quality, (modes, (first, other)) in enumerate(((MAJOR_MODES, MAJOR_CHOICE), (MINOR_MODES, MINOR_CHOICE))):
        outside = [d for d in range(12) if d not in modes]
        tables[quality, :, outside] = OUTSIDE_PENALTY
        tables[quality, 1, other] = MODE_PENALTY
        tables[quality, 2, first] = MODE_PENALTY
    return tables
