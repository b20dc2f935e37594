"""ComposerLM: shapes, weight tying, state carrying, config validation."""

from __future__ import annotations

import pytest
import torch

from composer.melody.model import CELLS, ComposerLM, ModelConfig, detach_state


def make_model(cell: str, tie: bool, embedding: int = 16, hidden: int = 24, layers: int = 2,
               vocab: int = 37, dropout: float = 0.0, seed: int = 0) -> ComposerLM:
    torch.manual_seed(seed)
    return ComposerLM(ModelConfig(vocab_size=vocab, embedding_size=embedding, hidden_size=hidden,
                                  num_layers=layers, dropout=dropout, cell=cell, tie_weights=tie))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("tie", [False, True])
def test_forward_shapes(cell, tie):
    model = make_model(cell, tie, vocab=37, hidden=24, layers=2)
    ids = torch.randint(0, 37, (3, 11))
    logits, state = model(ids)
    assert logits.shape == (3, 11, 37)
    if cell == "lstm":
        h, c = state
        assert h.shape == c.shape == (2, 3, 24)
    else:
        assert isinstance(state, torch.Tensor) and state.shape == (2, 3, 24)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("cell", CELLS)
def test_tied_weights_with_projection_when_sizes_differ(cell):
    model = make_model(cell, tie=True, embedding=16, hidden=24)
    assert model.projection is not None
    assert model.projection.weight.shape == (16, 24)
    assert model.head.weight is model.embedding.weight
    # tied means one tensor: the parameter list counts it once
    names = [n for n, _ in model.named_parameters()]
    assert "head.weight" not in names and "embedding.weight" in names
    # and a change of the embedding is a change of the head
    with torch.no_grad():
        model.embedding.weight[5].fill_(0.25)
    assert torch.all(model.head.weight[5] == 0.25)


def test_tied_weights_without_projection_when_sizes_match():
    model = make_model("lstm", tie=True, embedding=20, hidden=20)
    assert model.projection is None
    assert model.head.weight is model.embedding.weight


def test_untied_head_is_its_own_matrix():
    model = make_model("gru", tie=False, embedding=16, hidden=24, vocab=37)
    assert model.projection is None
    assert model.head.weight is not model.embedding.weight
    assert model.head.weight.shape == (37, 24)


def test_untied_model_has_more_parameters_than_tied():
    untied = make_model("lstm", tie=False, embedding=16, hidden=16, vocab=50)
    tied = make_model("lstm", tie=True, embedding=16, hidden=16, vocab=50)
    assert untied.num_parameters() - tied.num_parameters() == 50 * 16


def test_lstm_forget_gate_bias_starts_at_one():
    model = make_model("lstm", tie=False, hidden=24, layers=2)
    for layer in range(2):
        bias = getattr(model.rnn, f"bias_ih_l{layer}")
        assert torch.all(bias[24:48] == 1.0)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("tie", [False, True])
def test_state_carries_across_chunks(cell, tie):
    model = make_model(cell, tie, dropout=0.3).eval()
    ids = torch.randint(0, 37, (2, 30))
    with torch.no_grad():
        whole, whole_state = model(ids)
        first, state = model(ids[:, :13])
        second, state = model(ids[:, 13:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-5)
    if cell == "lstm":
        torch.testing.assert_close(state[0], whole_state[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(state[1], whole_state[1], atol=1e-5, rtol=1e-5)
    else:
        torch.testing.assert_close(state, whole_state, atol=1e-5, rtol=1e-5)


def test_state_matters():
    """Running the second chunk from a fresh state gives different logits than with the carried state."""
    model = make_model("lstm", False).eval()
    ids = torch.randint(0, 37, (2, 20))
    with torch.no_grad():
        _, state = model(ids[:, :10])
        carried, _ = model(ids[:, 10:], state)
        fresh, _ = model(ids[:, 10:])
    assert not torch.allclose(carried, fresh, atol=1e-4)


def test_dropout_active_in_train_mode_only():
    model = make_model("lstm", False, dropout=0.5)
    ids = torch.randint(0, 37, (2, 12))
    model.train()
    a, _ = model(ids)
    b, _ = model(ids)
    assert not torch.allclose(a, b)
    model.eval()
    c, _ = model(ids)
    d, _ = model(ids)
    assert torch.equal(c, d)


def test_detach_state_cuts_graph():
    model = make_model("lstm", False)
    _, state = model(torch.randint(0, 37, (1, 5)))
    assert state[0].requires_grad
    detached = detach_state(state)
    assert isinstance(detached, tuple) and not any(s.requires_grad for s in detached)
    _, gru_state = make_model("gru", False)(torch.randint(0, 37, (1, 5)))
    assert not detach_state(gru_state).requires_grad
    assert detach_state(None) is None


@pytest.mark.parametrize("changes, word", [
    ({"cell": "transformer"}, "cell"),
    ({"cell": "LSTM"}, "cell"),
    ({"dropout": 1.0}, "dropout"),
    ({"dropout": -0.1}, "dropout"),
    ({"vocab_size": 0}, "vocab_size"),
    ({"hidden_size": 0}, "hidden_size"),
    ({"num_layers": 0}, "num_layers"),
])
def test_model_config_validation(changes, word):
    values = {"vocab_size": 10, **changes}
    with pytest.raises(ValueError, match=word):
        ModelConfig(**values)


def test_model_config_dict_round_trip_and_unknown_keys():
    config = ModelConfig(vocab_size=10, embedding_size=8, hidden_size=12, num_layers=3, dropout=0.25,
                         cell="gru", tie_weights=True)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({**config.to_dict(), "attention": True})
