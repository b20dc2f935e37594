"""The key ensemble: the harmony model reads the music in several transpositions and averages.

Checked against independent computations: the step-by-step sampler's probabilities against one
teacher-forced pass per transposition, the moving of tokens between keys against a hand computation,
and duplicated members against the single model.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from composer.harmony.inference import harmonize, key_shifts, load_harmony_model
from composer.harmony.sampler import _KeyEnsemble, average_over_keys, fill, fitting_shifts, key_ensemble_index
from composer.harmony.evaluate import lower_voice_nll
from composer.music.midi_io import read_midi
from composer.harmony.grid import (MASK, MIN_PITCH, PITCH_OFFSET, VOCAB_SIZE, chorale_from_piece, pitch_token,
                           positions_for)

from tests.harmony.conftest import chorale_paths
from tests.harmony.test_harmony import soprano_of


def recipe(low: int, high: int) -> dict:
    return {"recipe": {"config": {"transpose": [low, high]}}}


def test_the_ensemble_is_the_transpositions_the_model_was_trained_in(tiny_harmony_path):
    assert key_shifts(recipe(-5, 6)) == (-4, 0, 4)                      # trained in all 12 keys
    assert key_shifts(recipe(-2, 2)) == (-4, 0, 4)                      # or near the pieces' own keys
    assert key_shifts(recipe(0, 0)) == (0,)                             # no transposition: as written
    assert key_shifts({}) == (0,)                                       # no recipe: as written
    assert load_harmony_model(tiny_harmony_path).shifts == (-4, 0, 4)
    assert load_harmony_model(tiny_harmony_path, key_ensemble=False).shifts == (0,)
    assert load_harmony_model(tiny_harmony_path).without_key_ensemble().shifts == (0,)


def test_tokens_are_moved_back_to_the_written_key_before_averaging():
    vocab = PITCH_OFFSET + 4                                   # REST, HOLD, MASK and four pitches
    index = key_ensemble_index(torch.tensor([0, 1, -2]), vocab)
    assert index.tolist() == [[0, 1, 2, 3, 4, 5, 6],
                              [0, 1, 2, 4, 5, 6, MASK],        # written pitch p is member token p + 1
                              [0, 1, 2, MASK, MASK, 3, 4]]     # MASK: the member cannot say it
    logits = torch.randn(2, 3, vocab)                          # [B, S, V]
    got = average_over_keys(logits, index)
    assert torch.allclose(average_over_keys(logits[:, 1:2], index[1:2]),
                          average_over_keys(torch.stack([logits[:, 1]] * 2, 1), torch.stack([index[1]] * 2)))
    for b in range(2):
        members = []
        for s, shift in enumerate((0, 1, -2)):
            member = logits[b, s].clone()
            member[2] = -np.inf                                # MASK is never written
            member = torch.log_softmax(member, -1)
            written = torch.full((vocab,), -np.inf)
            for token in range(vocab):
                source = token + shift if token >= PITCH_OFFSET else token
                if token < PITCH_OFFSET or PITCH_OFFSET <= source < vocab:
                    written[token] = member[source]
            members.append(written)
        assert torch.allclose(got[b], torch.stack(members).mean(0), equal_nan=False)


def test_shifts_that_leave_the_vocabulary_are_dropped():
    given = np.full((4, 4), MASK, dtype=np.int64)
    given[:, 0] = pitch_token(MIN_PITCH + 1)
    assert fitting_shifts((-2, -1, 0, 1), given, VOCAB_SIZE) == [-1, 0, 1]
    given[0, 0] = VOCAB_SIZE - 1                                            # the top pitch
    assert fitting_shifts((-2, -1, 0, 1), given, VOCAB_SIZE) == [-1, 0]
    assert fitting_shifts((-2, 3), np.full((4, 4), MASK), VOCAB_SIZE) == [-2, 3]      # nothing given


@torch.no_grad()
def test_the_sampler_reads_the_same_probabilities_as_a_teacher_forced_pass(tiny_harmony):
    """Feeding the true lower voices step by step through the batched (completion x key) decoder must
    give, for every cell, the probability that one full forward pass per key gives."""
    chorale = chorale_from_piece(read_midi(chorale_paths(10, 2)[0]))
    truth = torch.from_numpy(chorale.frames)                            # [T, 4]
    expected = lower_voice_nll(tiny_harmony, chorale)                   # [T, 3]
    given = chorale.frames.copy()
    given[:, 1:] = MASK
    count = 2                                                           # two identical rows, checked both
    reader = _KeyEnsemble(tiny_harmony, given, chorale.positions, chorale.key, count)
    assert reader.size == 3
    tokens = truth[None].expand(count, -1, -1)
    got = np.zeros((len(truth), 3))
    for t in range(len(truth)):
        reader.step(tokens[:, t - 1] if t else None, t)
        for voice in (1, 2, 3):
            log_probs = torch.log_softmax(reader.log_probs(voice, tokens[:, t, :voice]), -1)     # [B, V]
            nll = -log_probs[:, truth[t, voice]]
            assert torch.allclose(nll[0], nll[1])
            got[t, voice - 1] = float(nll[0])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_a_duplicated_member_changes_nothing(tiny_harmony):
    """The average of one member read twice is that member: same draws for several rows at once."""
    piece = read_midi(chorale_paths(10, 7)[0])
    chorale = chorale_from_piece(piece)
    given = chorale.frames.copy()
    given[:, 1:] = MASK
    positions = positions_for(piece.time_signatures, piece.ticks_per_beat, len(given))
    single = dataclasses.replace(tiny_harmony, shifts=(1,))
    double = dataclasses.replace(tiny_harmony, shifts=(1, 1))
    one = fill(single, given, positions, count=3, temperature=1.0, seed=4, key=chorale.key)
    two = fill(double, given, positions, count=3, temperature=1.0, seed=4, key=chorale.key)
    assert (one == two).all()
    assert not (one[0] == one[1]).all()                                 # the rows are separate draws


def test_the_ensemble_changes_some_notes_and_keeps_the_soprano(tiny_harmony):
    melody = soprano_of(chorale_paths(10, 3)[0])
    ensemble = harmonize(tiny_harmony, melody, temperature=0, seed=0).pieces[0]
    alone = harmonize(tiny_harmony.without_key_ensemble(), melody, temperature=0, seed=0).pieces[0]
    voice = lambda piece, v: sorted((n.start, n.end, n.pitch) for n in piece.notes if n.voice == v)  # noqa: E731
    assert voice(ensemble, 0) == voice(alone, 0) == voice(melody, 0)
    assert any(voice(ensemble, v) != voice(alone, v) for v in (1, 2, 3))


@pytest.mark.parametrize("flag", [[], ["--no-key-ensemble"]])
def test_evaluate_harmony_reports_the_ensemble_it_used(tiny_harmony_path, chorale_dir, tmp_path, flag, capsys):
    import json

    from composer.cli.main import main

    out = tmp_path / "eval.json"
    assert main(["evaluate-harmony", "--model", str(tiny_harmony_path), "--data", str(chorale_dir),
                 "--split", "all", "--json", str(out), *flag]) == 0
    shown = capsys.readouterr().out
    report = json.loads(out.read_text())
    if flag:
        assert report["key_ensemble"] == [0] and "own key only" in shown
    else:
        assert report["key_ensemble"] == [-4, 0, 4] and "key ensemble of 3 transpositions" in shown
