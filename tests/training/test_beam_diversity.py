"""Beam search returns different lines (issue 14): diverse groups, ranked by log-probability per note."""

from __future__ import annotations

import numpy as np
import pytest

from composer import shipped
from composer.melody.encoding import BOS
from composer.melody.generate import GenerationRequest, generate
from composer.melody.model import load_melody_model
from composer.melody.sample import Sampler

from .beam_scoring import masked_log_probability_per_note


@pytest.fixture(scope="module")
def melody():
    return load_melody_model(shipped.MELODY_MODEL)


def test_the_beams_differ_in_their_first_bar_and_in_rhythm(melody):
    result = generate(melody.net, melody.vocab, GenerationRequest(count=4, bars=4, beam=4))
    bar = result.length_ticks // 4
    first_bars = [tuple((n.start, n.pitch, n.end) for n in p.notes if n.start < bar) for p in result.pieces]
    assert len(set(first_bars)) == 4                                   # no two beams open alike
    rhythms = {tuple(n.end - n.start for n in p.notes) for p in result.pieces}
    assert len(rhythms) == 4                                           # nor share one rhythm throughout
    again = generate(melody.net, melody.vocab, GenerationRequest(count=4, bars=4, beam=4))
    assert [p.notes for p in again.pieces] == [p.notes for p in result.pieces]   # deterministic


def test_without_the_diversity_penalty_the_groups_are_copies(melody):
    sampler = Sampler(melody.net, melody.vocab)
    prompt = np.array([BOS, melody.vocab.key("C")] if melody.vocab.config.key_tokens else [BOS], dtype=np.int64)
    bar = 4 * melody.vocab.config.ticks_per_beat
    copies = sampler.beam_search(prompt, 3, 2 * bar, count=3, diversity=0.0)
    assert all(np.array_equal(copies[0], row) for row in copies)
    diverse = sampler.beam_search(prompt, 3, 2 * bar, count=3)
    assert len({tuple(row) for row in diverse}) == 3
    assert any(np.array_equal(row, copies[0]) for row in diverse)   # the first group pays no penalty


def test_the_beams_come_best_first_per_note(melody):
    sampler = Sampler(melody.net, melody.vocab)
    prompt = np.array([BOS], dtype=np.int64)
    rows = sampler.beam_search(prompt, 4, 2 * 4 * melody.vocab.config.ticks_per_beat, count=4)
    scores = [masked_log_probability_per_note(sampler, row, 2 * 4 * melody.vocab.config.ticks_per_beat)
              for row in rows]
    assert scores == sorted(scores, reverse=True)          # by what the search ranks: masked, per note
