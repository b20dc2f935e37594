"""Pseudo-Gibbs refinement (composer.harmony.refine): given notes stay, the model's own likelihood rises."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from composer.harmony.cadence import melody_guide
from composer.harmony.evaluate import lower_voice_nll
from composer.harmony.grid import MASK, chorale_from_piece
from composer.harmony.inference import DEFAULT_HARMONY_MODEL, harmonize, load_harmony_model
from composer.harmony.refine import log_likelihood, refine
from composer.harmony.sampler import fill
from composer.music.midi_io import read_midi
from composer.music.notes import select_voices
from tests.harmony.conftest import chorale_paths


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load_harmony_model(DEFAULT_HARMONY_MODEL)


def chorale(index: int):
    return chorale_from_piece(read_midi(chorale_paths(8)[index]))


def test_the_likelihood_is_the_one_evaluate_harmony_scores_bach_with(shipped):
    piece = chorale(1)
    given = piece.frames.copy()
    given[:, 1:] = MASK
    ours = log_likelihood(shipped, given, piece.frames, piece.positions, piece.key)
    assert ours == pytest.approx(-lower_voice_nll(shipped, piece).sum(), rel=1e-4)


@pytest.mark.parametrize("index", [2, 5])
def test_refinement_keeps_every_given_note_and_raises_the_models_likelihood(shipped, index):
    piece = chorale(index)
    given = piece.frames.copy()
    given[:, 1:] = MASK
    given[8:12, 2] = piece.frames[8:12, 2]                               # a few given tenor cells too
    guide = melody_guide(given, piece.positions, piece.key, shipped.net.config.vocab_size)
    first = fill(shipped, given, piece.positions, 1, temperature=1.0, seed=index, key=piece.key, guide=guide)[0]
    refined, scores = refine(shipped, given, first, piece.positions, steps=6, key=piece.key, seed=index,
                             guide=guide)
    kept = given != MASK
    assert (refined[kept] == given[kept]).all()
    assert (refined[kept] == first[kept]).all()
    assert len(scores) == 7 and all(b >= a for a, b in zip(scores, scores[1:]))
    assert scores[0] == pytest.approx(log_likelihood(shipped, given, first, piece.positions, piece.key))
    assert scores[-1] == pytest.approx(log_likelihood(shipped, given, refined, piece.positions, piece.key))
    assert scores[-1] > scores[0]
    assert not (refined == first).all()


def test_harmonize_with_refinement_keeps_the_soprano_and_the_cadence(shipped):
    soprano = select_voices(read_midi(chorale_paths(8)[3]), [0])
    plain = harmonize(shipped, soprano, temperature=0.7, seed=4)
    refined = harmonize(shipped, soprano, temperature=0.7, seed=4, refine_steps=4)
    for result in (plain, refined):
        assert [n for n in result.pieces[0].notes if n.voice == 0] == list(soprano.notes)
    assert np.isfinite(refined.seconds)


def test_no_steps_no_change(shipped):
    piece = chorale(0)
    given = piece.frames.copy()
    given[:, 1:] = MASK
    grid = fill(shipped, given, piece.positions, 1, temperature=0.7, seed=0, key=piece.key)[0]
    same, scores = refine(shipped, given, grid, piece.positions, steps=0, key=piece.key)
    assert (same == grid).all() and len(scores) == 1
