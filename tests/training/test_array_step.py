"""composer.core.array_step (the melody sampler's numpy step) computes what the PyTorch modules compute."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from composer.core.array_step import ArrayStack, select_rows, sigmoid
from composer.core.lstm_step import FusedStack, one_thread
from composer.core.sampling import GumbelNoise

MODULES = {
    "LSTM": lambda: torch.nn.LSTM(7, 10, num_layers=3, batch_first=True),
    "GRU": lambda: torch.nn.GRU(7, 10, num_layers=2, batch_first=True),
    "RNN_TANH": lambda: torch.nn.RNN(7, 10, num_layers=2, batch_first=True),
    "RNN_RELU": lambda: torch.nn.RNN(7, 10, num_layers=2, nonlinearity="relu", batch_first=True),
}


def module(mode: str) -> torch.nn.RNNBase:
    torch.manual_seed(3)
    rnn = MODULES[mode]().eval()
    with torch.no_grad():                       # biases far from zero, so a forgotten or doubled one shows
        for name, parameter in rnn.named_parameters():
            if name.startswith("bias"):
                parameter.normal_(0, 0.7)
    return rnn


@pytest.mark.parametrize("mode", list(MODULES))
def test_stepping_matches_the_module_over_a_sequence(mode):
    rnn = module(mode)
    x = torch.randn(4, 9, 7, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, _ = rnn(x)                                                     # [B, T, H]
    stack = ArrayStack(rnn)
    assert stack.mode == mode
    state = stack.zeros(4)
    for t in range(9):
        out, state = stack(x[:, t].numpy(), state)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, expected[:, t].numpy(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", list(MODULES))
def test_a_module_state_is_taken_over_and_continued(mode):
    rnn = module(mode)
    x = torch.randn(2, 10, 7, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, _ = rnn(x)
        _, prefix_state = rnn(x[:, :6])
    stack = ArrayStack(rnn)
    state = stack.from_module(prefix_state)
    assert len(state) == rnn.num_layers
    for t in range(6, 10):
        out, state = stack(x[:, t].numpy(), state)
        np.testing.assert_allclose(out, expected[:, t].numpy(), atol=1e-5, rtol=1e-5)


def test_lstm_input_gates_given_ahead_equal_the_input_and_match_the_fused_step():
    rnn = module("LSTM")
    x = torch.randn(3, 5, 7, generator=torch.Generator().manual_seed(4))
    stack, fused = ArrayStack(rnn), FusedStack(rnn)
    array_state, fused_state = stack.zeros(3), fused.zeros(3)
    with torch.no_grad():
        for t in range(5):
            gates = stack.input_gates(x[:, t].numpy())                           # [B, 4H], biases included
            np.testing.assert_allclose(gates, fused.input_gates(x[:, t]).numpy(), atol=1e-6, rtol=1e-6)
            out, array_state = stack(None, array_state, gates)
            reference, fused_state = fused(x[:, t], fused_state)
            np.testing.assert_allclose(out, reference.numpy(), atol=1e-5, rtol=1e-5)
    with_bias, without_bias = (stack.input_gates(x[:, 0].numpy(), bias=b) for b in (True, False))
    np.testing.assert_allclose(with_bias - without_bias, np.broadcast_to(
        (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy(), with_bias.shape), atol=1e-5)


def test_input_gates_are_refused_for_a_gru():
    with pytest.raises(ValueError, match="LSTM"):
        ArrayStack(module("GRU")).input_gates(np.zeros((1, 7), dtype=np.float32))


def test_unsupported_stacks_are_refused():
    with pytest.raises(ValueError, match="one-directional"):
        ArrayStack(torch.nn.LSTM(4, 5, bidirectional=True))
    with pytest.raises(ValueError, match="projection"):
        ArrayStack(torch.nn.LSTM(4, 6, proj_size=3))


def test_select_rows_takes_rows_in_order_from_arrays_or_tensors():
    stack = ArrayStack(module("LSTM"))
    state, _ = stack.zeros(3), None
    _, state = stack(np.arange(21, dtype=np.float32).reshape(3, 7) / 10, state)
    for rows in (np.array([2, 2, 0]), torch.tensor([2, 2, 0])):
        picked = select_rows(state, rows)
        for (h, c), (h_all, c_all) in zip(picked, state):
            assert np.array_equal(h, h_all[[2, 2, 0]]) and np.array_equal(c, c_all[[2, 2, 0]])


def test_sigmoid_is_exact_at_the_extremes_without_warnings():
    with warnings.catch_warnings():                        # numpy's default error handling, warnings as errors
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, -5.0, 0.0, 5.0, 1000.0], dtype=np.float32))
    np.testing.assert_allclose(values, torch.sigmoid(torch.tensor([-1000.0, -5.0, 0.0, 5.0, 1000.0])).numpy(),
                               atol=1e-7)


def test_one_thread_limits_numpys_blas_and_restores_it():
    import threadpoolctl                                          # a dependency: never skipped

    before = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    with one_thread():
        inside = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
        assert torch.get_num_threads() == 1
    after = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    assert inside and set(inside) == {1}
    assert after == before


def test_gumbel_noise_as_arrays_is_the_same_stream():
    tensors = GumbelNoise(torch.Generator().manual_seed(5), (3, 8), chunk=4)
    arrays = GumbelNoise(torch.Generator().manual_seed(5), (3, 8), chunk=4)
    for _ in range(10):                                        # across chunk boundaries
        array = arrays.next_array()
        assert isinstance(array, np.ndarray) and array.shape == (3, 8)
        assert np.array_equal(tensors.next().numpy(), array)
