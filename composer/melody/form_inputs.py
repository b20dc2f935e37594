"""Form inputs of the melody model: where each token is in the bar, the phrase and the piece, and what
happened there one, two, four and eight bars ago (issue 14).

The model reads, beside each token, a few integer ids (one per *column*); each id picks a row of one
embedding table, and their rows are added to the token's embedding. All of them are facts about the time
cursor after the token (the time of the event the model predicts next, the rule chord conditioning follows):

=============  ===========================================================================  =======
feature        columns                                                                       classes
=============  ===========================================================================  =======
``position``   position in the bar in twelfths of a beat (capped); the metre (bar, beat)     144, 9
``remaining``  bars from the cursor's bar to the last bar: 0, 1, 2, 3, 4-7, 8 or more;        6, 10
               whole beats until the end: 0-8, or more
``phrase``     bar number within an eight-bar phrase (0-7), or the pickup bar                9
``lookbackN``  the note that started exactly N bars earlier: its MIDI pitch + 1 (0: none),    129, 49
               and its first duration token in twelfths of a beat (0: none; capped at 48)
``key``        the piece's key (its ``KEY`` token: 12 major, 12 minor; 24 before it or none)  25
=============  ===========================================================================  =======

``remaining`` is what lets a model close a piece: in training it counts to the piece's end, in generation to
the requested end; its beats column says where in the last bar the end falls (a tune with a pickup ends
before its last bar line), so the model knows which note is the final one. The lookbacks are Magenta's Lookback RNN idea: a bar that repeats one two
four or eight bars back is a copy of what the model is shown. ``key`` repeats the key at every step, so the
model does not have to remember one token from the start of the piece to keep to its key and close on its
tonic. Per-tick columns (``position``, ``remaining``, ``phrase``) depend only on the cursor, so generation
turns them into a table once; the lookback and key columns depend on what each row has written
(:class:`LookbackTracker`, and each row's KEY token).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.melody.encoding import Vocabulary
from composer.music.metre import Metre

POSITION_CLASSES = 144          # twelfths of a beat: bars up to 12 beats
METRES = ((24, 12), (36, 12), (48, 12), (36, 18), (54, 18), (72, 18), (48, 24), (72, 12))  # (bar, beat) /12
REMAINING_CLASSES = 6
END_BEAT_CLASSES = 10           # whole beats until the end: 0..8, 9 for more
PHRASE_BARS = 8
PITCH_CLASSES = 129             # MIDI pitch + 1; 0 for no note
DURATION_CLASSES = 49           # twelfths of a beat 1..48; 0 for no note
LOOKBACK_BARS = (1, 2, 4, 8)

KEY_CLASSES = 25                # 24 keys, and 24 for "not known yet"
FEATURES = ("position", "remaining", "phrase", *(f"lookback{n}" for n in LOOKBACK_BARS), "key")
_COLUMNS = {"position": (POSITION_CLASSES, len(METRES) + 1), "remaining": (REMAINING_CLASSES, END_BEAT_CLASSES),
            "phrase": (PHRASE_BARS + 1,), **{f"lookback{n}": (PITCH_CLASSES, DURATION_CLASSES)
                                              for n in LOOKBACK_BARS}, "key": (KEY_CLASSES,)}
ALL = ",".join(FEATURES)


@dataclass(frozen=True)
class FormLayout:
    """Which form features a model reads, and where their columns' rows lie in its embedding table.

    Attributes:
        features: feature names, in :data:`FEATURES` order.
    """

    features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> FormLayout:
        """The layout of a comma-separated feature list (``""``: none).

        Raises:
            ValueError: an unknown or repeated feature.
        """
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in FEATURES]
        if unknown:
            raise ValueError(f"unknown form feature {unknown[0]!r} (known: {', '.join(FEATURES)})")
        if len(set(names)) != len(names):
            raise ValueError(f"a form feature is listed twice in {text!r}")
        return cls(tuple(name for name in FEATURES if name in names))

    def __bool__(self) -> bool:
        return bool(self.features)

    @property
    def tick_features(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f in ("position", "remaining", "phrase"))

    @property
    def lags(self) -> tuple[int, ...]:
        """The lookback distances in bars."""
        return tuple(int(f[len("lookback"):]) for f in self.features if f.startswith("lookback"))

    def _offsets(self, features: tuple[str, ...], start: int) -> list[int]:
        offsets = []
        for feature in features:
            for classes in _COLUMNS[feature]:
                offsets.append(start)
                start += classes
        return offsets

    @property
    def tick_offsets(self) -> np.ndarray:
        """int64 [Kt]: first table row of each per-tick column."""
        return np.asarray(self._offsets(self.tick_features, 0), dtype=np.int64)

    @property
    def lookback_offsets(self) -> np.ndarray:
        """int64 [2 * lags]: first table row of each lookback column (pitch, duration per lag)."""
        start = sum(sum(_COLUMNS[f]) for f in self.tick_features)
        return np.asarray(self._offsets(tuple(f"lookback{n}" for n in self.lags), start), dtype=np.int64)

    @property
    def key_offset(self) -> int | None:
        """Table row of the key column's class 0 (None when the layout has no key column)."""
        if "key" not in self.features:
            return None
        return sum(sum(_COLUMNS[f]) for f in self.features if f != "key")

    @property
    def rows(self) -> int:
        """Rows of the embedding table."""
        return sum(sum(_COLUMNS[f]) for f in self.features)

    @property
    def width(self) -> int:
        """Ids per token (columns)."""
        return sum(len(_COLUMNS[f]) for f in self.features)


def metre_class(metre: Metre, ticks_per_beat: int) -> int:
    """Index of the metre in :data:`METRES`, or ``len(METRES)`` for any other."""
    key = (metre.bar_ticks * 12 // ticks_per_beat, metre.beat_ticks * 12 // ticks_per_beat)
    return METRES.index(key) if key in METRES else len(METRES)


def tick_ids(layout: FormLayout, metre: Metre, end_tick: int, ticks: np.ndarray, ticks_per_beat: int) -> np.ndarray:
    """The per-tick columns at each of ``ticks``.

    Args:
        layout: the model's form features.
        metre: bar lines of the piece.
        end_tick: where the piece ends (its last bar is the one before this tick).
        ticks: int [N] cursor times.
        ticks_per_beat: the grid.

    Returns:
        int64 [N, Kt] table rows (offsets included).
    """
    ticks = np.asarray(ticks, dtype=np.int64)
    columns = []
    bars = (ticks - metre.phase) // metre.bar_ticks                                         # [N]
    for feature in layout.tick_features:
        if feature == "position":
            within = (ticks - metre.phase) % metre.bar_ticks
            columns.append(np.minimum(within * 12 // ticks_per_beat, POSITION_CLASSES - 1))
            columns.append(np.full_like(ticks, metre_class(metre, ticks_per_beat)))
        elif feature == "remaining":
            last_bar = (max(end_tick, 1) - 1 - metre.phase) // metre.bar_ticks
            left = np.maximum(last_bar - bars, 0)
            columns.append(np.where(left >= 8, 5, np.where(left >= 4, 4, left)))
            columns.append(np.clip((end_tick - ticks) // ticks_per_beat, 0, END_BEAT_CLASSES - 1))
        elif feature == "phrase":
            columns.append(np.where(bars < 0, PHRASE_BARS, bars % PHRASE_BARS))
    if not columns:
        return np.zeros((len(ticks), 0), dtype=np.int64)
    return np.stack(columns, 1) + layout.tick_offsets


def note_tables(ids: np.ndarray, vocab: Vocabulary, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Per tick, the pitch class and duration class of the note that starts there (0 where none).

    Args:
        ids: int [T] token ids.
        length: ticks to cover (later onsets are left out).

    Returns:
        (pitch classes int64 [length], duration classes int64 [length]).
    """
    ids = np.asarray(ids, dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(vocab.shift_steps[ids])[:-1]])                 # cursor before each
    is_pitch = (ids >= vocab.pitch_offset) & (ids < vocab.duration_offset)
    where = np.flatnonzero(is_pitch & (before < length))
    pitches = np.zeros(length, dtype=np.int64)
    durations = np.zeros(length, dtype=np.int64)
    pitches[before[where]] = ids[where] - vocab.pitch_offset + vocab.config.min_pitch + 1
    following = np.minimum(where + 1, len(ids) - 1)
    has_duration = ids[following] >= vocab.duration_offset
    steps = ids[following] - vocab.duration_offset + 1
    twelfths = np.clip(steps * 12 // vocab.config.ticks_per_beat, 1, DURATION_CLASSES - 1)
    durations[before[where]] = np.where(has_duration & (where + 1 < len(ids)), twelfths, 0)
    return pitches, durations


def lookback_ids(layout: FormLayout, metre: Metre, cursor: np.ndarray, pitches: np.ndarray,
                 durations: np.ndarray) -> np.ndarray:
    """The lookback columns at each cursor time.

    Args:
        cursor: int [N] cursor times.
        pitches, durations: :func:`note_tables` of the piece so far (at least up to the largest cursor).

    Returns:
        int64 [N, 2 * lags] table rows (offsets included).
    """
    cursor = np.asarray(cursor, dtype=np.int64)
    columns = []
    for lag in layout.lags:
        back = cursor - lag * metre.bar_ticks
        inside = (back >= 0) & (back < len(pitches))
        safe = np.clip(back, 0, max(len(pitches) - 1, 0))
        columns.append(np.where(inside, pitches[safe], 0) if len(pitches) else np.zeros_like(cursor))
        columns.append(np.where(inside, durations[safe], 0) if len(durations) else np.zeros_like(cursor))
    if not columns:
        return np.zeros((len(cursor), 0), dtype=np.int64)
    return np.stack(columns, 1) + layout.lookback_offsets


def sequence_ids(ids: np.ndarray, vocab: Vocabulary, layout: FormLayout, metre: Metre,
                 end_tick: int | None = None) -> np.ndarray:
    """The form columns of every token of a sequence, for training and scoring.

    Position t gets the facts at the cursor after token t.

    Args:
        ids: int [T] token ids (BOS ... EOS).
        end_tick: where the piece ends (default: where its tokens end).

    Returns:
        int64 [T, K]: per-tick columns, then lookback columns.
    """
    ids = np.asarray(ids, dtype=np.int64)
    cursor = np.cumsum(vocab.shift_steps[ids])                                               # [T]
    end = int(cursor[-1]) if end_tick is None else end_tick
    per_tick = tick_ids(layout, metre, end, cursor, vocab.config.ticks_per_beat)
    pitches, durations = note_tables(ids, vocab, int(cursor[-1]) + 1)
    columns = [per_tick, lookback_ids(layout, metre, cursor, pitches, durations)]
    if layout.key_offset is not None:
        columns.append(key_ids(ids, vocab)[:, None] + layout.key_offset)
    return np.concatenate(columns, 1)


def key_ids(ids: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """int64 [T]: the key class at each position: the KEY token's index (0-23) from that token on, 24 before
    it (and throughout a sequence without one)."""
    ids = np.asarray(ids, dtype=np.int64)
    is_key = (ids >= vocab.key_offset) & (ids < vocab.shift_offset)
    classes = np.full(len(ids), KEY_CLASSES - 1, dtype=np.int64)
    where = np.flatnonzero(is_key)
    if len(where):
        classes[where[0]:] = ids[where[0]] - vocab.key_offset
    return classes


class LookbackTracker:
    """The lookback columns of a batch of rows during sampling, updated token by token.

    Each row keeps per tick the pitch and duration class of the note that starts there, so a step costs
    a few gathers. The state is numpy: a step's bookkeeping is a dozen operations on a few integers per
    row, where numpy's per-call cost is a fraction of PyTorch's (see :mod:`composer.melody.form_steps`).

    The table is padded with class 0 ("no note") before the first tick, as far back as the longest lag, and
    after the last, so a lookback before the piece's start or past the table needs no test.
    """

    def __init__(self, layout: FormLayout, metre: Metre, vocab: Vocabulary, prompt: np.ndarray,
                 rows: int, ticks: int) -> None:
        self.rows, self.ticks = rows, max(1, ticks)
        lags = np.array([lag * metre.bar_ticks for lag in layout.lags], dtype=np.int64)               # [L]
        self.pad = int(lags.max()) if len(lags) else 0                     # ticks of zeros before tick 0
        self.back = self.pad - lags                                        # [L]: table column = cursor + back
        self.last_column = self.pad + self.ticks                           # all zeros: past the table's end
        self.offsets = np.asarray(layout.lookback_offsets, dtype=np.int64).reshape(-1, 2)                # [L, 2]
        pitches, durations = note_tables(prompt, vocab, self.ticks)
        self.unused_column = self.last_column + 1                          # where a row with nothing to write writes
        # int16 [B, pad + ticks + 2, 2] (pitch class, duration class): 256 rows of 512 bars take 25 MB
        self.notes = np.zeros((rows, self.unused_column + 1, 2), dtype=np.int16)
        self.notes[:, self.pad:self.last_column, 0] = pitches
        self.notes[:, self.pad:self.last_column, 1] = durations
        # per token: 1 a pitch, 2 a duration, 0 neither; and the class it writes (pitch 1.., duration 1..)
        self.kind = np.zeros(len(vocab), dtype=np.int64)                                              # [V]
        self.kind[vocab.pitch_offset:vocab.duration_offset] = 1
        self.kind[vocab.duration_offset:] = 2
        self.value = np.zeros(len(vocab), dtype=np.int16)                                             # [V]
        self.value[vocab.pitch_offset:vocab.duration_offset] = (vocab.config.min_pitch + 1       # as note_tables
                                                                + np.arange(vocab.duration_offset - vocab.pitch_offset))
        twelfths = np.arange(1, len(vocab) - vocab.duration_offset + 1) * 12 // vocab.config.ticks_per_beat
        self.value[vocab.duration_offset:] = np.minimum(np.maximum(twelfths, 1), DURATION_CLASSES - 1)
        self.onset = np.full(rows, -1, dtype=np.int64)               # each row's note awaiting its duration
        self.row_index = np.arange(rows)[:, None]                     # [B, 1]

    def ids(self, cursor: np.ndarray) -> np.ndarray:
        """int64 [B, 2 * lags]: the lookback columns at each row's cursor (int [B])."""
        column = np.minimum(np.asarray(cursor, dtype=np.int64)[:, None] + self.back, self.last_column)  # [B, L]
        return (self.notes[self.row_index, column] + self.offsets).reshape(len(column), -1)          # [B, 2L]

    def record(self, token: np.ndarray, cursor_before: np.ndarray) -> None:
        """Note each row's new token (int [B]), drawn with its time cursor at ``cursor_before`` (int [B]).

        Every row writes, those with nothing to note into a column that is never read: no branches, a dozen
        operations a step.
        """
        token = np.asarray(token, dtype=np.int64)
        cursor_before = np.asarray(cursor_before, dtype=np.int64)
        kind, value, rows = self.kind[token], self.value[token], self.row_index[:, 0]     # [B] each
        is_pitch = (kind == 1) & (cursor_before < self.ticks)
        is_duration = (kind == 2) & (self.onset >= 0)
        self.notes[rows, np.where(is_duration, self.pad + self.onset, self.unused_column), 1] = value
        self.notes[rows, np.where(is_pitch, self.pad + cursor_before, self.unused_column), 0] = value
        self.onset = np.where(is_pitch, cursor_before, np.where(is_duration, -1, self.onset))

    def select(self, rows: np.ndarray) -> None:
        """Keep the given rows (int [R]), in this order (beam search)."""
        rows = np.asarray(rows, dtype=np.int64)
        self.notes = self.notes[rows]
        self.onset = self.onset[rows]
        self.row_index = np.arange(len(rows))[:, None]
