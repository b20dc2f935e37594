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
        self.is_pitch = torch.from_numpy(is_pitch)                                            # [V]
        self.tonic = torch.full((rows,), -1, dtype=torch.long)
        self.minor = torch.zeros(rows, dtype=torch.bool)
        self.chosen = torch.full((rows,), -1, dtype=torch.long)   # the degree the row chose (-1: not yet)
        self.started = torch.zeros(rows, dtype=torch.bool)        # has the row played a note yet
        self.tables = _penalty_tables()                           # [2 qualities, 3 choices, 12 degrees]
        for token in np.asarray(prompt, dtype=np.int64).tolist():
            self.record(torch.full((rows,), token, dtype=torch.long))

    def record(self, token: torch.Tensor) -> None:
        """Note the tokens [B] the rows took: a KEY token sets the key, a pitch may choose the mode."""
        is_key = (token >= self.vocab.key_offset) & (token < self.vocab.shift_offset)
        if bool(is_key.any()):
            index = token - self.vocab.key_offset
            self.tonic = torch.where(is_key, index % 12, self.tonic)
            self.minor = torch.where(is_key, index >= 12, self.minor)
            self.chosen = torch.where(is_key, torch.full_like(self.chosen, -1), self.chosen)
            self.started = self.started & ~is_key
        degree = (self.pitch_class[token] - self.tonic) % 12                                  # [B]
        choices = torch.where(self.minor, torch.tensor(MINOR_CHOICE[0]), torch.tensor(MAJOR_CHOICE[0]))
        others = torch.where(self.minor, torch.tensor(MINOR_CHOICE[1]), torch.tensor(MAJOR_CHOICE[1]))
        chooses = (self.pitch_class[token] >= 0) & (self.tonic >= 0) & (self.chosen < 0) & \
            ((degree == choices) | (degree == others))
        self.chosen = torch.where(chooses, degree, self.chosen)
        self.started = self.started | (self.pitch_class[token] >= 0)

    def select(self, rows: torch.Tensor) -> None:
        """Keep the given rows, in this order (beam search)."""
        self.tonic, self.minor, self.chosen = self.tonic[rows], self.minor[rows], self.chosen[rows]
        self.started = self.started[rows]

    def bias(self, logits: torch.Tensor) -> None:
        """Lower (in place) the logits [B, V] of pitches outside each row's mode."""
        known = self.tonic >= 0
        if not bool(known.any()):
            return
        choice = torch.zeros_like(self.chosen)                     # 0: none yet, 1: the first, 2: the other
        choice = torch.where(self.chosen == torch.where(self.minor, MINOR_CHOICE[0], MAJOR_CHOICE[0]), 1, choice)
        choice = torch.where(self.chosen == torch.where(self.minor, MINOR_CHOICE[1], MAJOR_CHOICE[1]), 2, choice)
        per_degree = self.tables[self.minor.long(), choice]                                   # [B, 12]
        degree = (self.pitch_class.unsqueeze(0) - self.tonic.unsqueeze(1)) % 12               # [B, V]
        third = torch.where(self.minor, 3, 4).unsqueeze(1)                                   # [B, 1]
        off_triad = (degree != 0) & (degree != 7) & (degree != third) & ~self.started.unsqueeze(1)
        penalty = per_degree.gather(1, degree) + OPENING_PENALTY * off_triad                 # [B, V]
        logits.sub_(penalty * self.is_pitch.unsqueeze(0) * known.unsqueeze(1))


def _penalty_tables() -> torch.Tensor:
    """float [2, 3, 12]: the penalty of each degree for (major, minor) x (no choice yet, first, other)."""
    tables = torch.zeros(2, 3, 12)
    for quality, (modes, (first, other)) in enumerate(((MAJOR_MODES, MAJOR_CHOICE), (MINOR_MODES, MINOR_CHOICE))):
        outside = [d for d in range(12) if d not in modes]
        tables[quality, :, outside] = OUTSIDE_PENALTY
        tables[quality, 1, other] = MODE_PENALTY
        tables[quality, 2, first] = MODE_PENALTY
    return tables
