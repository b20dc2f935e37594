"""How a beam search ranks its rows, recomputed by teacher forcing (shared by the beam tests)."""

from __future__ import annotations

import torch


@torch.no_grad()
def masked_log_probability_per_note(sampler, row, until_tick) -> float:
    """A row's log-probability under the search's masks (grammar, end, rhythm grid), per note: teacher-forced."""
    form = sampler.form_steps(row[:1], 1, until_tick, None, None)
    state, cursor = sampler.stepper.initial_state(1), torch.zeros(1, dtype=torch.long)
    last, total, notes = torch.tensor([int(row[0])]), 0.0, 0
    for token in row[1:]:
        logits, state = sampler._logits(last, state, cursor, None, form)
        bias = sampler._beam_bias(last, cursor, until_tick, sampler.key_bias(None), form)
        total += float(torch.log_softmax(logits + bias, -1)[0, token])
        form.record(torch.tensor([int(token)]), cursor)
        cursor = cursor + int(sampler.vocab.shift_steps[token])
        last = torch.tensor([int(token)])
        notes += int(token) in sampler.vocab.pitch_ids
    return total / max(1, notes)
