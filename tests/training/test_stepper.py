"""sample.Stepper (the numpy step) must compute what ComposerLM.forward computes, to float32 rounding."""

from __future__ import annotations

import pytest
import torch

from composer.core.sampling import GumbelNoise, draw_tokens
from composer.melody.model import CELLS, ComposerLM, ModelConfig
from composer.melody.sample import Stepper

VOCAB = 41


def make_model(cell: str, tie: bool, embedding: int, hidden: int, layers: int) -> ComposerLM:
    torch.manual_seed(11)
    model = ComposerLM(ModelConfig(vocab_size=VOCAB, embedding_size=embedding, hidden_size=hidden,
                                   num_layers=layers, dropout=0.2, cell=cell, tie_weights=tie))
    # the fresh head bias is all zeros: give it values so a forgotten bias would show
    with torch.no_grad():
        model.head.bias.normal_(0, 0.5)
    return model.eval()


SHAPES = [  # (tie, embedding, hidden, layers)
    (False, 16, 24, 2),
    (True, 16, 24, 2),   # tied through a projection
    (True, 20, 20, 1),   # tied directly
    (False, 12, 12, 3),
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("tie, embedding, hidden, layers", SHAPES)
def test_stepping_equals_forward(cell, tie, embedding, hidden, layers):
    model = make_model(cell, tie, embedding, hidden, layers)
    assert (model.projection is not None) == (tie and embedding != hidden)
    ids = torch.randint(0, VOCAB, (3, 25), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected, _ = model(ids)                                   # [B, T, V]
        stepper = Stepper(model)
        state = stepper.initial_state(3)
        stepped = []
        for t in range(ids.size(1)):
            logits, state = stepper(ids[:, t], state)
            stepped.append(logits)
    torch.testing.assert_close(torch.stack(stepped, 1), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_module_state_converts_and_continues(cell):
    """Reading a prefix with the module, converting its state, then stepping == one forward pass."""
    model = make_model(cell, True, 16, 24, 2)
    ids = torch.randint(0, VOCAB, (2, 20), generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        expected, _ = model(ids)
        _, module_state = model(ids[:, :12])
        stepper = Stepper(model)
        state = stepper.from_module_state(module_state)
        assert len(state) == 2
        stepped = []
        for t in range(12, 20):
            logits, state = stepper(ids[:, t], state)
            stepped.append(logits)
    torch.testing.assert_close(torch.stack(stepped, 1), expected[:, 12:], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_select_picks_rows(cell):
    model = make_model(cell, False, 16, 24, 2)
    stepper = Stepper(model)
    ids = torch.randint(0, VOCAB, (4, 6), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        state = stepper.initial_state(4)
        for t in range(6):
            _, state = stepper(ids[:, t], state)
        picked = Stepper.select(state, torch.tensor([2, 2, 0]))
        next_tokens = torch.tensor([3, 3, 7])
        logits, _ = stepper(next_tokens, picked)
        # rows 0 and 1 come from the same source row with the same token: identical
        torch.testing.assert_close(logits[0], logits[1])
        # and row 2 equals stepping the original row 0 alone
        alone, _ = stepper(torch.tensor([7]), Stepper.select(state, torch.tensor([0])))
    torch.testing.assert_close(logits[2], alone[0], atol=1e-6, rtol=1e-6)


def test_draw_tokens_follows_the_softmax_and_never_picks_a_masked_token():
    logits = torch.tensor([[2.0, 1.0, float("-inf"), 0.0, -1.0]]).expand(40_000, -1)
    drawn = draw_tokens(logits, torch.Generator().manual_seed(3))
    counts = torch.bincount(drawn, minlength=5).double() / len(drawn)
    expected = torch.softmax(logits[0].double(), -1)
    assert counts[2] == 0
    # 40,000 draws: each frequency within 4 standard errors of its probability
    tolerance = 4 * torch.sqrt(expected * (1 - expected) / len(drawn)) + 1e-9
    assert ((counts - expected).abs() <= tolerance).all(), (counts, expected)


def test_draw_tokens_repeats_with_the_same_seed():
    logits = torch.randn(16, 30, generator=torch.Generator().manual_seed(1))
    first = draw_tokens(logits, torch.Generator().manual_seed(7))
    assert torch.equal(first, draw_tokens(logits, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, draw_tokens(logits, torch.Generator().manual_seed(8)))


def test_gumbel_noise_made_in_chunks_draws_what_draw_tokens_draws_step_by_step():
    """The samplers' noise, made 5 steps at a time, gives each step the draw that draw_tokens gives that step
    with the same generator, across chunk boundaries (so seeds keep their pieces)."""
    logits = [torch.randn(6, 40, generator=torch.Generator().manual_seed(step)) for step in range(12)]
    reference_source, chunked_source = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    noise = GumbelNoise(chunked_source, (6, 40), chunk=5)
    for step_logits in logits:
        expected = draw_tokens(step_logits, reference_source)
        assert torch.equal((step_logits - noise.next()).argmax(-1), expected)
    assert noise.next().shape == (6, 40)
