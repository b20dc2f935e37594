"""Exact NLL of benchmark pieces under a polyphonic model, per frame (as in the papers) and per token."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from composer.polyphonic.data import EncodedPieces, PieceRoll, encode_pieces, step_batch
from composer.polyphonic.model import PolyphonicLM, token_nll

Progress = Callable[[str, int, int], None]   # progress("scoring", pieces done, pieces)
BATCH_PIECES = 16   # pieces run through the LSTM together (similar lengths: little padding)


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
               batch_pieces: int = BATCH_PIECES, progress: Progress | None = None) -> list[np.ndarray]:
    """NLL of every token of every piece, each piece run from a zero state, in eval mode;
    ``progress("scoring", pieces done, pieces)`` is called first and after each batch.

    Returns:
        per piece, float64 [its tokens] nats (``encode_piece`` order: the frames' pitches and ``EOF``s, ``EOP``).
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = [np.zeros(0)] * encoded.num_pieces
    lengths = np.diff(encoded.starts)
    order = np.argsort(-lengths, kind="stable")  # similar lengths together: less padding
    if progress is not None:
        progress("scoring", 0, len(order))
    for first in range(0, len(order), batch_pieces):
        chosen = order[first:first + batch_pieces]
        rows = [np.arange(encoded.starts[p], encoded.starts[p + 1]) for p in chosen]
        batch = step_batch(encoded, rows, model.config.order, device, copy=model.config.copy_features)
        logits, _ = model(batch)
        nll = token_nll(logits, batch.targets).double().cpu().numpy()           # [B, T]
        for row, piece in enumerate(chosen):
            out[piece] = nll[row, :lengths[piece]]
        if progress is not None:
            progress("scoring", first + len(chosen), len(order))
    model.train(was_training)
    return out


def piece_nlls(model: PolyphonicLM, encoded: EncodedPieces, device: torch.device | str = "cpu",
               batch_pieces: int = BATCH_PIECES, progress: Progress | None = None) -> np.ndarray:
    """Summed token NLL of every piece, each run from a zero state, in eval mode (``progress``: as
    :func:`token_nlls`).

    Returns:
        float64 [P] nats per piece.
    """
    return np.array([nll.sum() for nll in token_nlls(model, encoded, device, batch_pieces, progress)])


def score_split(model: PolyphonicLM, pieces: list[PieceRoll], device: torch.device | str = "cpu",
                progress: Progress | None = None) -> SplitScore:
    """Exact NLL of a list of pieces (frame-level and token-level); ``progress``: as :func:`token_nlls`."""
    encoded = encode_pieces(pieces, model.config.order, copy=model.config.copy_features)
    totals = piece_nlls(model, encoded, device, progress=progress)
    total = float(totals.sum())
    if not math.isfinite(total):
        raise ValueError("a piece has zero probability under the model (infinite NLL)")
    return SplitScore(total, int(encoded.frames.sum()), len(encoded.targets), encoded.num_pieces)
