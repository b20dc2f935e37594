"""Chord conditioning of the melody model: chord codes per token and the vectors the model reads.

A chord travels beside the token ids as one integer code (:attr:`composer.music.chords.Chord.code`):
``-1`` for no chord, else ``root + 12 * mask``. The model sees it as a 25-number vector
(:func:`condition_vectors`): the root one-hot (12), the chord's pitch classes (12), a no-chord flag.
Training pieces are labelled with :func:`label_piece` (the bundled corpora carry no chord labels).
"""

from __future__ import annotations

import numpy as np
import torch

from composer.melody.encoding import piece_key
from composer.music.chords import NO_CHORD, ChordSpan, label_harmony, label_melody
from composer.music.notes import Piece, quantize




CONDITION_SIZE = 25  # root one-hot (12) + pitch classes (12) + no-chord flag (1)


def codes_per_tick(spans: list[ChordSpan], length: int, fill: int = NO_CHORD) -> np.ndarray:
    """int64 [length]: the chord code sounding at each tick (``fill`` where no span covers it)."""
    codes = np.full(max(1, length), fill, dtype=np.int64)
    for span in spans:
        codes[max(0, span.start):max(0, min(length, span.end))] = span.chord.code
    return codes


def token_chord_codes(ids: np.ndarray, shift_steps: np.ndarray, spans: list[ChordSpan]) -> np.ndarray:
    """The chord code for each token position, aligned for conditioning.

    Position t gets the chord sounding at the time cursor *after* token t, that is, the time of the
    event the model predicts next (the same rule :class:`composer.melody.sample.Sampler` follows).
    Ticks before the first span or after the last take the nearest span's chord.

    Args:
        ids: int [T] token ids.
        shift_steps: int [V] grid steps each token moves the cursor (``Vocabulary.shift_steps``).
        spans: the chord labels, sorted, not overlapping.

    Returns:
        int64 [T] chord codes (all NO_CHORD when there are no spans).
    """
    if not spans:
        return np.full(len(ids), NO_CHORD, dtype=np.int64)
    cursor = np.cumsum(shift_steps[np.asarray(ids, dtype=np.int64)])          # [T]
    starts = np.array([s.start for s in spans])
    codes = np.array([s.chord.code for s in spans], dtype=np.int64)
    index = np.clip(np.searchsorted(starts, cursor, side="right") - 1, 0, len(spans) - 1)
    return codes[index]


def transpose_codes(codes: np.ndarray, semitones: int) -> np.ndarray:
    """Chord codes moved by ``semitones`` (no-chord stays no-chord)."""
    codes = np.asarray(codes, dtype=np.int64)
    moved = codes - codes % 12 + (codes % 12 + semitones) % 12
    return np.where(codes < 0, codes, moved)


def condition_vectors(codes: torch.Tensor) -> torch.Tensor:
    """The model's view of chord codes.

    Args:
        codes: int64 [...] chord codes.

    Returns:
        float32 [..., 25]: root one-hot (12), pitch classes (12), no-chord flag (1).
    """
    codes = torch.as_tensor(codes, dtype=torch.long)
    absent = codes < 0
    safe = codes.clamp(min=0)
    root, mask = safe % 12, safe // 12
    pcs = torch.arange(12)
    root_hot = (root.unsqueeze(-1) == pcs).float()                           # [..., 12]
    above_root = (pcs - root.unsqueeze(-1)) % 12                             # [..., 12]
    tones = ((mask.unsqueeze(-1) >> above_root) & 1).float()                 # [..., 12]
    vectors = torch.cat([root_hot, tones, torch.zeros_like(root_hot[..., :1])], -1)
    return torch.where(absent.unsqueeze(-1), _NO_CHORD_VECTOR, vectors)


_NO_CHORD_VECTOR = torch.cat([torch.zeros(24), torch.ones(1)])


LABEL_METHODS = ("melody", "harmony")


LABELS_VERSION = 1          # bump when the labellers change what they say (invalidates cached labels)


MELODY_SPAN_BEATS = 2       # melody-implied labels: one chord per half 4/4 bar


HARMONY_SPAN_BEATS = 1      # labels from all voices: one chord per beat (a chorale's harmonic rhythm)


def label_piece(original: Piece, prepared: Piece, method: str) -> list[ChordSpan]:
    """Chord labels of a training piece, on the grid of its prepared (encoded) version.

    Args:
        original: the piece as read (every voice).
        prepared: the piece made encodable (:func:`composer.melody.encoding.prepare`), on the model's grid.
        method: ``melody`` (melody-implied, per 2 beats, from the prepared line in its encoded key) or
            ``harmony`` (template matching over every voice, per beat).

    Raises:
        ValueError: an unknown method.
    """
    beat = prepared.ticks_per_beat
    if method == "melody":
        return label_melody(prepared, MELODY_SPAN_BEATS * beat, piece_key(prepared))
    if method == "harmony":
        return label_harmony(quantize(original, beat), HARMONY_SPAN_BEATS * beat)
    raise ValueError(f"unknown chord labelling {method!r} (known: {', '.join(LABEL_METHODS)})")
