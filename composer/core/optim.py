"""Optimizer and learning-rate schedules shared by every model family's training.

AdamW with weight decay on weight matrices only; the learning rate follows one of two schedules:

    WarmupCosine    linear warm-up, then cosine decay to ``min_lr_ratio * lr``, stepped every batch; with a
                    time budget the decay is refitted after every epoch to the epochs the budget allows
    PlateauHalving  constant, halved after every ``after`` epochs in a row without a better validation loss
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn


def make_optimizer(model: nn.Module, lr: float, weight_decay: float,
                   no_decay: Callable[[str], bool] = lambda name: False) -> torch.optim.Optimizer:
    """AdamW with weight decay on weight matrices (2-D and up) only, never on biases or norms.

    Args:
        model: the network.
        lr: the learning rate.
        weight_decay: decay of the weight matrices.
        no_decay: names of further matrices that are not decayed (e.g. embeddings), as a predicate.
    """
    decay, other = [], []
    for name, param in model.named_parameters():
        (decay if param.dim() >= 2 and not no_decay(name) else other).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr)


def lr_schedule(warmup_steps: int, min_lr_ratio: float, total_steps: int,
                horizon: Callable[[], int] | None = None) -> Callable[[int], float]:
    """Learning-rate factor at a step: linear warm-up, then cosine decay to ``min_lr_ratio``.

    Args:
        warmup_steps: steps of warm-up (at most a tenth of the run).
        min_lr_ratio: the factor the decay ends at.
        total_steps: the steps of all the run's epochs.
        horizon: the step the decay ends at now, when a time budget may end the run sooner (see
            :func:`budget_epochs`); None: ``total_steps``.
    """
    warmup = min(warmup_steps, max(1, total_steps // 10))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        end = horizon() if horizon is not None else total_steps
        progress = min(1.0, (step - warmup) / max(1, end - warmup))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def budget_epochs(epochs: int, done: int, elapsed_s: float, budget_s: float) -> int:
    """How many epochs a run will have trained when it ends, at its pace so far.

    A run with a time budget stops after the epoch that reaches it. Fitting the learning-rate decay to
    this number (re-estimated after every epoch) makes a time-capped run end at the low learning rate
    it would have reached after all its epochs, instead of stopping half-way down the cosine.

    Args:
        epochs: the run's epochs.
        done: epochs done within the budget's time.
        elapsed_s: seconds they took.
        budget_s: the time budget in seconds (0: none).

    Returns:
        ``epochs``, or fewer when the budget will stop the run first (at least ``done``).
    """
    if budget_s <= 0 or done <= 0 or elapsed_s <= 0:
        return epochs
    more = max(0, math.ceil((budget_s - elapsed_s) / (elapsed_s / done)))
    return max(done, min(epochs, done + more))


class WarmupCosine:
    """Warm-up then cosine decay, stepped after every optimizer step; refitted to a time budget."""

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_steps: int, min_lr_ratio: float,
                 steps_per_epoch: int, epochs: int) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.decay_steps = steps_per_epoch * epochs   # shortened when the time budget will stop the run
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lr_schedule(warmup_steps, min_lr_ratio, self.decay_steps, horizon=lambda: self.decay_steps))

    def after_step(self) -> None:
        self.scheduler.step()

    def after_epoch(self, improved: bool) -> None:
        """Nothing: the cosine does not look at the validation loss."""

    def fit_to_epochs(self, epochs: int) -> None:
        """End the decay after ``epochs`` epochs in all (see :func:`budget_epochs`)."""
        self.decay_steps = self.steps_per_epoch * epochs

    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


class PlateauHalving:
    """A constant learning rate, halved after every ``after`` epochs in a row without a better validation loss."""

    def __init__(self, optimizer: torch.optim.Optimizer, lr: float, after: int) -> None:
        self.optimizer, self.after = optimizer, after
        self.current, self.bad_epochs = lr, 0
        self._apply()

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.current

    def after_step(self) -> None:
        """Nothing: the rate changes only between epochs."""

    def after_epoch(self, improved: bool) -> None:
        self.bad_epochs = 0 if improved else self.bad_epochs + 1
        if not improved and self.bad_epochs % self.after == 0:
            self.current *= 0.5
        self._apply()

    def fit_to_epochs(self, epochs: int) -> None:
        """Nothing: a plateau schedule has no horizon."""

    def lr(self) -> float:
        return self.current

    def state_dict(self) -> dict:
        return {"lr": self.current, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.current, self.bad_epochs = float(state["lr"]), int(state["bad_epochs"])
        self._apply()
