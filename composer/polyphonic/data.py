"""Published polyphonic benchmarks (JSB Chorales, Nottingham, MuseData, Piano-midi.de): piano rolls <-> note events.

A benchmark file is JSON ``{"train"|"valid"|"test": [piece, ...]}``; a piece is a list of frames and a frame a
list of the MIDI pitches (integers 0..127) that sound in it (Boulanger-Lewandowski et al. 2012).

Encoding (a bijection between pieces and token sequences): each frame becomes its pitches in a fixed order
(ascending or descending) followed by ``EOF`` (end of frame); the piece ends with ``EOP`` (end of piece). The model
reads ``BOS`` first. A piece of F frames with N notes is N + F + 1 predicted tokens, and its NLL is the sum of all
of them (the ``EOF`` and ``EOP`` tokens included, so the number of notes per frame and the length are modelled).

Masking: since a frame's pitches come in a fixed order, a pitch that cannot follow (not above the last pitch in
ascending order, a repeated pitch) can never occur in an encoding. The model's softmax is taken over the tokens
that can occur next, so it is a normalized distribution over valid encodings, i.e. over piano rolls.

Input features at every step are functions of the tokens read so far (the model stays an exact autoregressive
language model): the token, the previous frame as a multi-hot vector, the pitches of the current frame emitted
so far, how many there are, and the frame index modulo ``beat_period``; optionally (``copy_features``) the frame
that followed the latest earlier occurrence of the longest repeated context, since music repeats its passages.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

NUM_PITCHES = 128
EOF = 128  # end of frame
EOP = 129  # end of piece
BOS = 130  # start (input only, never predicted)
OUTPUT_SIZE = 130  # pitches, EOF, EOP
INPUT_SIZE = 131
ORDERS = ("ascending", "descending")
SPLITS = ("train", "valid", "test")
MAX_POSITION = 15  # notes-so-far counts above this share one embedding
COPY_CONTEXT = 16  # longest repeated context (frames) the copy features look for
COPY_STATES = 4    # no copy; the frame so far agrees with the copy, which goes on; agrees, copy complete; disagrees

Frame = list[int]
PieceRoll = list[Frame]


class BenchmarkDataError(Exception):
    """A benchmark file is missing, not JSON, or not of the ``{split: [piece: [frame: [pitch]]]}`` shape."""


# -- reading the benchmark format ------------------------------------------------------------------
def load_benchmark(path: str | os.PathLike) -> dict[str, list[PieceRoll]]:
    """Read and check a benchmark file.

    Args:
        path: JSON file ``{"train"|"valid"|"test": [piece: [frame: [MIDI pitches]]]}`` (any subset of the splits).

    Returns:
        split name -> pieces; each frame's pitches sorted ascending.

    Raises:
        BenchmarkDataError: missing file, bad JSON, no known split, or a value of the wrong shape (the message names
            the split, piece and frame).
    """
    path = Path(path)
    if not path.is_file():
        raise BenchmarkDataError(f"no such benchmark file: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BenchmarkDataError(f"{path} is not a JSON file: {error}") from None
    if not isinstance(data, dict):
        raise BenchmarkDataError(f"{path}: expected an object with keys train/valid/test, got {type(data).__name__}")
    known = {name: value for name, value in data.items() if name in SPLITS}
    if not known:
        raise BenchmarkDataError(f"{path}: no split found (expected keys among {', '.join(SPLITS)}, "
                                 f"got {', '.join(map(str, data)) or 'none'})")
    return {name: check_pieces(pieces, f"{path}: split {name!r}") for name, pieces in known.items()}


def check_pieces(pieces: object, where: str) -> list[PieceRoll]:
    """Check the shape of one split and return it with every frame sorted.

    Raises:
        BenchmarkDataError: naming the first piece/frame/pitch that is wrong.
    """
    if not isinstance(pieces, list):
        raise BenchmarkDataError(f"{where}: expected a list of pieces, got {type(pieces).__name__}")
    checked = []
    for i, piece in enumerate(pieces):
        if not isinstance(piece, list) or not piece:
            raise BenchmarkDataError(f"{where}, piece {i}: expected a non-empty list of frames")
        frames = []
        for j, frame in enumerate(piece):
            if not isinstance(frame, list):
                raise BenchmarkDataError(f"{where}, piece {i}, frame {j}: expected a list of pitches, "
                                         f"got {type(frame).__name__}")
            for pitch in frame:
                if isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch < NUM_PITCHES:
                    raise BenchmarkDataError(f"{where}, piece {i}, frame {j}: {pitch!r} is not a MIDI pitch 0..127")
            if len(set(frame)) != len(frame):
                raise BenchmarkDataError(f"{where}, piece {i}, frame {j}: repeated pitch in {frame}")
            frames.append(sorted(frame))
        checked.append(frames)
    return checked


# -- frames <-> tokens -------------------------------------------------------------------------------
def encode_piece(piece: PieceRoll, order: str = "ascending") -> list[int]:
    """Token ids of a piece (without ``BOS``): per frame its pitches in ``order`` then ``EOF``; ``EOP`` last."""
    tokens = []
    for frame in piece:
        tokens.extend(sorted(frame, reverse=order == "descending"))
        tokens.append(EOF)
    tokens.append(EOP)
    return tokens


def decode_tokens(tokens: list[int], order: str = "ascending") -> PieceRoll:
    """Inverse of :func:`encode_piece`; frames come back sorted ascending.

    Raises:
        ValueError: a sequence that is no encoding (missing ``EOP``, tokens after it, pitches out of order,
            unknown ids).
    """
    frames: PieceRoll = []
    frame: Frame = []
    for position, token in enumerate(tokens):
        if token == EOP:
            if frame or position != len(tokens) - 1:
                raise ValueError(f"EOP at position {position} is not at the end of the last frame")
            return frames
        if token == EOF:
            frames.append(sorted(frame))
            frame = []
        elif 0 <= token < NUM_PITCHES:
            if frame and not (token > frame[-1] if order == "ascending" else token < frame[-1]):
                raise ValueError(f"pitch {token} at position {position} breaks the {order} order")
            frame.append(token)
        else:
            raise ValueError(f"unknown token id {token} at position {position}")
    raise ValueError("no EOP token: the sequence does not end a piece")


def transpose_piece(piece: PieceRoll, semitones: int) -> PieceRoll:
    """The piece moved by ``semitones`` (the caller keeps it within 0..127)."""
    return [[pitch + semitones for pitch in frame] for frame in piece]


@dataclass
class EncodedPieces:
    """Model inputs for a list of pieces, one row per input step, all pieces concatenated.

    Attributes:
        inputs: int64 [S] input token of each step (``BOS`` first in every piece).
        targets: int64 [S] the token to predict at that step.
        frame_index: int64 [S] index into ``rolls`` of the frame being written (a spare empty row after each piece).
        prev_index: int64 [S] index into ``rolls`` of the previous frame (the empty row 0 at a piece's start).
        position: int64 [S] notes of the current frame emitted so far.
        beat: int64 [S] index of the current frame within the piece.
        starts: int64 [P + 1] where each piece's steps begin (and the total).
        frames: int64 [P] frames of each piece.
        rolls: bool [R, 128] multi-hot frames (row 0 all zeros).
        copy_index: int64 [S] index into ``rolls`` of the copy frame (see :func:`copy_sources`; row 0 if none);
            None unless encoded with ``copy=True``.
        copy_state: int64 [S] matched context length (0..``COPY_CONTEXT``) * ``COPY_STATES`` + the agreement state;
            None unless encoded with ``copy=True``.
    """

    inputs: np.ndarray
    targets: np.ndarray
    frame_index: np.ndarray
    prev_index: np.ndarray
    position: np.ndarray
    beat: np.ndarray
    starts: np.ndarray
    frames: np.ndarray
    rolls: np.ndarray
    copy_index: np.ndarray | None = None
    copy_state: np.ndarray | None = None

    @property
    def num_pieces(self) -> int:
        return len(self.frames)


def copy_sources(piece: PieceRoll, max_context: int = COPY_CONTEXT) -> list[tuple[int, int]]:
    """Where the piece seems to repeat itself, for each frame index 0..len(piece) (the last: the end).

    For frame t, the longest k <= ``max_context`` such that frames t-k..t-1 occurred before as frames s-k..s-1
    (s < t), and the latest such s: frame s is what followed that context last time, the *copy frame* of t.
    Only frames before t are read.

    Returns:
        per frame index, (s, k); (-1, 0) when not even the previous frame occurred before.
    """
    ids = [tuple(frame) for frame in piece]
    latest: list[dict[tuple, int]] = [{} for _ in range(max_context + 1)]   # per k: context -> latest s
    out = []
    for t in range(len(ids) + 1):
        source, length = -1, 0
        for k in range(1, min(t, max_context) + 1):
            s = latest[k].get(tuple(ids[t - k:t]))
            if s is None:
                break
            source, length = s, k
        out.append((source, length))
        if t < len(ids):                                    # frame t followed each context ending before it
            for k in range(1, min(t, max_context) + 1):
                latest[k][tuple(ids[t - k:t])] = t
    return out


def copy_state(copy: Frame | None, emitted: Frame, length: int) -> int:
    """The copy-state id of a step: matched length and whether the frame so far agrees with the copy frame.

    Args:
        copy: the copy frame's pitches in the frame order (None: no copy frame).
        emitted: the current frame's pitches emitted so far, in order.
        length: the matched context length.
    """
    if copy is None:
        return 0
    if copy[:len(emitted)] != emitted:
        agreement = 3
    else:
        agreement = 1 if len(copy) > len(emitted) else 2
    return min(length, COPY_CONTEXT) * COPY_STATES + agreement


def encode_pieces(pieces: list[PieceRoll], order: str = "ascending", copy: bool = False) -> EncodedPieces:
    """Encode pieces for the model (see :class:`EncodedPieces`); ``copy``: also the copy features' inputs."""
    inputs, targets, frame_index, prev_index, position, beat = [], [], [], [], [], []
    copy_index, copy_states = [], []
    roll_rows: list[Frame] = [[]]  # row 0: the empty frame
    starts = [0]
    for piece in pieces:
        first_row = len(roll_rows)
        roll_rows.extend(piece)
        roll_rows.append([])  # the frame "after the last one", read while predicting EOP
        if copy:
            sources = copy_sources(piece)
            copies = [sorted(piece[s], reverse=order == "descending") if s >= 0 else None for s, _ in sources]
        tokens = encode_piece(piece, order)
        previous = BOS
        f, emitted = 0, []
        for token in tokens:
            inputs.append(previous)
            targets.append(token)
            frame_index.append(first_row + f)
            prev_index.append(first_row + f - 1 if f > 0 else 0)
            position.append(len(emitted))
            beat.append(f)
            if copy:
                source, length = sources[f]
                copy_index.append(first_row + source if source >= 0 else 0)
                copy_states.append(copy_state(copies[f], emitted, length))
            if token == EOF:
                f, emitted = f + 1, []
            else:
                emitted.append(token)
            previous = token
        starts.append(len(inputs))
    rolls = np.zeros((len(roll_rows), NUM_PITCHES), dtype=bool)
    for row, frame in enumerate(roll_rows):
        rolls[row, frame] = True
    as_array = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return EncodedPieces(as_array(inputs), as_array(targets), as_array(frame_index), as_array(prev_index),
                         as_array(position), as_array(beat), as_array(starts),
                         as_array([len(piece) for piece in pieces]), rolls,
                         as_array(copy_index) if copy else None, as_array(copy_states) if copy else None)


# -- the model ---------------------------------------------------------------------------------------


@dataclass
class StepBatch:
    """A [B, T] block of steps (padding: target -1) with the features the model reads.

    ``channels`` holds four multi-hot vectors over the 128 pitches at every step, all functions of the tokens
    read so far: the previous frame; the current frame's pitches emitted so far; the previous frame's pitch of the
    same rank as the next note (its k-th pitch in the frame order when k notes are out: "the same voice"); the
    pitch just emitted (empty after ``BOS``/``EOF``). With copy features, two more: the copy frame, and its pitch
    of the same rank as the next note while the frame so far agrees with it (see :class:`PolyConfig`).
    """

    inputs: torch.Tensor      # int64 [B, T]
    targets: torch.Tensor     # int64 [B, T], -1 on padding
    channels: torch.Tensor    # float [B, T, C, 128], C = 4 (6 with copy features)
    position: torch.Tensor    # int64 [B, T] notes of the current frame emitted so far
    beat: torch.Tensor        # int64 [B, T] index of the current frame in the piece
    copy_state: torch.Tensor | None = None   # int64 [B, T] with copy features (see EncodedPieces)


def step_batch(encoded: EncodedPieces, rows: list[np.ndarray], order: str, device: torch.device,
               copy: bool = False) -> StepBatch:
    """Gather steps into a padded batch.

    Args:
        encoded: the encoded pieces.
        rows: per batch row, the step indices (into ``encoded``) it holds; shorter rows are padded.
        order: the frame order (decides which pitches of the frame are "emitted so far").
        device: where the tensors go.
        copy: add the copy channels and states (for a model with ``copy_features``; ``encoded`` must have been
            encoded with ``copy=True``).
    """
    if copy and encoded.copy_state is None:
        raise ValueError("copy features need pieces encoded with encode_pieces(copy=True)")
    width = max(len(r) for r in rows)
    index = np.zeros((len(rows), width), dtype=np.int64)
    valid = np.zeros((len(rows), width), dtype=bool)
    for b, r in enumerate(rows):
        index[b, :len(r)] = r
        valid[b, :len(r)] = True
    inputs = np.where(valid, encoded.inputs[index], EOF)
    targets = np.where(valid, encoded.targets[index], -1)
    position = np.where(valid, encoded.position[index], 0)
    previous = encoded.rolls[np.where(valid, encoded.prev_index[index], 0)]       # [B, T, 128]
    current = encoded.rolls[np.where(valid, encoded.frame_index[index], 0)]       # [B, T, 128]
    pitches = np.arange(NUM_PITCHES)
    last = inputs[..., None]                                                      # [B, T, 1]
    is_pitch = last < NUM_PITCHES
    so_far = (pitches <= last) if order == "ascending" else (pitches >= last)
    emitted = current & so_far & is_pitch
    same_rank = previous & (_ranks(previous, order) == position[..., None] + 1)    # [B, T, 128]
    just_emitted = (pitches == last) & is_pitch
    planes = [previous, emitted, same_rank, just_emitted]
    state = None
    if copy:
        state = np.where(valid, encoded.copy_state[index], 0)                      # [B, T]
        copied = encoded.rolls[np.where(valid, encoded.copy_index[index], 0)]      # [B, T, 128]
        goes_on = (state % COPY_STATES == 1)[..., None]
        planes += [copied, copied & goes_on & (_ranks(copied, order) == position[..., None] + 1)]
    channels = np.stack(planes, axis=2)                                            # [B, T, C, 128]
    as_tensor = lambda a, dtype: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return StepBatch(as_tensor(inputs, torch.int64), as_tensor(targets, torch.int64),
                     as_tensor(channels, torch.float32),
                     as_tensor(np.minimum(position, MAX_POSITION), torch.int64),
                     as_tensor(np.where(valid, encoded.beat[index], 0), torch.int64),
                     as_tensor(state, torch.int64) if copy else None)


def _ranks(rolls: np.ndarray, order: str) -> np.ndarray:
    """Rank (1-based, in the frame order) of every pitch of multi-hot frames [..., 128]."""
    return np.cumsum(rolls, axis=-1) if order == "ascending" else np.cumsum(rolls[..., ::-1], -1)[..., ::-1]


# -- evaluation -------------------------------------------------------------------------------------


