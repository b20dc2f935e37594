"""Drawing tokens from logits, shared by the samplers of every model family."""

from __future__ import annotations

import numpy as np
import torch


def draw_tokens(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One token per row of logits [B, V] (-inf: never), drawn from their softmax: int64 [B].

    The Gumbel-max trick (argmax of logits plus Gumbel noise) draws exactly from the softmax, in a few
    elementwise operations; ``torch.multinomial`` on the probabilities costs several times more per call.
    """
    uniform = torch.rand(logits.shape, generator=generator)
    return (logits - torch.log(-torch.log(uniform))).argmax(-1)


class GumbelNoise:
    """The noise :func:`draw_tokens` adds, made many draws at a time for a loop that draws every step.

    Draw k of :meth:`next` holds the numbers the k-th call of :func:`draw_tokens` with the same generator and
    shape would have used (PyTorch's CPU generator fills a large tensor with the same stream as the same
    elements drawn in pieces), so ``(logits - noise.next()).argmax(-1)`` draws the same tokens with one
    random call per ``chunk`` steps instead of four operations each step.

    Args:
        generator: the random source.
        shape: (rows, tokens) of every draw.
        chunk: draws made at once.
    """

    def __init__(self, generator: torch.Generator, shape: tuple[int, int], chunk: int = 32) -> None:
        self.generator, self.shape, self.chunk = generator, tuple(shape), max(1, chunk)
        self.block = torch.empty(0, *self.shape)
        self.block_array = self.block.numpy()
        self.used = 0

    def next(self) -> torch.Tensor:
        """[rows, tokens]: log(-log(u)) for uniform u; subtract it from logits and take the argmax."""
        index = self._advance()                  # first: it may replace the block
        return self.block[index]

    def next_array(self) -> np.ndarray:
        """:meth:`next` as a float32 numpy array (the same numbers and the same memory), for a numpy loop."""
        index = self._advance()
        return self.block_array[index]

    def _advance(self) -> int:
        """The index in the block of the next draw's noise, making a new block when this one is used up."""
        if self.used == len(self.block):
            uniform = torch.rand((self.chunk * self.shape[0], self.shape[1]), generator=self.generator)
            self.block = torch.log(-torch.log(uniform)).view(self.chunk, *self.shape)
            self.block_array = self.block.numpy()
            self.used = 0
        self.used += 1
        return self.used - 1
