"""Drawing tokens from logits, shared by the samplers of every model family."""

from __future__ import annotations

import torch


def draw_tokens(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One token per row of logits [B, V] (-inf: never), drawn from their softmax: int64 [B].

    The Gumbel-max trick (argmax of logits plus Gumbel noise) draws exactly from the softmax, in a few
    elementwise operations; ``torch.multinomial`` on the probabilities costs several times more per call.
    """
    uniform = torch.rand(logits.shape, generator=generator)
    return (logits - torch.log(-torch.log(uniform))).argmax(-1)
