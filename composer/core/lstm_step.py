"""One time step of a stacked recurrent network for a batch, on PyTorch's fused cell kernels.

Both samplers (the melody's :class:`composer.melody.sample.Stepper` and the harmony decoder's, in
:mod:`composer.harmony.sampler`) carry their state one step at a time. Calling an ``nn.LSTM`` module for a
single time step costs far more than the arithmetic at batch sizes of 1..16; the fused cells
(``torch.lstm_cell`` and kin) with the same weights give the same result several times faster.

For an LSTM the first layer's input side (input times input weights, plus both biases) can be computed
ahead of time, e.g. once per token of a vocabulary; :meth:`FusedStack.__call__` then takes those gates
instead of the input, and :func:`lstm_update` finishes the cell from them.
"""

from __future__ import annotations

import contextlib
import functools

import torch

State = list   # one entry per layer: (h, c) for an LSTM, h for a GRU or RNN, each [B, H]

_CELLS = {"LSTM": torch.lstm_cell, "GRU": torch.gru_cell, "RNN_TANH": torch.rnn_tanh_cell,
          "RNN_RELU": torch.rnn_relu_cell}


@contextlib.contextmanager
def one_thread():
    """Run PyTorch and numpy's BLAS (the melody sampler's products, :mod:`composer.core.array_step`) on one
    thread for the duration.

    A sampling step is dozens of tiny operations; spreading each over threads costs more in
    synchronisation than it saves, and collapses to a crawl when another process (training, the GUI)
    keeps the other cores busy: measured 1,890 steps/s on one thread against 14 on two.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _blas_controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the BLAS libraries loaded (numpy's OpenBLAS), made once: 20 us to limit after."""
    import threadpoolctl

    return threadpoolctl.ThreadpoolController()


def lstm_update(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """An LSTM cell's update from its summed gate pre-activations [B, 4H] (PyTorch's order i, f, g, o)
    and cell state [B, H]; returns the new (h, c)."""
    size = c.size(1)
    squashed = torch.sigmoid(gates)                                      # i, f, o used; g's is wasted
    candidate = torch.tanh(gates[:, 2 * size:3 * size])
    c = torch.addcmul(squashed[:, size:2 * size] * c, squashed[:, :size], candidate)
    return squashed[:, 3 * size:] * torch.tanh(c), c


class FusedStack:
    """The weights of a stacked ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN``, stepped one time step for a batch.

    The weights are the module's own (detached, not copied): a stack made before training sees the
    trained values. State is a list with one entry per layer: ``(h, c)`` for an LSTM, ``h`` otherwise.
    """

    def __init__(self, rnn: torch.nn.RNNBase) -> None:
        if rnn.bidirectional or getattr(rnn, "proj_size", 0) or not rnn.bias:
            raise ValueError("only a one-directional recurrent stack with biases and no projection is stepped")
        self.is_lstm = rnn.mode == "LSTM"
        self.cell = _CELLS[rnn.mode]
        self.hidden_size = rnn.hidden_size
        self.layers = [tuple(getattr(rnn, f"{name}_l{k}").detach()
                             for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                       for k in range(rnn.num_layers)]

    def zeros(self, batch: int) -> State:
        """The all-zero state of ``batch`` rows (what the module starts from)."""
        zeros = lambda: torch.zeros(batch, self.hidden_size)  # noqa: E731
        if self.is_lstm:
            return [(zeros(), zeros()) for _ in self.layers]
        return [zeros() for _ in self.layers]

    def from_module(self, state) -> State:
        """This class's per-layer state from the module's ((h [L, B, H], c [L, B, H]) or h [L, B, H])."""
        if self.is_lstm:
            h, c = state
            return [(h[k], c[k]) for k in range(len(self.layers))]
        return [state[k] for k in range(len(self.layers))]

    def input_gates(self, inputs: torch.Tensor, bias: bool = True) -> torch.Tensor:
        """The first layer's input side of each row of ``inputs`` [N, In]: inputs . W_ih^T (+ b_ih + b_hh),
        [N, 4H] for an LSTM; rows of it (summed) go to :meth:`__call__` as ``gates``."""
        w_ih, _, b_ih, b_hh = self.layers[0]
        if bias:
            return torch.addmm(b_ih + b_hh, inputs, w_ih.t())
        return inputs @ w_ih.t()

    def __call__(self, x: torch.Tensor | None, state: State,
                 gates: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        """One time step.

        Args:
            x: the first layer's input [B, In]; None when ``gates`` is given.
            state: per-layer state (see the class docstring).
            gates: an LSTM's first-layer input side [B, 4H] already computed (see :meth:`input_gates`),
                used instead of ``x``.

        Returns:
            The top layer's output h [B, H] and the new state.
        """
        new_state = []
        pairs = zip(self.layers, state)
        if gates is not None:
            h, c = state[0]
            x, c = lstm_update(torch.addmm(gates, h, self.layers[0][1].t()), c)   # [B, H]
            new_state.append((x, c))
            pairs = zip(self.layers[1:], state[1:])
        for weights, layer in pairs:
            layer = self.cell(x, layer, *weights)
            new_state.append(layer)
            x = layer[0] if isinstance(layer, tuple) else layer                   # [B, H]
        return x, new_state


def select_rows(state: State, rows: torch.Tensor) -> State:
    """The state of the given batch rows int64 [R] (for beam search and batch expansion)."""
    return [tuple(t.index_select(0, rows) for t in s) if isinstance(s, tuple) else s.index_select(0, rows)
            for s in state]
