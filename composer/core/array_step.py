"""One time step of a stacked recurrent network for a batch, in numpy.

The melody sampler carries its state one token at a time for 1..16 rows. At those sizes a step is three
small matrix products and a dozen elementwise operations, and what each library call costs beyond its
arithmetic is most of the time. Measured in a sampling loop on one thread (batch 8, two LSTM layers of 192,
184 tokens; the masks and the draw included): 364 us a step in numpy against 549 us on PyTorch's fused cells
(:mod:`composer.core.lstm_step`), from OpenBLAS's smaller products (76 against 83-158 us for 8 x 192 by 192 x 768)
and numpy's cheaper small operations. The loop's other work (masks, lookbacks, the draw) is numpy already, so
nothing crosses between libraries on the way.

The weights are copied from the module at construction, transposed so that a product reads rows, and the
results match the module's own step to float32 rounding (tests compare them). Training and priming stay in
PyTorch; :meth:`ArrayStack.from_module` takes over the state a module's forward pass returns.
"""

from __future__ import annotations

import numpy as np
import torch

State = list   # one entry per layer: (h, c) for an LSTM, h for a GRU or RNN, each float32 [B, H]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise (exp overflows to inf for x below -88, giving exactly 0)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def lstm_update(gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM cell's update from its summed gate pre-activations [B, 4H] (PyTorch's order i, f, g, o)
    and cell state [B, H]; returns the new (h, c)."""
    size = c.shape[1]
    squashed = sigmoid(gates)                                            # i, f, o used; g's is wasted
    c = squashed[:, size:2 * size] * c + squashed[:, :size] * np.tanh(gates[:, 2 * size:3 * size])
    return squashed[:, 3 * size:] * np.tanh(c), c


class ArrayStack:
    """A stacked ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (one direction, biases, no projection), stepped in numpy.

    Args:
        rnn: the trained module; its weights are copied (make the stack after training).

    Raises:
        ValueError: a bidirectional stack, one without biases or with a projection.
    """

    def __init__(self, rnn: torch.nn.RNNBase) -> None:
        if rnn.bidirectional or getattr(rnn, "proj_size", 0) or not rnn.bias:
            raise ValueError("only a one-directional recurrent stack with biases and no projection is stepped")
        self.mode = rnn.mode                                       # "LSTM", "GRU", "RNN_TANH" or "RNN_RELU"
        self.is_lstm = self.mode == "LSTM"
        self.hidden_size = rnn.hidden_size
        # per layer, G gates: an LSTM's [W_ih; W_hh]^T [In + H, 4H] (one product of [x, h]) and b_ih + b_hh;
        # another cell's W_ih^T [In, G*H], W_hh^T [H, G*H], b_ih, b_hh (a GRU's reset gate needs them apart)
        self.layers = []
        for k in range(rnn.num_layers):
            w_ih, w_hh, b_ih, b_hh = (getattr(rnn, f"{name}_l{k}").detach().float().numpy()
                                      for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            if self.is_lstm:
                self.layers.append((np.concatenate([w_ih, w_hh], 1).T.copy(), b_ih + b_hh))
            else:
                self.layers.append((w_ih.T.copy(), w_hh.T.copy(), b_ih.copy(), b_hh.copy()))
        self.input_size = rnn.input_size

    def zeros(self, batch: int) -> State:
        """The all-zero state of ``batch`` rows (what the module starts from)."""
        zeros = lambda: np.zeros((batch, self.hidden_size), dtype=np.float32)  # noqa: E731
        if self.is_lstm:
            return [(zeros(), zeros()) for _ in self.layers]
        return [zeros() for _ in self.layers]

    def from_module(self, state) -> State:
        """This class's per-layer state from the module's ((h [L, B, H], c [L, B, H]) or h [L, B, H])."""
        if self.is_lstm:
            h, c = (t.detach().float().numpy() for t in state)
            return [(h[k].copy(), c[k].copy()) for k in range(len(self.layers))]
        h = state.detach().float().numpy()
        return [h[k].copy() for k in range(len(self.layers))]

    def input_gates(self, inputs: np.ndarray, bias: bool = True) -> np.ndarray:
        """The first layer's input side of each row of ``inputs`` [N, In]: inputs . W_ih^T (+ b_ih + b_hh),
        float32 [N, 4H] for an LSTM; rows of it (summed) go to :meth:`__call__` as ``gates``."""
        inputs = np.asarray(inputs, dtype=np.float32)
        if not self.is_lstm:
            raise ValueError("input gates are an LSTM's")
        w_cat_t, both_biases = self.layers[0]
        product = inputs @ w_cat_t[:self.input_size]
        return product + both_biases if bias else product

    def __call__(self, x: np.ndarray | None, state: State,
                 gates: np.ndarray | None = None) -> tuple[np.ndarray, State]:
        """One time step.

        Args:
            x: the first layer's input float32 [B, In]; None when ``gates`` is given.
            state: per-layer state (see :data:`State`).
            gates: an LSTM's first-layer input side [B, 4H] already computed (see :meth:`input_gates`),
                used instead of ``x``.

        Returns:
            The top layer's output h [B, H] and the new state.
        """
        new_state = []
        if not self.is_lstm:
            for (w_ih_t, w_hh_t, b_ih, b_hh), h in zip(self.layers, state):
                x = self._plain_cell(x @ w_ih_t + b_ih, h @ w_hh_t + b_hh, h)                # [B, H]
                new_state.append(x)
            return x, new_state
        layers = zip(self.layers, state)
        if gates is not None:
            (w_cat_t, _), (h, c) = next(layers)
            x, c = lstm_update(gates + h @ w_cat_t[self.input_size:], c)                   # [B, H]
            new_state.append((x, c))
        for (w_cat_t, both_biases), (h, c) in layers:
            gates = np.concatenate([x, h], 1) @ w_cat_t                                     # [B, 4H]
            gates += both_biases
            x, c = lstm_update(gates, c)                                                   # [B, H]
            new_state.append((x, c))
        return x, new_state

    def _plain_cell(self, from_input: np.ndarray, from_hidden: np.ndarray, h: np.ndarray) -> np.ndarray:
        """A GRU's or plain RNN's new h [B, H] from the input's and the state's products (biases added)."""
        if self.mode == "RNN_TANH":
            return np.tanh(from_input + from_hidden)
        if self.mode == "RNN_RELU":
            return np.maximum(from_input + from_hidden, 0)
        size = self.hidden_size                                          # GRU, PyTorch's order r, z, n
        reset_update = sigmoid(from_input[:, :2 * size] + from_hidden[:, :2 * size])
        candidate = np.tanh(from_input[:, 2 * size:] + reset_update[:, :size] * from_hidden[:, 2 * size:])
        return candidate + reset_update[:, size:] * (h - candidate)


def select_rows(state: State, rows) -> State:
    """The state of the given batch rows (int [R], numpy or a tensor): for beam search and batch expansion."""
    rows = np.asarray(rows, dtype=np.int64)
    return [tuple(t[rows] for t in s) if isinstance(s, tuple) else s[rows] for s in state]
