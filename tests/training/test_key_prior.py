"""A melody model records the keys of its training pieces, and a piece started from nothing draws its key from them."""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import pytest
import torch

from composer.core.modelfile import ContentError
from composer.melody.corpus import load_corpus
from composer.melody.encoding import BOS, EncodingConfig, Vocabulary
from composer.melody.generate import GenerationRequest, generate
from composer.melody.model import ComposerLM, ModelConfig, from_checkpoint, load_melody_model
from composer.melody.sample import Sampler, SamplingOptions, key_log_prior
from composer.melody.train import key_counts, train
from tests.training.conftest import MICRO_CONFIG

KEYED = EncodingConfig(key_tokens=True, min_pitch=36, max_pitch=96)


@pytest.fixture(scope="module")
def keyed_model(tmp_path_factory, micro_corpus):
    """A micro model with KEY tokens, really trained one epoch on 12 folk tunes."""
    out = tmp_path_factory.mktemp("keyed") / "keyed.pt"
    checkpoint = train(micro_corpus, out, MICRO_CONFIG.replace(key_tokens=True, min_pitch=36, max_pitch=96))
    return out, checkpoint


def test_training_records_the_training_pieces_keys(keyed_model, micro_corpus):
    path, checkpoint = keyed_model
    loaded = load_melody_model(path)
    counts = loaded.net.config.key_counts
    assert checkpoint["model_config"]["key_counts"] == counts and len(counts) == 24
    # counted by hand from the same split: the KEY token after BOS of every training piece, before transposition
    corpus = load_corpus(micro_corpus, loaded.vocab, MICRO_CONFIG.valid_fraction, MICRO_CONFIG.test_fraction,
                         use_cache=False)
    by_hand = collections.Counter(loaded.vocab.key_of(int(s[1])) for s in corpus.sequences["train"])
    names = [loaded.vocab.key_of(loaded.vocab.key_offset + k) for k in range(24)]
    assert dict(zip(names, counts)) == {name: by_hand.get(name, 0) for name in names}
    assert sum(counts) == len(corpus.sequences["train"])


def test_a_model_without_key_tokens_records_none(tiny_loaded):
    assert tiny_loaded.net.config.key_counts == ()
    assert key_log_prior((), tiny_loaded.vocab) is None


def _net_with_counts(counts: tuple[int, ...]) -> tuple[ComposerLM, Vocabulary]:
    torch.manual_seed(0)
    vocab = Vocabulary(KEYED)
    return ComposerLM(ModelConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=12, num_layers=1,
                                  key_counts=counts)).eval(), vocab


def test_a_piece_from_nothing_takes_its_key_from_the_counts():
    counts = [0] * 24
    counts[Vocabulary(KEYED).key("Am") - Vocabulary(KEYED).key_offset] = 100_000
    net, vocab = _net_with_counts(tuple(counts))
    result = generate(net, vocab, GenerationRequest(count=16, bars=2, seed=4, temperature=1.0))
    assert {piece.key for piece in result.pieces} == {"Am"}
    # without counts the same untrained network spreads its keys
    plain = dataclasses.replace(net.config, key_counts=())
    spread = ComposerLM(plain).eval()
    spread.load_state_dict(net.state_dict())
    keys = {p.key for p in generate(spread, vocab, GenerationRequest(count=16, bars=2, seed=4)).pieces}
    assert len(keys) > 4


def test_the_keys_drawn_follow_the_counts():
    vocab = Vocabulary(KEYED)
    counts = [0] * 24
    for name, n in (("G", 600), ("D", 300), ("Em", 100)):
        counts[vocab.key(name) - vocab.key_offset] = n
    net, _ = _net_with_counts(tuple(counts))
    rows = Sampler(net, vocab).sample(np.array([BOS]), 2000, 1, SamplingOptions(seed=1), max_steps=1)
    drawn = collections.Counter(vocab.key_of(int(row[1])) for row in rows)
    expected = {"G": 0.6, "D": 0.3, "Em": 0.1}
    for name, p in expected.items():
        assert abs(drawn[name] / 2000 - p) < 4 * (p * (1 - p) / 2000) ** 0.5, (name, drawn)
    assert set(drawn) == set(expected)                      # a key no training piece was in is never drawn


def test_a_key_asked_for_is_not_replaced():
    counts = [0] * 24
    counts[Vocabulary(KEYED).key("Am") - Vocabulary(KEYED).key_offset] = 100_000
    net, vocab = _net_with_counts(tuple(counts))
    asked = generate(net, vocab, GenerationRequest(count=6, bars=2, seed=4, key="Bb"))
    assert {piece.key for piece in asked.pieces} == {"Bb"}


def test_beam_search_starts_from_the_likeliest_key_of_the_counts():
    vocab = Vocabulary(KEYED)
    counts = [0] * 24
    counts[vocab.key("D") - vocab.key_offset] = 50_000
    net, _ = _net_with_counts(tuple(counts))
    rows = Sampler(net, vocab).beam_search(np.array([BOS]), 2, 48, count=1)
    assert vocab.key_of(int(rows[0][1])) == "D"


def test_key_counts_are_checked():
    assert ModelConfig(vocab_size=10, key_counts=[1] * 24).key_counts == (1,) * 24      # a file's list
    for bad, message in (([1] * 23, "24 counts"), ([0] * 24, "not all 0"), ([-1] + [1] * 23, "whole numbers"),
                         ([1.5] * 24, "whole numbers"), ("many", "list of counts")):
        with pytest.raises(ValueError, match=message):
            ModelConfig(vocab_size=10, key_counts=bad)


def test_model_files_with_bad_or_without_counts(keyed_model, tiny_model):
    _, checkpoint = keyed_model
    older = {**checkpoint, "model_config": {k: v for k, v in checkpoint["model_config"].items() if k != "key_counts"}}
    assert from_checkpoint(older).net.config.key_counts == ()        # a file from before: the network's own keys
    short = {**checkpoint, "model_config": {**checkpoint["model_config"], "key_counts": [3] * 5}}
    with pytest.raises(ContentError, match="key_counts"):
        from_checkpoint(short)
    keyless = {**tiny_model.checkpoint,
               "model_config": {**tiny_model.checkpoint["model_config"], "key_counts": [1] * 24}}
    with pytest.raises(ContentError, match="no KEY tokens"):
        from_checkpoint(keyless)


def test_key_counts_counts_only_pieces_that_start_with_a_key():
    vocab = Vocabulary(KEYED)
    g, em = vocab.key("G"), vocab.key("Em")
    sequences = [np.array([BOS, g, 50]), np.array([BOS, g]), np.array([BOS, em, 7]), np.array([BOS])]
    counts = key_counts(sequences, vocab)
    assert counts[g - vocab.key_offset] == 2 and counts[em - vocab.key_offset] == 1 and sum(counts) == 3
    assert key_counts([np.array([BOS])], vocab) == ()
    assert key_counts(sequences, Vocabulary(EncodingConfig())) == ()


def test_info_and_the_about_box_name_the_likeliest_keys(keyed_model, capsys):
    from composer.cli.main import main
    from composer.music.keys import key_distribution_text

    path, checkpoint = keyed_model
    counts = checkpoint["model_config"]["key_counts"]
    text = key_distribution_text(counts)
    best = max(range(24), key=lambda k: counts[k])
    assert text.startswith(Vocabulary(KEYED).key_of(Vocabulary(KEYED).key_offset + best) + " ")
    assert text.endswith(f"of {sum(counts)} pieces")
    assert main(["info", str(path)]) == 0
    assert f"keys of the training pieces (a melody from nothing draws its key from these): {text}" in \
        capsys.readouterr().out
    for malformed in (None, [], [1] * 23, [0] * 24, ["G"] * 24):
        assert key_distribution_text(malformed) == ""
    by_hand = [0] * 24
    by_hand[7], by_hand[2], by_hand[16] = 6, 3, 1                   # G, D, Em
    assert key_distribution_text(by_hand) == "G 60%, D 30%, Em 10% of 10 pieces"


def test_the_prior_is_minus_infinity_for_unseen_keys_without_warnings():
    import warnings

    vocab = Vocabulary(KEYED)
    counts = [0] * 24
    counts[0], counts[12] = 3, 1                                                # C and Cm
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior = key_log_prior(tuple(counts), vocab)
    assert prior.dtype == np.float32 and np.isneginf(prior[1:12]).all() and np.isneginf(prior[13:]).all()
    assert np.allclose(np.exp(prior[[0, 12]]), [0.75, 0.25])
