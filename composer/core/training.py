"""The one training loop every model family uses.

A family supplies a :class:`TrainingTask`: its network, its schedule, each epoch's batches, the loss of a batch,
validation, and the fields of its model file. :class:`Trainer` does the rest, the same for all: the optimizer
steps (clipped gradients), early stopping on the validation loss, the time budget (with the learning-rate decay
fitted to it), the best weights, the model file rewritten atomically after every epoch and on interruption (its
lock held for the whole run, so that a second training into the same file stops at once: :mod:`composer.core.locks`),
resume (weights, optimizer, schedule, RNG, patience), the learning curve beside the model file, and progress events::

    {"event": "step", "epoch", "epochs", "batch", "batches", "loss", "accuracy", "tokens_per_s", "lr"}
    {"event": "epoch", **history_row, "improved"}   {"event": "done" | "interrupted", ...}

A model file is one plain dict (see :mod:`composer.core.modelfile`)::

    format_version, kind, model_config, model_state (best weights), metrics, recipe, history, epoch,
    resume {model_state, optimizer, scheduler, rng, bad_epochs, step, best_loss}, + the family's own fields
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Iterator

import numpy as np
import torch
from torch import nn

from composer.core import distributed
from composer.core.atomic import write_atomically
from composer.core.config import dataclass_from_dict, nest_fields
from composer.core.distributed import SINGLE, Shard
from composer.core.locks import OutputLockedError, output_lock
from composer.core.modelfile import FORMAT_VERSION, ModelFileError, load_checkpoint, save_checkpoint
from composer.core.optim import budget_epochs

ProgressCallback = Callable[[dict], None]
STEP_EVENT_EVERY = 10   # a "step" progress event every this many batches (and at the last)


class TrainingError(Exception):
    """Training cannot start or go on (no usable data, a resume that does not fit, ...)."""


@dataclass(frozen=True)
class TrainingSettings:
    """The recipe fields every family shares; each family's config adds its model and data fields.

    Attributes:
        epochs: most passes over the training split.
        batch_size: sequences (pieces or token streams) per batch.
        lr: peak learning rate (AdamW).
        weight_decay: decay of the weight matrices.
        clip: gradient-norm clip.
        patience: stop after this many epochs in a row without a better validation loss.
        max_minutes: stop after the epoch that passes this much training time, earlier sessions of a resumed run
            included (0: no limit).
        seed: random seed.
    """

    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.01
    clip: float = 1.0
    patience: int = 4
    max_minutes: float = 0.0
    seed: int = 1234

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.clip <= 0:
            raise ValueError(f"lr and clip must be positive, got lr {self.lr}, clip {self.clip}")
        if self.max_minutes < 0 or self.weight_decay < 0:
            raise ValueError("max_minutes and weight_decay must not be negative")

    # Nested fields (a dict of the model's shape, of the encoding) and the flat names that belong in each: a recipe
    # may give them flat, as the JSON recipes do (see :func:`composer.core.config.nest_fields`).
    NESTED: ClassVar[dict[str, tuple[str, ...]]] = {}
    SETTINGS_LABEL: ClassVar[str] = "training settings"   # how messages name these settings

    def to_dict(self) -> dict:
        """The recipe as plain data (nested fields as dicts, tuples as lists), as saved in model files."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict):
        """The settings in a recipe dict, flat or nested (JSON lists for tuple fields; unknown names are refused)."""
        values = nest_fields({k: v for k, v in values.items() if k != "task"}, cls.NESTED)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return dataclass_from_dict(cls, values, cls.SETTINGS_LABEL)

    @classmethod
    def of(cls, **values):
        """The settings from flat keyword arguments, as a JSON recipe gives them: ``TrainConfig.of(hidden_size=64)``."""
        return cls.from_dict(values)

    def replace(self, **changes):
        """A copy with some settings changed, named flat or nested."""
        changes = nest_fields(changes, type(self).NESTED)
        for group in type(self).NESTED:
            if group in changes:
                changes[group] = {**getattr(self, group), **changes[group]}
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class CorpusTrainingSettings(TrainingSettings):
    """The shared fields of the families trained on a folder of MIDI files (melody, harmony).

    Attributes:
        warmup_steps, min_lr_ratio: linear warm-up, then cosine decay to ``min_lr_ratio * lr``
            (see :class:`composer.core.optim.WarmupCosine`).
        transpose: (lowest, highest) random transposition of each training piece every epoch, in semitones.
        valid_fraction, test_fraction: the files held out, by a hash of their path.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    """

    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    transpose: tuple[int, int] = (-5, 6)
    valid_fraction: float = 0.1
    test_fraction: float = 0.05
    device: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.transpose[0] > self.transpose[1]:
            raise ValueError(f"transpose must be (low, high) with low <= high, got {self.transpose}")
        if not 0 <= self.valid_fraction < 1 or not 0 <= self.test_fraction < 1 \
                or self.valid_fraction + self.test_fraction >= 1:
            raise ValueError("valid_fraction and test_fraction must be >= 0 and sum to less than 1")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu or cuda[:N], got {self.device!r}")


@dataclass
class Metrics:
    """Mean loss (nats per scored token or cell), accuracy, and how many were scored."""

    loss: float
    accuracy: float
    tokens: int

    @property
    def perplexity(self) -> float:
        return math.exp(min(self.loss, 50.0))

    def to_dict(self) -> dict:
        return {"loss": self.loss, "perplexity": self.perplexity, "accuracy": self.accuracy, "tokens": self.tokens}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str) -> torch.device:
    """``auto`` (CUDA when PyTorch sees it, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.

    Raises:
        TrainingError: CUDA asked for but not available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError("device cuda was asked for, but PyTorch sees no CUDA device")
    return torch.device(name)


def cpu_state(model: nn.Module) -> dict:
    """A copy of the model's weights on the CPU."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def rng_state(rng: np.random.Generator) -> dict:
    """Python's, NumPy's (the run's generator) and PyTorch's random state, as plain data."""
    return {"python": list(random.getstate()[1]), "numpy": json.dumps(rng.bit_generator.state),
            "torch": torch.get_rng_state()}


def restore_rng(state: dict, rng: np.random.Generator) -> None:
    random.setstate((3, tuple(state["python"]), None))
    rng.bit_generator.state = json.loads(state["numpy"])
    torch.set_rng_state(state["torch"])


def load_for_resume(path: Path, kind: str) -> dict:
    """The model file to continue training from.

    Raises:
        TrainingError: unreadable, another kind, or stripped of its resume state.
    """
    try:
        previous = load_checkpoint(path, kinds=(kind,))
    except ModelFileError as error:
        raise TrainingError(str(error)) from None
    if "resume" not in previous:
        raise TrainingError(f"{path} holds no resume state (it was stripped for shipping)")
    return previous


@dataclass
class StepResult:
    """What a family's loss gives back for one batch: the loss to minimise and the counts to report."""

    loss: torch.Tensor    # scalar, the mean over the batch's scored tokens
    correct: int          # scored tokens predicted right (argmax)
    count: int            # tokens the mean was taken over


class TrainingTask:
    """What a model family supplies to :class:`Trainer`. Subclasses set the attributes and implement the hooks.

    Attributes:
        kind: the model-file kind (see :mod:`composer.core.modelfile`).
        model: the network being trained (``trainable``: what the step calls, e.g. its DDP wrapper).
        optimizer, schedule: see :mod:`composer.core.optim`.
        rng: the run's random generator (saved and restored with the run).
        settings: the recipe (a :class:`TrainingSettings`).
        recipe: the recipe dict saved in the model file.
    """

    kind: str
    model: nn.Module
    trainable: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: object
    rng: np.random.Generator
    settings: TrainingSettings
    recipe: dict

    def batches(self, epoch: int) -> Iterator[object]:
        """This epoch's batches, in order (drawn with ``self.rng``): the epoch's data is prepared when this is
        called, the batches are made as they are taken."""
        raise NotImplementedError

    def batches_per_epoch(self) -> int:
        """How many batches the epoch prepared by the latest :meth:`batches` call has (for progress)."""
        raise NotImplementedError

    def step(self, batch: object) -> StepResult:
        """The loss of one batch (the model is in training mode)."""
        raise NotImplementedError

    def validate(self) -> tuple[float, dict]:
        """(the loss that picks the best weights, its metrics for the model file and the curve)."""
        raise NotImplementedError

    def history_fields(self, train: Metrics, valid: dict) -> dict:
        """The family's own columns of a learning-curve row (beside epoch, step, losses, lr, seconds)."""
        return {}

    def checkpoint_fields(self) -> dict:
        """The family's own model-file fields (vocabulary, voice limits, ...)."""
        return {}

    def finish(self, checkpoint: dict) -> None:
        """Last scores of the best weights (test split, ...), written into ``checkpoint`` (called once)."""

    def shard(self) -> Shard:
        return SINGLE


class Trainer:
    """Runs a task's epochs; see the module docstring for what it does for every family."""

    def __init__(self, task: TrainingTask, out_path: Path, emit: ProgressCallback | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.task, self.out_path = task, Path(out_path)
        self.shard = task.shard()
        self.emit = (emit or (lambda event: None)) if self.shard.is_main else (lambda event: None)
        self.should_stop = should_stop or (lambda: False)
        self.history: list[dict] = []
        self.metrics: dict = {}
        self.best_loss, self.best_state, self.bad_epochs = math.inf, None, 0
        self.step_count, self.completed, self.session_first_epoch = 0, 0, 0
        self.earlier_seconds, self.started = 0.0, time.time()

    # -- state ----------------------------------------------------------------------------------------
    def restore(self, previous: dict) -> None:
        """Continue a saved run: last weights, optimizer, schedule, RNG, patience, curve, time spent."""
        state = previous["resume"]
        try:
            self.task.model.load_state_dict(state["model_state"])
            self.task.optimizer.load_state_dict(state["optimizer"])
            self.task.schedule.load_state_dict(state["scheduler"])
            restore_rng(state["rng"], self.task.rng)
            self.step_count, self.bad_epochs = state["step"], state["bad_epochs"]
        except (KeyError, ValueError, RuntimeError) as error:
            raise TrainingError(f"{self.out_path}: its resume state does not fit this run ({error})") from None
        self.completed = self.session_first_epoch = previous["epoch"]
        self.history, self.metrics = list(previous["history"]), previous["metrics"]
        self.earlier_seconds = float(previous["recipe"].get("train_seconds", 0.0))
        if "valid" in self.metrics:   # an interrupt before the first epoch ended has no best yet
            self.best_state = previous["model_state"]
            self.best_loss = state.get("best_loss", self.metrics["valid"].get("loss", math.inf))
        self._fit_decay_to_budget()

    def seconds(self) -> float:
        """Training time of the run so far, earlier sessions included."""
        return self.earlier_seconds + time.time() - self.started

    def checkpoint(self) -> dict:
        """The model file's dict: best weights for use, last state for resuming."""
        task = self.task
        last = cpu_state(task.model)
        task.recipe["train_seconds"] = round(self.seconds(), 1)
        return {
            "format_version": FORMAT_VERSION, "kind": task.kind, "model_config": task.model.config.to_dict(),
            **task.checkpoint_fields(),
            "model_state": self.best_state if self.best_state is not None else last,
            "metrics": self.metrics, "recipe": task.recipe, "history": self.history, "epoch": self.completed,
            "resume": {"model_state": last, "optimizer": task.optimizer.state_dict(),
                       "scheduler": task.schedule.state_dict(), "rng": rng_state(task.rng),
                       "bad_epochs": self.bad_epochs, "step": self.step_count, "best_loss": self.best_loss},
        }

    def save(self, checkpoint: dict | None = None) -> dict:
        """Write the model file atomically (rank 0 only) and return its dict."""
        checkpoint = checkpoint if checkpoint is not None else self.checkpoint()
        if self.shard.is_main:
            save_checkpoint(checkpoint, self.out_path)
        return checkpoint

    # -- the loop -------------------------------------------------------------------------------------
    def run(self) -> dict:
        """Train until the epochs, the patience or the time budget run out; score; save.

        Returns:
            The final checkpoint dict (also after ``should_stop`` interrupted the run).

        Raises:
            TrainingError: another process is training into the same model file (it holds the file's lock,
                see :mod:`composer.core.locks`; the lock is held here for the whole run, by the first process).
            KeyboardInterrupt: after saving, when interrupted with Ctrl-C.
        """
        with contextlib.ExitStack() as held:
            if self.shard.is_main:   # only the first process writes files
                try:
                    held.enter_context(output_lock(self.out_path))
                except OutputLockedError as error:
                    raise TrainingError(str(error)) from None
            return self._run()

    def _run(self) -> dict:
        """:meth:`run`, with the model file's lock held."""
        stop_reason = "finished all epochs"
        try:
            for epoch in range(self.completed, self.task.settings.epochs):
                if self.run_epoch(epoch) is None:
                    return self._interrupted()
                reason = self.reason_to_stop()
                if reason:
                    stop_reason = reason
                    break
        except KeyboardInterrupt:
            self._interrupted()
            raise
        checkpoint = self.finish(stop_reason)
        self.emit({"event": "done", "metrics": self.metrics, "stop_reason": stop_reason, "path": str(self.out_path)})
        return checkpoint

    def _interrupted(self) -> dict:
        checkpoint = self.save()
        self.emit({"event": "interrupted", "epoch": self.completed, "path": str(self.out_path)})
        return checkpoint

    def run_epoch(self, epoch: int) -> dict | None:
        """Train one epoch, validate, keep the best weights, save, write the curve.

        Returns:
            The learning-curve row, or None when ``should_stop`` interrupted the epoch.
        """
        train = self.train_epoch(epoch)
        if train is None:
            return None
        valid_loss, valid = self.task.validate()
        improved = valid_loss < self.best_loss
        if improved:
            self.best_loss, self.best_state, self.bad_epochs = valid_loss, cpu_state(self.task.model), 0
            self.metrics = {"valid": valid, "best_epoch": epoch + 1}
        else:
            self.bad_epochs += 1
        row = {"epoch": epoch + 1, "step": self.step_count, "train_loss": train.loss, "valid_loss": valid_loss,
               **self.task.history_fields(train, valid), "lr": self.task.schedule.lr(), "seconds": self.seconds()}
        self.task.schedule.after_epoch(improved)
        self.history.append(row)
        self.completed = epoch + 1
        self._fit_decay_to_budget()
        self.save()
        if self.shard.is_main:
            write_curves(self.out_path, self.history)
        self.emit({"event": "epoch", **row, "improved": improved})
        return row

    def train_epoch(self, epoch: int) -> Metrics | None:
        """One pass over the task's batches: clipped AdamW steps. None when ``should_stop`` interrupted it."""
        task = self.task
        task.model.train()
        batches = task.batches(epoch)
        total = task.batches_per_epoch()
        loss_sum, correct, count = 0.0, 0, 0
        window_start, window_count = time.time(), 0
        for index, batch in enumerate(batches):
            result = task.step(batch)
            task.optimizer.zero_grad(set_to_none=True)
            result.loss.backward()
            nn.utils.clip_grad_norm_(task.model.parameters(), task.settings.clip)
            task.optimizer.step()
            task.schedule.after_step()
            self.step_count += 1
            loss_sum += result.loss.item() * result.count
            correct, count = correct + result.correct, count + result.count
            window_count += result.count
            if index % STEP_EVENT_EVERY == 0 or index == total - 1:
                elapsed = time.time() - window_start
                self.emit({"event": "step", "epoch": epoch + 1, "epochs": task.settings.epochs, "batch": index + 1,
                           "batches": total, "loss": loss_sum / count, "accuracy": correct / count,
                           "tokens_per_s": window_count / elapsed if elapsed > 0 else 0.0, "lr": task.schedule.lr()})
                window_start, window_count = time.time(), 0
            if self.should_stop():
                return None
        loss_sum, correct, count = distributed.all_reduce_sum([loss_sum, correct, count], self.shard)
        return Metrics(loss_sum / max(count, 1), correct / max(count, 1), int(count))

    def _fit_decay_to_budget(self) -> None:
        """End the learning-rate decay where the time budget will stop the run (rank 0's estimate)."""
        settings = self.task.settings
        if not settings.max_minutes:
            return
        done = self.completed - self.session_first_epoch
        epochs = budget_epochs_left(settings.epochs - self.session_first_epoch, done, time.time() - self.started,
                                    settings.max_minutes * 60 - self.earlier_seconds)
        epochs = int(distributed.main_number(epochs, self.shard))
        self.task.schedule.fit_to_epochs(self.session_first_epoch + epochs)

    def reason_to_stop(self) -> str | None:
        """Why training should end now (early stop or time budget), or None to go on."""
        settings = self.task.settings
        if self.bad_epochs >= settings.patience:
            return f"early stop: no better validation loss in {settings.patience} epochs"
        out_of_time = bool(settings.max_minutes) and self.seconds() > settings.max_minutes * 60
        if distributed.main_decides(out_of_time, self.shard):   # every rank stops at the same epoch
            return f"time budget of {settings.max_minutes:g} minutes reached"
        return None

    def finish(self, stop_reason: str) -> dict:
        """Let the task score the best weights, record how training ended, save."""
        self.task.recipe["stop_reason"] = stop_reason
        checkpoint = self.checkpoint()
        last = cpu_state(self.task.model)
        if self.best_state is not None:
            self.task.model.load_state_dict(self.best_state)
        self.task.finish(checkpoint)
        self.task.model.load_state_dict(last)
        self.metrics = checkpoint["metrics"]
        return self.save(checkpoint)


def budget_epochs_left(epochs: int, done: int, elapsed_s: float, budget_s: float) -> int:
    """:func:`composer.core.optim.budget_epochs`, with a budget already spent meaning no more epochs."""
    return budget_epochs(epochs, done, elapsed_s, budget_s) if budget_s > 0 else max(done, 1)


# -- files beside the model -------------------------------------------------------------------------------
def sidecar(out_path: Path, suffix: str) -> Path:
    """``model.pt`` -> ``model<suffix>`` (``.curve.csv``, ``.data.csv``, ...)."""
    return out_path.with_name(out_path.stem + suffix)


SIDE_FILE_SUFFIXES = (".curve.csv", ".curve.png", ".data.csv")


def side_files(out_path: str | os.PathLike, data_report: bool = True) -> list[Path]:
    """The files a training writes beside its model file (replaced with it: ``composer train --force``).

    Args:
        out_path: the model file.
        data_report: include ``.data.csv`` (trainings on a folder of MIDI files write it; the polyphonic
            benchmark's do not).

    Returns:
        ``.curve.csv``, ``.curve.png`` and (``data_report``) ``.data.csv`` beside ``out_path``.
    """
    suffixes = SIDE_FILE_SUFFIXES if data_report else SIDE_FILE_SUFFIXES[:2]
    return [sidecar(Path(out_path), suffix) for suffix in suffixes]


def write_data_report(out_path: Path, files: dict[str, list[str]], skipped: list[tuple[str, str]]) -> None:
    """``<model>.data.csv``: every file with its split, or the reason it was skipped (written atomically).

    It is written holding the model file's lock, so a training refused because another one is writing that model
    file is refused here, before it has written anything (the report beside the other run's model included).

    Raises:
        TrainingError: another process holds the model file's lock.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "status", "reason"])
    for split, names in files.items():
        writer.writerows([f, split, ""] for f in names)
    writer.writerows([f, "skipped", reason] for f, reason in skipped)
    try:
        with output_lock(out_path):
            write_atomically(sidecar(out_path, ".data.csv"), lambda handle: handle.write(text.getvalue().encode()))
    except OutputLockedError as error:
        raise TrainingError(str(error)) from None


def write_curves(out_path: Path, history: list[dict]) -> None:
    """``<model>.curve.csv`` and ``<model>.curve.png``: the learning curve so far (both written atomically)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(history[-1]))
    writer.writeheader()
    writer.writerows(history)
    write_atomically(sidecar(out_path, ".curve.csv"), lambda handle: handle.write(text.getvalue().encode()))
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return
    figure = _curve_figure(plt, history, out_path.name)
    write_atomically(sidecar(out_path, ".curve.png"), lambda handle: figure.savefig(handle, format="png", dpi=80))
    plt.close(figure)


def _curve_figure(plt, history: list[dict], title: str):
    """Loss per epoch (train and valid) and, where the rows have them, accuracies."""
    epochs = [row["epoch"] for row in history]
    accuracies = "train_accuracy" in history[-1] and "valid_accuracy" in history[-1]
    figure, axes = plt.subplots(1, 2 if accuracies else 1, figsize=(9 if accuracies else 4.5, 3.5), squeeze=False)
    left = axes[0][0]
    left.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    left.plot(epochs, [r["valid_loss"] for r in history], "o-", label="valid")
    left.set_xlabel("epoch")
    left.set_ylabel("loss (nats)")
    left.legend()
    if accuracies:
        right = axes[0][1]
        right.plot(epochs, [100 * r["train_accuracy"] for r in history], "o-", label="train")
        right.plot(epochs, [100 * r["valid_accuracy"] for r in history], "o-", label="valid")
        right.set_xlabel("epoch")
        right.set_ylabel("next-token accuracy (%)")
        right.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return figure
