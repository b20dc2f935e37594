"""Published polyphonic benchmarks (JSB Chorales, Nottingham): piano rolls <-> note events, the model, exact NLL.

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

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

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
@dataclass(frozen=True)
class PolyConfig:
    """Shape of a :class:`PolyphonicLM` and its encoding. Saved inside every polyphonic model file.

    Attributes:
        order: order of the pitches within a frame (``ascending`` or ``descending``).
        embedding_size: width of the input vector (token embedding plus the feature projections).
        hidden_size: width of each LSTM layer.
        num_layers: stacked LSTM layers.
        dropout: dropout on the input, between layers and before the head.
        beat_period: the frame index modulo this is an input feature (1 turns it off).
        frame_features: feed the previous frame and the pitches emitted so far as multi-hot vectors.
        skip_kernel: width of a translation-equivariant skip from the four feature channels straight to the
            pitch logits (a 1-D convolution over pitch; 0 turns it off).
        relative_head: the skip's kernel is computed from the LSTM output at every step (a linear map of it),
            instead of being one fixed kernel.
        tie_weights: share the pitch rows of the token embedding with the output head.
        copy_features: two more channels, the copy frame (what followed the latest earlier occurrence of the
            longest repeated context, see :func:`copy_sources`) and its pitch of the rank to come while the frame
            so far agrees with it; and an embedding of the matched length and that agreement.
    """

    order: str = "ascending"
    embedding_size: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.3
    beat_period: int = 4
    frame_features: bool = True
    skip_kernel: int = 25
    relative_head: bool = False
    tie_weights: bool = False
    copy_features: bool = False

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        for name in ("embedding_size", "hidden_size", "num_layers", "beat_period"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.skip_kernel < 0 or (self.skip_kernel and self.skip_kernel % 2 == 0):
            raise ValueError(f"skip_kernel must be 0 or odd, got {self.skip_kernel}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PolyConfig:
        from composer.melody.encoding import dataclass_from_dict

        return dataclass_from_dict(cls, values, "polyphonic model settings")


CHANNELS = 4  # previous frame, emitted so far, previous frame's note of the same rank, last emitted pitch
COPY_CHANNELS = 2  # with copy_features: the copy frame, its note of the rank to come (while the frame agrees)


def num_channels(config: PolyConfig) -> int:
    return CHANNELS + (COPY_CHANNELS if config.copy_features else 0)


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


def valid_next_mask(inputs: torch.Tensor, order: str) -> torch.Tensor:
    """Which output tokens can follow each input token in an encoding.

    Args:
        inputs: int64 [...] input token ids.
        order: the frame order.

    Returns:
        bool [..., 130]: after a pitch, only pitches further in ``order`` and ``EOF``; after ``BOS``/``EOF`` any
        pitch, ``EOF`` or ``EOP``.
    """
    pitches = torch.arange(NUM_PITCHES, device=inputs.device)
    last = inputs.unsqueeze(-1)                                          # [..., 1]
    is_pitch = last < NUM_PITCHES
    later = pitches > last if order == "ascending" else pitches < last    # [..., 128]
    pitch_ok = torch.where(is_pitch, later, torch.ones_like(later))
    eof_ok = torch.ones_like(last, dtype=torch.bool)
    eop_ok = ~is_pitch
    return torch.cat([pitch_ok, eof_ok, eop_ok], dim=-1)


class PolyphonicLM(nn.Module):
    """Token embedding + frame features -> stacked LSTM -> logits over pitches, ``EOF``, ``EOP``."""

    def __init__(self, config: PolyConfig) -> None:
        super().__init__()
        self.config = config
        size = config.embedding_size
        self.embedding = nn.Embedding(INPUT_SIZE, size)
        self.position = nn.Embedding(MAX_POSITION + 1, size)
        self.beat = nn.Embedding(config.beat_period, size)
        self.channels = channels = num_channels(config)
        self.copy_embedding = nn.Embedding((COPY_CONTEXT + 1) * COPY_STATES, size) if config.copy_features else None
        self.frame_projection = (nn.Linear(channels * NUM_PITCHES, size, bias=False) if config.frame_features
                                 else None)
        self.rnn = nn.LSTM(size, config.hidden_size, config.num_layers, batch_first=True,
                           dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        head_in = config.hidden_size
        self.projection = None
        if config.tie_weights:
            self.projection = nn.Linear(config.hidden_size, size)
            head_in = size
        self.head = nn.Linear(head_in, OUTPUT_SIZE)
        self.skip = self.kernels = None
        if config.skip_kernel and config.relative_head:
            self.kernels = nn.Linear(config.hidden_size, channels * config.skip_kernel)
            nn.init.zeros_(self.kernels.weight)
            nn.init.zeros_(self.kernels.bias)
        elif config.skip_kernel:
            self.skip = nn.Conv1d(channels, 1, config.skip_kernel, padding=config.skip_kernel // 2)
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        nn.init.normal_(self.embedding.weight, std=0.05)
        hidden = config.hidden_size
        for name, param in self.rnn.named_parameters():
            if name.startswith("bias_ih"):
                with torch.no_grad():
                    param[hidden:2 * hidden].fill_(1.0)  # forget-gate bias 1

    def forward(self, batch: StepBatch, state=None) -> tuple[torch.Tensor, tuple]:
        """Masked next-token logits (``-inf`` where a token cannot follow).

        Returns:
            logits [B, T, 130] and the LSTM state after the last step.
        """
        x = self.embedding(batch.inputs) + self.position(batch.position)             # [B, T, E]
        x = x + self.beat(batch.beat % self.config.beat_period)
        if self.copy_embedding is not None:
            if batch.copy_state is None or batch.channels.shape[2] != self.channels:
                raise ValueError("this model reads copy features: build its batches with step_batch(copy=True)")
            x = x + self.copy_embedding(batch.copy_state)
        b, t = batch.inputs.shape
        if self.frame_projection is not None:
            x = x + self.frame_projection(batch.channels.reshape(b, t, self.channels * NUM_PITCHES))
        out, state = self.rnn(self.drop(x), state)                                   # [B, T, H]
        out = self.drop(out)
        if self.projection is not None:
            logits = self.projection(out) @ self.embedding.weight[:OUTPUT_SIZE].t() + self.head.bias
        else:
            logits = self.head(out)                                                  # [B, T, 130]
        pitch_bias = None
        if self.skip is not None:
            channels = batch.channels.reshape(b * t, self.channels, NUM_PITCHES)     # [BT, C, 128]
            pitch_bias = self.skip(channels).reshape(b, t, NUM_PITCHES)              # [B, T, 128]
        elif self.kernels is not None:
            pitch_bias = self._relative_bias(out, batch.channels)
        if pitch_bias is not None:
            logits = logits + torch.cat([pitch_bias, pitch_bias.new_zeros(b, t, OUTPUT_SIZE - NUM_PITCHES)], -1)
        mask = valid_next_mask(batch.inputs, self.config.order)
        return logits.masked_fill(~mask, float("-inf")), state

    def _relative_bias(self, out: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        """Pitch logits from a per-step kernel over the feature channels (equivariant under transposition).

        Args:
            out: [B, T, H] LSTM output.
            channels: [B, T, C, 128].

        Returns:
            [B, T, 128]: for pitch p, sum over channel c and offset k of kernel[c, k] * channels[c, p + k - K//2].
        """
        b, t, width = out.shape[0], out.shape[1], self.config.skip_kernel
        half, span = width // 2, NUM_PITCHES + width - 1
        kernel = self.kernels(out).reshape(b * t, self.channels, width)                     # [BT, C, K]
        # the channels are sparse: add each active pitch q's kernel around q instead of convolving
        step, flat = channels.reshape(b * t, self.channels * NUM_PITCHES).nonzero(as_tuple=True)  # [A], [A]
        channel, pitch = flat // NUM_PITCHES, flat % NUM_PITCHES
        offsets = torch.arange(width, device=out.device)
        slots = pitch[:, None] - offsets[None, :] + 2 * half                                 # [A, K] in 0..span-1
        index = (step[:, None] * span + slots).flatten()
        bias = out.new_zeros(b * t * span).index_add(0, index, kernel[step, channel].flatten())
        return bias.reshape(b, t, span)[..., half:half + NUM_PITCHES]                        # [B, T, 128]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def token_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """NLL of each target under masked logits; 0 on padding (target -1).

    Args:
        logits: [B, T, 130] from :meth:`PolyphonicLM.forward`.
        targets: int64 [B, T].

    Returns:
        float [B, T] nats.
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return torch.where(targets >= 0, -picked, torch.zeros_like(picked))


# -- evaluation -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitScore:
    """Exact NLL of a split: ``frame_nll`` = total nats / frames (as in the papers), ``token_nll`` per token."""

    total_nats: float
    frames: int
    tokens: int
    pieces: int
    lstm_total_nats: float | None = None   # with a repeat cache: the LSTM's own total (None: no cache)

    @property
    def frame_nll(self) -> float:
        return self.total_nats / self.frames

    @property
    def token_nll(self) -> float:
        return self.total_nats / self.tokens

    @property
    def lstm_frame_nll(self) -> float | None:
        return None if self.lstm_total_nats is None else self.lstm_total_nats / self.frames

    def to_dict(self) -> dict:
        out = {"frame_nll": self.frame_nll, "token_nll": self.token_nll, "total_nats": self.total_nats,
               "frames": self.frames, "tokens": self.tokens, "pieces": self.pieces}
        if self.lstm_total_nats is not None:
            out.update(repeat_cache=True, lstm_frame_nll=self.lstm_frame_nll, lstm_total_nats=self.lstm_total_nats)
        return out


@torch.no_grad()
def token_nlls(model: PolyphonicLM, encoded: EncodedPieces, device: torch.device | str = "cpu",
               batch_pieces: int = 16) -> list[np.ndarray]:
    """NLL of every token of every piece, each piece run from a zero state, in eval mode.

    Returns:
        per piece, float64 [its tokens] nats (``encode_piece`` order: the frames' pitches and ``EOF``s, ``EOP``).
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = [np.zeros(0)] * encoded.num_pieces
    lengths = np.diff(encoded.starts)
    order = np.argsort(-lengths, kind="stable")  # similar lengths together: less padding
    for first in range(0, len(order), batch_pieces):
        chosen = order[first:first + batch_pieces]
        rows = [np.arange(encoded.starts[p], encoded.starts[p + 1]) for p in chosen]
        batch = step_batch(encoded, rows, model.config.order, device, copy=model.config.copy_features)
        logits, _ = model(batch)
        nll = token_nll(logits, batch.targets).double().cpu().numpy()           # [B, T]
        for row, piece in enumerate(chosen):
            out[piece] = nll[row, :lengths[piece]]
    model.train(was_training)
    return out


def piece_nlls(model: PolyphonicLM, encoded: EncodedPieces, device: torch.device | str = "cpu",
               batch_pieces: int = 16) -> np.ndarray:
    """Summed token NLL of every piece, each run from a zero state, in eval mode.

    Returns:
        float64 [P] nats per piece.
    """
    return np.array([nll.sum() for nll in token_nlls(model, encoded, device, batch_pieces)])


def score_split(model: PolyphonicLM, pieces: list[PieceRoll], device: torch.device | str = "cpu") -> SplitScore:
    """Exact NLL of a list of pieces (frame-level and token-level)."""
    encoded = encode_pieces(pieces, model.config.order, copy=model.config.copy_features)
    totals = piece_nlls(model, encoded, device)
    total = float(totals.sum())
    if not math.isfinite(total):
        raise ValueError("a piece has zero probability under the model (infinite NLL)")
    return SplitScore(total, int(encoded.frames.sum()), len(encoded.targets), encoded.num_pieces)
