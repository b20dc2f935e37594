"""Scoring token sequences with a melody model: the summed next-token loss of each, as training scores them.

Used by ``composer evaluate`` (:mod:`composer.melody.evaluate`, nats per note) and by the primer's key
(:mod:`composer.melody.primer_key`); it depends on neither, so both can import it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Progress = Callable[[str, int, int], None]   # ("scoring", sequences done, sequences)


def piece_losses(net, sequences: list[np.ndarray], batch_size: int = 32,
                 forms: list[np.ndarray] | None = None, progress: Progress | None = None) -> np.ndarray:
    """float [N]: the summed next-token loss (nats) of every sequence (BOS ... EOS, all tokens after BOS
    scored), each from a fresh state, as :func:`composer.melody.train.evaluate` scores them. A chord-conditioned
    model is scored over "no chord" throughout; a model with form inputs reads ``forms`` (ids [T, K] per
    sequence, :func:`composer.melody.form_inputs.sequence_ids`). ``progress("scoring", sequences done,
    sequences)`` is called first and after each batch."""
    import torch
    from torch import nn

    from composer.melody.conditioning import condition_vectors
    from composer.melody.encoding import PAD
    from composer.music.chords import NO_CHORD

    net.eval()
    totals = np.zeros(len(sequences))
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    if progress is not None:
        progress("scoring", 0, len(order))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(len(sequences[i]) for i in rows)
            batch = np.full((len(rows), width), PAD, dtype=np.int64)
            for row, index in enumerate(rows):
                batch[row, : len(sequences[index])] = sequences[index]
            ids = torch.from_numpy(batch)
            condition = None
            if net.config.condition_size:
                codes = torch.full((len(rows), width - 1), NO_CHORD, dtype=torch.long)
                condition = condition_vectors(codes)
            form = None
            if forms is not None:
                padded = np.zeros((len(rows), width, forms[0].shape[1]), dtype=np.int64)
                for row, index in enumerate(rows):
                    padded[row, : len(forms[index])] = forms[index]
                form = torch.from_numpy(padded[:, :-1])                       # [B, T-1, K]
            logits, _ = net(ids[:, :-1], condition=condition, form=form)
            targets = ids[:, 1:]
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
            losses = losses.masked_fill(targets == PAD, 0.0).sum(1)
            totals[rows] = losses.double().numpy()
            if progress is not None:
                progress("scoring", start + len(rows), len(order))
    return totals
