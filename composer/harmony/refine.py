"""Pseudo-Gibbs refinement of a harmonization (after DeepBach): revise the written voices region by region.

The sampler (:func:`composer.harmony.sampler.fill`) writes left to right: its decoder sees what comes after a
cell only through the given notes. :func:`refine` then revisits the result: it clears a random region (one or
two bars of one to three of the voices the model wrote), rewrites it with the same model reading everything
else, before and after, and keeps the new version only when the model's own teacher-forced log-likelihood of
the whole harmonization (:func:`log_likelihood`) rises. The temperature falls from ``start`` to ``end`` over
the steps. Given cells are never touched, and the likelihood never falls.
"""

from __future__ import annotations

import numpy as np
import torch

from composer.harmony.cadence import Guide
from composer.harmony.grid import HOLD, MASK, NUM_VOICES, UNKNOWN_KEY
from composer.harmony.model import HarmonyModel
from composer.harmony.sampler import average_over_keys, fill, key_ensemble_index, key_views, shift_tokens

__all__ = ["log_likelihood", "refine"]


@torch.no_grad()
def log_likelihood(model: HarmonyModel, given: np.ndarray, grid: np.ndarray, positions: np.ndarray,
                   key: int = UNKNOWN_KEY) -> float:
    """The model's log-probability (nats) of the cells of ``grid`` that are MASK in ``given``, teacher-forced,
    its key ensemble averaged (as :func:`composer.harmony.evaluate.lower_voice_nll` scores Bach's voices).

    Args:
        given: int64 [T, 4], MASK where the model wrote.
        grid: int64 [T, 4], the finished music.
        positions: int64 [T] frame positions in the bar.
        key: the key index the model was told.
    """
    net = model.net.eval()
    shifts, target, keys = key_views(model, grid, key)                                       # [S, T, 4]
    source = shift_tokens(torch.from_numpy(given)[None].expand(len(shifts), -1, -1), shifts)
    where = torch.from_numpy(given == MASK)
    places = torch.from_numpy(positions)[None].expand(len(shifts), -1)
    logits = net(source, target, places, keys=keys)                                          # [S, T, 4, V]
    averaged = average_over_keys(logits.permute(1, 2, 0, 3), key_ensemble_index(shifts, net.config.vocab_size))
    log_probs = torch.log_softmax(averaged, -1).gather(-1, torch.from_numpy(grid)[..., None])[..., 0]
    return float(log_probs[where].sum())


def refine(model: HarmonyModel, given: np.ndarray, grid: np.ndarray, positions: np.ndarray, steps: int,
           key: int = UNKNOWN_KEY, seed: int = 0, start: float = 0.7, end: float = 0.2, rules: bool = True,
           guide: Guide | None = None, bar_frames: int = 16) -> tuple[np.ndarray, list[float]]:
    """Revise ``grid`` (written by the model where ``given`` is MASK) ``steps`` times; see the module docstring.

    Args:
        model: the harmony model that wrote ``grid``.
        given, grid, positions, key: as in :func:`log_likelihood`.
        steps: regions to rewrite.
        seed: random seed (regions, voices and draws).
        start, end: the temperature of the first and the last rewrite (geometric in between).
        rules, guide: as in :func:`composer.harmony.sampler.fill`.
        bar_frames: frames in a bar (a region is one or two bars long).

    Returns:
        The revised grid int64 [T, 4] and the log-likelihood after each step (the first entry: before any).
    """
    rng = np.random.default_rng(seed)
    current = grid.copy()
    scores = [log_likelihood(model, given, current, positions, key)]
    written = [v for v in range(NUM_VOICES) if (given[:, v] == MASK).any()]
    for step in range(steps):
        region = _region(rng, given, current, written, bar_frames)
        if region is None:
            break
        first, last, voices = region
        proposal = current.copy()
        cleared = np.zeros_like(given, dtype=bool)
        cleared[first:last, voices] = True
        cleared &= given == MASK
        proposal[cleared] = MASK
        temperature = start * (end / start) ** (step / max(1, steps - 1)) if start > 0 and end > 0 else end
        drawn = fill(model, proposal, positions, 1, temperature, int(rng.integers(2**31)), rules=rules, key=key,
                     guide=guide)[0]
        score = log_likelihood(model, given, drawn, positions, key)
        if score > scores[-1]:
            current = drawn
            scores.append(score)
        else:
            scores.append(scores[-1])
    return current, scores


def _region(rng: np.random.Generator, given: np.ndarray, grid: np.ndarray, written: list[int],
            bar_frames: int) -> tuple[int, int, list[int]] | None:
    """A random region to rewrite: frames [first, last) and voices, extended past notes held out of it."""
    if not written:
        return None
    length = len(grid)
    size = min(length, bar_frames * int(rng.integers(1, 3)))
    first = int(rng.integers(0, max(1, length - size + 1)))
    first -= first % 4                                                   # start on a beat
    count = int(rng.integers(1, len(written) + 1))
    voices = sorted(int(v) for v in rng.choice(written, size=count, replace=False))
    last = min(length, first + size)
    while last < length and (grid[last, voices] == HOLD).any():        # a note held past the end goes too
        last += 1
    return first, last, voices
