"""Repeat cache for the polyphonic benchmark model: music repeats its own passages, so copy them.

A chorale sings its first phrases twice, a folk tune plays each strain twice. A stacked LSTM learns this poorly
(on JSB, a frame whose last two frames occurred before and were followed by it then still cost a transposition-
trained LSTM 4.7 nats, against 6.5 for a frame never heard), so the benchmark model mixes it, frame by frame, with copies of the
piece's own past, as a cache language model does (Kuhn and De Mori 1990; Grave et al. 2017 put a cache on an
LSTM language model):

    p(unit t | past) = w[b][0] * p_LSTM(unit t | past) + sum_{j < b} w[b][j + 1] * p_copy_j(unit t | past)

A *unit* is a frame or the end of the piece (``EOP``): the LSTM's probability of a frame is the product of its
tokens' probabilities, ``EOF`` included, and these sum to one over all frames and the end, so the mixture is
again a normalized distribution over piano rolls (the encoding stays a bijection, the score stays exact).

``p_copy_j`` is the empirical distribution of the frames that followed the earlier occurrences, in the same
piece, of the last ``lengths[j]`` frames; it exists when there is at least one. A match of a long context implies
matches of all its shorter suffixes, so the copies that exist at step t are those of the ``b`` shortest
lengths, where ``b`` (the *bucket*, 0 = nothing matched) is the number of lengths that matched. Each bucket has
its own weights, fitted by EM on the train split (``fit_cache``); the valid and test splits are only scored.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from composer.polyphonic.data import EOF, PieceRoll, encode_pieces
from composer.polyphonic.model import PolyphonicLM
from composer.polyphonic.score import Progress, SplitScore, token_nlls

DEFAULT_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16)
MIN_LSTM_WEIGHT = 0.01   # the LSTM always keeps this much weight: a unit no copy predicts stays possible


@dataclass(frozen=True)
class RepeatCache:
    """Mixture weights of the repeat cache.

    Attributes:
        lengths: context lengths (frames) of the copy distributions, increasing.
        weights: per bucket b = 0..len(lengths), b + 1 weights (LSTM first, then the copies of the b shortest
            lengths), non-negative, summing to 1, the LSTM's at least ``MIN_LSTM_WEIGHT``.
    """

    lengths: tuple[int, ...]
    weights: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if not self.lengths or list(self.lengths) != sorted(set(self.lengths)) or self.lengths[0] < 1:
            raise ValueError(f"cache lengths must increase from 1 or more, got {list(self.lengths)}")
        if len(self.weights) != len(self.lengths) + 1:
            raise ValueError(f"cache needs {len(self.lengths) + 1} weight rows, got {len(self.weights)}")
        for bucket, row in enumerate(self.weights):
            if len(row) != bucket + 1 or min(row) < 0 or abs(sum(row) - 1) > 1e-6 or row[0] <= 0:
                raise ValueError(f"cache weights of bucket {bucket} must be {bucket + 1} non-negative numbers "
                                 f"summing to 1, the first positive; got {list(row)}")

    def to_dict(self) -> dict:
        return {"lengths": list(self.lengths), "weights": [list(row) for row in self.weights]}

    @classmethod
    def from_dict(cls, data: dict) -> "RepeatCache":
        return cls(tuple(int(n) for n in data["lengths"]),
                   tuple(tuple(float(w) for w in row) for row in data["weights"]))

    @classmethod
    def lstm_only(cls, lengths: tuple[int, ...] = DEFAULT_LENGTHS) -> "RepeatCache":
        """Weights that ignore the copies: the mixture is the LSTM alone."""
        return cls(lengths, tuple((1.0,) + (0.0,) * bucket for bucket in range(len(lengths) + 1)))


def copy_probabilities(piece: PieceRoll, lengths: tuple[int, ...] = DEFAULT_LENGTHS) -> list[np.ndarray]:
    """What each copy distribution gives the true unit, at every unit of a piece.

    Args:
        piece: the frames.
        lengths: context lengths, increasing.

    Returns:
        len(piece) + 1 arrays (the frames, then the end): at unit t, float64 [b], the probability of unit t under
        the copy distribution of each of the ``b`` shortest lengths whose context matched (b may be 0).
    """
    ids = _frame_ids(piece)
    end = -1
    tables: list[dict[tuple, Counter]] = [{} for _ in lengths]   # context -> counts of the frame that followed
    out = []
    for t in range(len(ids) + 1):
        target = ids[t] if t < len(ids) else end
        probs = []
        for table, length in zip(tables, lengths):
            following = table.get(tuple(ids[t - length:t])) if t >= length else None
            if following is None:
                break
            probs.append(following[target] / following.total())
        out.append(np.array(probs))
        if t < len(ids):
            for table, length in zip(tables, lengths):
                if t >= length:
                    table.setdefault(tuple(ids[t - length:t]), Counter())[ids[t]] += 1
    return out


def _frame_ids(piece: PieceRoll) -> list[int]:
    """One integer per frame, equal for equal frames."""
    seen: dict[tuple[int, ...], int] = {}
    return [seen.setdefault(tuple(sorted(frame)), len(seen)) for frame in piece]


def unit_nlls(model: PolyphonicLM, pieces: list[PieceRoll], device: str = "cpu",
              progress: Progress | None = None) -> list[np.ndarray]:
    """The LSTM's NLL of every unit (each frame, ``EOF`` included, then the end) of every piece;
    ``progress("scoring", pieces done, pieces)`` is called first and after each batch (as
    :func:`composer.polyphonic.score.token_nlls`).

    Returns:
        per piece, float64 [len(piece) + 1] nats.
    """
    encoded = encode_pieces(pieces, model.config.order, copy=model.config.copy_features)
    out = []
    for index, (piece, nll) in enumerate(zip(pieces, token_nlls(model, encoded, device, progress=progress))):
        targets = encoded.targets[encoded.starts[index]:encoded.starts[index + 1]]        # [tokens], EOP last
        unit = np.concatenate([[0], np.cumsum(targets[:-1] == EOF)])                       # unit of each token
        out.append(np.bincount(unit, weights=nll, minlength=len(piece) + 1))
    return out


def mixture_nll(lstm_nll: np.ndarray, copies: list[np.ndarray], cache: RepeatCache) -> float:
    """Total NLL (nats) of a piece's units under the mixture.

    Args:
        lstm_nll: float [U] the LSTM's NLL of each unit.
        copies: U arrays from :func:`copy_probabilities` (same lengths as ``cache``).
        cache: the weights.
    """
    total = 0.0
    for nll, probs in zip(lstm_nll, copies):
        weights = cache.weights[len(probs)]
        copied = float(np.dot(weights[1:], probs)) if len(probs) else 0.0
        lstm = np.log(weights[0]) - nll
        total -= float(np.logaddexp(lstm, np.log(copied))) if copied > 0 else float(lstm)
    return total


def fit_cache(lstm_nlls: list[np.ndarray], copies: list[list[np.ndarray]],
              lengths: tuple[int, ...] = DEFAULT_LENGTHS, iterations: int = 300) -> RepeatCache:
    """Mixture weights of each bucket by EM (maximum likelihood of the given pieces).

    Args:
        lstm_nlls: per piece, the LSTM's NLL of each unit (:func:`unit_nlls`).
        copies: per piece, :func:`copy_probabilities` with the same ``lengths``.
        lengths: the context lengths.
        iterations: EM iterations per bucket.

    Returns:
        the fitted :class:`RepeatCache`; a bucket no unit fell in keeps the LSTM alone.
    """
    by_bucket: list[list[np.ndarray]] = [[] for _ in range(len(lengths) + 1)]
    for nlls, piece_copies in zip(lstm_nlls, copies):
        for nll, probs in zip(nlls, piece_copies):
            by_bucket[len(probs)].append(np.concatenate([[nll], probs]))
    rows = []
    for bucket, units in enumerate(by_bucket):
        if not units or bucket == 0:
            rows.append((1.0,) + (0.0,) * bucket)
            continue
        table = np.array(units)                                             # [N, 1 + b]: LSTM NLL, copy probs
        probs = np.concatenate([np.exp(-table[:, :1]), table[:, 1:]], axis=1)
        rows.append(tuple(_em(probs, iterations)))
    return RepeatCache(tuple(lengths), tuple(rows))


def _em(probs: np.ndarray, iterations: int) -> list[float]:
    """Maximum-likelihood mixture weights for component probabilities [N, C], LSTM (column 0) kept >= floor."""
    weights = np.full(probs.shape[1], 1.0 / probs.shape[1])
    for _ in range(iterations):
        joint = probs * weights                                              # [N, C]
        mixture = joint.sum(1, keepdims=True)
        weights = (joint / np.maximum(mixture, 1e-300)).mean(0)
        if weights[0] < MIN_LSTM_WEIGHT:
            rest = weights[1:].sum()
            weights[1:] *= (1 - MIN_LSTM_WEIGHT) / rest if rest > 0 else 0
            weights[0] = MIN_LSTM_WEIGHT
    weights = weights / weights.sum()
    return [float(w) for w in weights]


def score_with_cache(model: PolyphonicLM, pieces: list[PieceRoll], cache: RepeatCache,
                     device: str = "cpu", progress: Progress | None = None) -> SplitScore:
    """Exact NLL of pieces under the LSTM mixed with the repeat cache.

    ``progress("scoring", pieces done, pieces)`` is called first and after each batch of pieces the LSTM
    scores (the mixture that follows takes a few per cent of the time); the result is the same with or
    without it.

    Returns:
        a :class:`SplitScore` whose ``total_nats`` is the mixture's and ``lstm_total_nats`` the LSTM's alone.

    Raises:
        ValueError: a piece has zero probability (infinite NLL).
    """
    lstm = unit_nlls(model, pieces, device, progress)
    total = sum(mixture_nll(nll, copy_probabilities(piece, cache.lengths), cache) for nll, piece in zip(lstm, pieces))
    if not math.isfinite(total):
        raise ValueError("a piece has zero probability under the model (infinite NLL)")
    tokens = sum(len(piece) + sum(len(frame) for frame in piece) + 1 for piece in pieces)
    return SplitScore(total, sum(len(piece) for piece in pieces), tokens, len(pieces),
                      lstm_total_nats=float(sum(nll.sum() for nll in lstm)))


def fit_on_pieces(model: PolyphonicLM, pieces: list[PieceRoll], lengths: tuple[int, ...] = DEFAULT_LENGTHS,
                  device: str = "cpu", progress: Progress | None = None) -> RepeatCache:
    """Fit the cache's weights to ``pieces`` (the train split) under ``model``; ``progress``: as
    :func:`unit_nlls`."""
    return fit_cache(unit_nlls(model, pieces, device, progress), [copy_probabilities(p, lengths) for p in pieces],
                     lengths)


def cache_of(checkpoint: dict) -> RepeatCache | None:
    """The repeat cache stored in a polyphonic model file's dict (None: the file has none).

    Raises:
        ValueError: the stored cache is malformed.
    """
    stored = checkpoint.get("repeat_cache")
    if stored is None:
        return None
    try:
        return RepeatCache.from_dict(stored)
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed repeat cache: {error}") from None


def attach_cache(checkpoint: dict, model: PolyphonicLM, splits: dict[str, list[PieceRoll]],
                 device: str = "cpu", progress: Progress | None = None) -> RepeatCache:
    """Fit the cache on the train split under ``model`` (the file's best weights) and store it in ``checkpoint``.

    Also stores the valid split's score with the cache in ``checkpoint["metrics"]["valid_with_cache"]``.
    ``progress(what, pieces done, pieces)`` is called as the pieces are scored: ``what`` is ``"fitting"`` on
    the train split, then ``"scoring"`` on the valid split.
    """
    fitting = None if progress is None else (lambda _, done, total: progress("fitting", done, total))
    cache = fit_on_pieces(model, splits["train"], device=device, progress=fitting)
    checkpoint["repeat_cache"] = {**cache.to_dict(), "fitted_on": f"train split, {len(splits['train'])} pieces"}
    if splits.get("valid"):
        checkpoint.setdefault("metrics", {})["valid_with_cache"] = \
            score_with_cache(model, splits["valid"], cache, device, progress).to_dict()
    return cache
