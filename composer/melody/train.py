"""Training: corpus folder -> model file.

One epoch reads the training split once as a token stream folded into ``batch_size`` columns (each
piece transposed by a random interval, pieces shuffled), in chunks of ``bptt`` steps with the recurrent
state carried between chunks. After each epoch the model is scored on the validation split piece by
piece from a fresh state, exactly as generation starts, and the model file is rewritten atomically.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

import composer
from composer.core import modelfile as ckpt
from composer.core import distributed
from composer.melody.corpus import SPLITS, Corpus, batchify, chunks, load_corpus, random_shifts
from composer.core.distributed import SINGLE, Shard
from composer.core.config import dataclass_from_dict
from composer.melody.encoding import PAD, EncodingConfig, Vocabulary, transpose_ids
from composer.melody.conditioning import CONDITION_SIZE, LABEL_METHODS, condition_vectors, transpose_codes
from composer.music.chords import NO_CHORD
from composer.melody.model import ComposerLM, ModelConfig, detach_state


class TrainingError(Exception):
    """Training cannot start or go on (no usable data, a resume that does not fit, ...)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Saved in the model file as the recipe.

    Model: embedding_size, hidden_size, num_layers, dropout, cell, tie_weights (see ModelConfig).
    Encoding: ticks_per_beat, max_shift, max_duration, num_voices, velocity_bins, min_pitch, max_pitch,
    monophonic, key_tokens, durations_advance (see EncodingConfig).
    Optimization: AdamW with linear warm-up then cosine decay to ``min_lr_ratio * lr``; gradients
    clipped to norm ``clip``; early stop after ``patience`` epochs without a better validation loss;
    ``max_minutes`` stops after the epoch that passes that much time (0: no limit); the cosine decay is
    then fitted, after every epoch, to the epochs the time allows, so a capped run still ends at the low
    learning rate (see :func:`budget_epochs`).
    Data: ``transpose`` = (lowest, highest) random transposition in semitones; held-out fractions.
    Chords: ``chord_labels`` = "" (no conditioning), ``melody`` or ``harmony`` (how the corpus is
    labelled, see :func:`composer.music.chords.label_piece`) makes a chord-conditioned model; each epoch a
    ``chord_dropout`` share of the pieces is shown with "no chord" throughout, so the model also
    works without chords. ``init_from`` = a model file with the same vocabulary whose weights start
    the run (the chord projection starts at zero): fine-tuning instead of training from scratch.
    """

    embedding_size: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.2
    cell: str = "lstm"
    tie_weights: bool = False
    ticks_per_beat: int = 12
    max_shift: int = 48
    max_duration: int = 48
    num_voices: int = 1
    velocity_bins: int = 0
    min_pitch: int = 36
    max_pitch: int = 96
    monophonic: bool = True
    key_tokens: bool = False
    durations_advance: bool = False
    epochs: int = 30
    batch_size: int = 32
    bptt: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.01
    clip: float = 1.0
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    patience: int = 4
    max_minutes: float = 0.0
    transpose: tuple[int, int] = (-5, 6)
    valid_fraction: float = 0.1
    test_fraction: float = 0.05
    seed: int = 1234
    device: str = "auto"
    chord_labels: str = ""
    chord_dropout: float = 0.1
    init_from: str = ""

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "bptt", "lr")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.transpose[0] > self.transpose[1]:
            raise ValueError(f"transpose must be (low, high) with low <= high, got {self.transpose}")
        if not 0 <= self.valid_fraction < 1 or not 0 <= self.test_fraction < 1 \
                or self.valid_fraction + self.test_fraction >= 1:
            raise ValueError("valid_fraction and test_fraction must be >= 0 and sum to less than 1")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu or cuda[:N], got {self.device!r}")
        if self.chord_labels and self.chord_labels not in LABEL_METHODS:
            raise ValueError(f"chord_labels must be empty (off) or one of {', '.join(LABEL_METHODS)}, "
                             f"got {self.chord_labels!r}")
        if not 0 <= self.chord_dropout <= 1:
            raise ValueError(f"chord_dropout must be in [0, 1], got {self.chord_dropout}")
        self.encoding()  # validates the encoding fields
        self.model(1)    # and the model fields

    def encoding(self) -> EncodingConfig:
        return EncodingConfig(ticks_per_beat=self.ticks_per_beat, max_shift=self.max_shift,
                              max_duration=self.max_duration, num_voices=self.num_voices,
                              velocity_bins=self.velocity_bins, min_pitch=self.min_pitch,
                              max_pitch=self.max_pitch, monophonic=self.monophonic, key_tokens=self.key_tokens,
                              durations_advance=self.durations_advance)

    def model(self, vocab_size: int) -> ModelConfig:
        return ModelConfig(vocab_size=vocab_size, embedding_size=self.embedding_size,
                           hidden_size=self.hidden_size, num_layers=self.num_layers, dropout=self.dropout,
                           cell=self.cell, tie_weights=self.tie_weights,
                           condition_size=CONDITION_SIZE if self.chord_labels else 0)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["transpose"] = list(self.transpose)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        values = dict(values)
        if "transpose" in values:
            values["transpose"] = tuple(values["transpose"])
        return dataclass_from_dict(cls, values, "training settings")


@dataclass
class Metrics:
    loss: float
    accuracy: float
    tokens: int

    @property
    def perplexity(self) -> float:
        return math.exp(min(self.loss, 50.0))

    def to_dict(self) -> dict:
        return {"loss": self.loss, "perplexity": self.perplexity, "accuracy": self.accuracy, "tokens": self.tokens}


ProgressCallback = Callable[[dict], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError("device cuda was asked for, but PyTorch sees no CUDA device")
    return torch.device(name)


@torch.no_grad()
def evaluate(model: ComposerLM, sequences: list[np.ndarray], device: torch.device,
             batch_size: int = 32, shard: Shard = SINGLE, chords: list[np.ndarray] | None = None) -> Metrics:
    """Mean next-token loss (nats) and accuracy over whole pieces, each from a fresh state.

    Args:
        model: the model (put in eval mode here).
        sequences: token arrays, each BOS ... EOS.
        device: where to run.
        batch_size: pieces per forward pass (padded to the longest; padding is not scored).
        shard: with several ranks, each scores every world-th piece and the sums are shared.
        chords: chord codes parallel to ``sequences``, for a chord-conditioned model.
    """
    model.eval()
    sequences = sequences[shard.rank::shard.world]
    chords = chords[shard.rank::shard.world] if chords else None
    total_loss, correct, count = 0.0, 0, 0
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    for start in range(0, len(order), batch_size):
        group = [sequences[i] for i in order[start:start + batch_size]]
        width = max(len(s) for s in group)
        batch = np.full((len(group), width), PAD, dtype=np.int64)
        for row, seq in enumerate(group):
            batch[row, : len(seq)] = seq
        ids = torch.from_numpy(batch).to(device)
        condition = None
        if chords:
            codes = np.full((len(group), width), NO_CHORD, dtype=np.int64)
            for row, index in enumerate(order[start:start + batch_size]):
                codes[row, : len(chords[index])] = chords[index]
            condition = condition_vectors(torch.from_numpy(codes[:, :-1])).to(device)  # [B, T-1, C]
        logits, _ = model(ids[:, :-1], condition=condition)           # [B, T-1, V]
        targets = ids[:, 1:]                                          # [B, T-1]
        mask = targets != PAD
        losses = nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        total_loss += float(losses[mask].sum())
        correct += int((logits.argmax(-1) == targets)[mask].sum())
        count += int(mask.sum())
    total_loss, correct, count = distributed.all_reduce_sum([total_loss, correct, count], shard)
    if count == 0:
        return Metrics(float("nan"), float("nan"), 0)
    return Metrics(total_loss / count, correct / count, int(count))


def make_optimizer(model: ComposerLM, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on weight matrices only (not biases or the embedding)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (decay if param.dim() >= 2 and not name.startswith("embedding") else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr)


def lr_schedule(config: TrainConfig, total_steps: int,
                horizon: Callable[[], int] | None = None) -> Callable[[int], float]:
    """Learning-rate factor at a step: linear warm-up, then cosine decay to ``min_lr_ratio``.

    Args:
        config: ``warmup_steps`` and ``min_lr_ratio``.
        total_steps: the steps of all the run's epochs.
        horizon: the step the decay ends at now, when a time budget may end the run sooner (see
            :func:`budget_epochs`); None: ``total_steps``.
    """
    warmup = min(config.warmup_steps, max(1, total_steps // 10))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        end = horizon() if horizon is not None else total_steps
        progress = min(1.0, (step - warmup) / max(1, end - warmup))
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

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


def _ensure_validation(corpus: Corpus) -> None:
    """A small corpus may hash no file into validation: then hold out the last training file."""
    if corpus.sequences["valid"] or len(corpus.sequences["train"]) < 2:
        return
    corpus.sequences["valid"].append(corpus.sequences["train"].pop())
    corpus.files["valid"].append(corpus.files["train"].pop())
    if corpus.chords["train"]:
        corpus.chords["valid"].append(corpus.chords["train"].pop())


def _rng_state(rng: np.random.Generator) -> dict:
    return {"python": list(random.getstate()[1]), "numpy": json.dumps(rng.bit_generator.state),
            "torch": torch.get_rng_state()}


def _restore_rng(state: dict, rng: np.random.Generator) -> None:
    random.setstate((3, tuple(state["python"]), None))
    rng.bit_generator.state = json.loads(state["numpy"])
    torch.set_rng_state(state["torch"])


class TrainingRun:
    """The state of one training run: model, optimizer, schedule, best weights, learning curve.

    It saves itself as a model file (see :mod:`composer.core.modelfile`) and restores itself from one.
    """

    def __init__(self, config: TrainConfig, corpus: Corpus, vocab: Vocabulary, out_path: Path,
                 device: torch.device, data_dir: str | os.PathLike, shard: Shard = SINGLE) -> None:
        self.config, self.corpus, self.vocab, self.out_path, self.device = config, corpus, vocab, out_path, device
        self.shard = shard
        self.rng = np.random.default_rng(config.seed)
        self.model = ComposerLM(config.model(len(vocab))).to(device)
        self.trainable = distributed.wrap(self.model, shard, device)  # what the epoch loop calls
        self.optimizer = make_optimizer(self.model, config)
        steps_per_epoch = math.ceil((corpus.num_tokens("train") // config.batch_size - 1) / config.bptt)
        self.steps_per_epoch = steps_per_epoch
        self.decay_steps = steps_per_epoch * config.epochs     # shortened when the time budget will stop the run
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_schedule(config, self.decay_steps, horizon=lambda: self.decay_steps))
        self.history: list[dict] = []
        self.metrics: dict = {}
        self.best_loss, self.best_state, self.bad_epochs = float("inf"), None, 0
        self.counters = {"step": 0, "completed": 0}  # optimizer steps and whole epochs, current at any time
        self.started = time.time()
        self.session_first_epoch = 0                  # the time budget counts this session's epochs
        self.recipe = {
            "config": config.to_dict(), "data_dir": str(Path(data_dir).resolve()),
            "data_fingerprint": corpus.fingerprint, "data": corpus.summary(),
            "composer_version": composer.__version__, "torch_version": str(torch.__version__),
            "python": platform.python_version(), "device": str(device), "processes": shard.world,
            "parameters": self.model.num_parameters(),
        }

    def start_from(self, path: str) -> None:
        """Load the weights of another model file with the same vocabulary (fine-tuning).

        The layers that file lacks (the chord projection of a model trained without chords) keep
        their initial values (zeros for the chord projection).

        Raises:
            TrainingError: the file cannot be loaded, or its vocabulary or layer shapes differ.
        """
        try:
            source = ckpt.load_checkpoint(path)
        except ckpt.ModelFileError as error:
            raise TrainingError(f"init_from: {error}") from None
        if Vocabulary.from_dict(source["vocabulary"]).names != self.vocab.names:
            raise TrainingError(f"init_from: {path} has another vocabulary (encoding settings) than this run")
        try:
            missing, unexpected = self.model.load_state_dict(source["model_state"], strict=False)
        except RuntimeError as error:
            raise TrainingError(f"init_from: {path} has layers of other shapes: {error}") from None
        if unexpected or any(not name.startswith("condition.") for name in missing):
            raise TrainingError(f"init_from: {path} does not fit this model (missing {missing}, "
                                f"unexpected {unexpected})")

    def restore(self, previous: dict) -> None:
        """Continue from a saved model file: last weights, optimizer, schedule, RNG, curve."""
        state = previous["resume"]
        self.model.load_state_dict(state["model_state"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        _restore_rng(state["rng"], self.rng)
        self.counters = {"step": state["step"], "completed": previous["epoch"]}
        self.session_first_epoch = previous["epoch"]
        self.bad_epochs = state["bad_epochs"]
        self.history = list(previous["history"])
        self.metrics = previous["metrics"]
        if "valid" in self.metrics:  # an interrupt before the first epoch ended has no best yet
            self.best_loss, self.best_state = self.metrics["valid"]["loss"], previous["model_state"]

    def run_epoch(self, epoch: int, emit: ProgressCallback, should_stop) -> dict | None:
        """Train one epoch, score it on the validation split, save.

        Returns:
            The learning-curve row, or None when ``should_stop`` interrupted the epoch.
        """
        config = self.config
        train_metrics, interrupted = train_epoch(self.trainable, self.optimizer, self.scheduler, self.corpus,
                                                 self.vocab, config, self.rng, self.device, epoch, self.counters,
                                                 emit, should_stop, self.shard)
        if interrupted:
            return None
        valid = evaluate(self.model, self.corpus.sequences["valid"], self.device, config.batch_size, self.shard,
                         self.corpus.chords["valid"])
        improved = valid.loss < self.best_loss
        if improved:
            self.best_loss, self.best_state, self.bad_epochs = valid.loss, _cpu_state(self.model), 0
            self.metrics = {"valid": valid.to_dict(), "best_epoch": epoch + 1}
        else:
            self.bad_epochs += 1
        row = {"epoch": epoch + 1, "step": self.counters["step"], "train_loss": train_metrics.loss,
               "train_perplexity": train_metrics.perplexity, "train_accuracy": train_metrics.accuracy,
               "valid_loss": valid.loss, "valid_perplexity": valid.perplexity, "valid_accuracy": valid.accuracy,
               "lr": self.scheduler.get_last_lr()[0], "seconds": time.time() - self.started}
        self.history.append(row)
        self.counters["completed"] = epoch + 1
        self._fit_decay_to_budget()
        self.save()
        if self.shard.is_main:
            _write_curves(self.out_path, self.history)
        emit({"event": "epoch", **row, "improved": improved})
        return row

    def _fit_decay_to_budget(self) -> None:
        """End the learning-rate decay where the time budget will stop the run (rank 0's estimate)."""
        if not self.config.max_minutes:
            return
        done = self.counters["completed"] - self.session_first_epoch
        epochs = budget_epochs(self.config.epochs - self.session_first_epoch, done, time.time() - self.started,
                               self.config.max_minutes * 60)
        epochs = int(distributed.main_number(epochs, self.shard))
        self.decay_steps = self.steps_per_epoch * (self.session_first_epoch + epochs)

    def reason_to_stop(self) -> str | None:
        """Why training should end now (early stop or time budget), or None to go on."""
        if self.bad_epochs >= self.config.patience:
            return f"early stop: no better validation loss in {self.config.patience} epochs"
        out_of_time = bool(self.config.max_minutes) and time.time() - self.started > self.config.max_minutes * 60
        if distributed.main_decides(out_of_time, self.shard):  # every rank stops at the same epoch
            return f"time budget of {self.config.max_minutes} minutes reached"
        return None

    def checkpoint(self) -> dict:
        """The model file's dict: best weights for generation, last state for resuming."""
        return {
            "format_version": ckpt.FORMAT_VERSION, "kind": ckpt.MELODY_KIND,
            "model_config": self.model.config.to_dict(), "vocabulary": self.vocab.to_dict(),
            "model_state": self.best_state if self.best_state is not None else _cpu_state(self.model),
            "metrics": self.metrics, "recipe": self.recipe, "history": self.history,
            "epoch": self.counters["completed"],
            "resume": {"model_state": _cpu_state(self.model), "optimizer": self.optimizer.state_dict(),
                       "scheduler": self.scheduler.state_dict(), "rng": _rng_state(self.rng),
                       "bad_epochs": self.bad_epochs, "step": self.counters["step"]},
        }

    def save(self) -> dict:
        """Write the model file (rank 0 only) and return its dict."""
        checkpoint = self.checkpoint()
        if self.shard.is_main:
            ckpt.save_checkpoint(checkpoint, self.out_path)
        return checkpoint

    def finish(self, stop_reason: str) -> dict:
        """Score the best weights on the test split, record how training ended, save."""
        if self.best_state is not None and self.corpus.sequences["test"]:
            last = _cpu_state(self.model)
            self.model.load_state_dict(self.best_state)
            test = evaluate(self.model, self.corpus.sequences["test"], self.device, self.config.batch_size,
                            self.shard, self.corpus.chords["test"])
            self.metrics = {**self.metrics, "test": test.to_dict()}
            self.model.load_state_dict(last)
        self.recipe["stop_reason"] = stop_reason
        self.recipe["train_seconds"] = round(time.time() - self.started, 1)
        return self.save()


def train(data_dir: str | os.PathLike, out_path: str | os.PathLike, config: TrainConfig = TrainConfig(),
          resume: bool = False, progress: ProgressCallback | None = None,
          should_stop: Callable[[], bool] | None = None, workers: int = 0, use_cache: bool = True) -> dict:
    """Train a model on a folder of MIDI files and write the model file.

    The model file is rewritten after every epoch (best weights for generation, plus the last epoch's
    state for ``resume``), and also when training is interrupted (Ctrl-C or ``should_stop``).

    Args:
        data_dir: corpus folder.
        out_path: model file to write (and, with ``resume``, to continue from).
        config: the recipe; with ``resume`` the file's own recipe is used instead.
        resume: continue the run saved in ``out_path``.
        progress: called with event dicts: ``{"event": "data"|"step"|"epoch"|"done"|"interrupted", ...}``.
        should_stop: polled between steps; True interrupts training after saving.
        workers: corpus preparation processes (0: one per core); see :func:`composer.melody.corpus.load_corpus`.
        use_cache: reuse and update the prepared-corpus cache.

    Returns:
        The final checkpoint dict.

    Raises:
        TrainingError: no usable training data, or a resume that cannot be done.
        KeyboardInterrupt: after saving, when interrupted with Ctrl-C.
    """
    out_path = Path(out_path)
    previous = _load_for_resume(out_path) if resume else None
    if previous is not None:
        config = TrainConfig.from_dict(previous["recipe"]["config"])
    shard, device = distributed.init_from_environment(config.device)
    try:
        return _train(data_dir, out_path, config, previous, progress, should_stop, workers, use_cache,
                      shard, device or pick_device(config.device))
    finally:
        distributed.shutdown(shard)


def _train(data_dir, out_path: Path, config: TrainConfig, previous: dict | None, progress, should_stop,
           workers: int, use_cache: bool, shard: Shard, device: torch.device) -> dict:
    """The body of :func:`train`, in one process of ``shard.world``."""
    emit = (progress or (lambda event: None)) if shard.is_main else (lambda event: None)
    if config.batch_size % shard.world:
        raise TrainingError(f"batch_size {config.batch_size} must divide evenly among {shard.world} processes")
    seed_everything(config.seed)
    vocab = Vocabulary(config.encoding())
    if not shard.is_main:
        distributed.barrier(shard)  # let rank 0 prepare (and cache) the corpus first
    corpus = _load_training_corpus(data_dir, vocab, config, out_path, emit, workers, use_cache, shard)
    if shard.is_main:
        distributed.barrier(shard)
    run = TrainingRun(config, corpus, vocab, out_path, device, data_dir, shard)
    if previous is not None:
        if previous["recipe"]["data_fingerprint"] != corpus.fingerprint:
            emit({"event": "warning", "message": "the data folder changed since this run started"})
        run.restore(previous)
    elif config.init_from:
        run.start_from(config.init_from)
    stop_reason = "finished all epochs"
    try:
        for epoch in range(run.counters["completed"], config.epochs):
            if run.run_epoch(epoch, emit, should_stop) is None:
                checkpoint = run.save()
                emit({"event": "interrupted", "epoch": run.counters["completed"], "path": str(out_path)})
                return checkpoint
            reason = run.reason_to_stop()
            if reason:
                stop_reason = reason
                break
    except KeyboardInterrupt:
        run.save()
        emit({"event": "interrupted", "epoch": run.counters["completed"], "path": str(out_path)})
        raise
    checkpoint = run.finish(stop_reason)
    emit({"event": "done", "metrics": run.metrics, "stop_reason": stop_reason, "path": str(out_path)})
    return checkpoint


def _load_for_resume(out_path: Path) -> dict:
    try:
        previous = ckpt.load_checkpoint(out_path)
    except ckpt.ModelFileError as error:
        raise TrainingError(str(error)) from None
    if "resume" not in previous:
        raise TrainingError(f"{out_path} holds no resume state (it was stripped for shipping)")
    return previous


def _load_training_corpus(data_dir, vocab: Vocabulary, config: TrainConfig, out_path: Path,
                          emit: ProgressCallback, workers: int, use_cache: bool, shard: Shard = SINGLE) -> Corpus:
    """Read and split the corpus, report it, and check there is enough to train on."""
    corpus = load_corpus(data_dir, vocab, config.valid_fraction, config.test_fraction, workers=workers,
                         use_cache=use_cache, chord_labels=config.chord_labels)
    _ensure_validation(corpus)
    emit({"event": "data", "summary": corpus.summary(), "skipped": corpus.skipped,
          "seconds": corpus.stats["seconds"], "stats": corpus.stats})
    if shard.is_main:
        _write_data_report(out_path, corpus)
    if not corpus.sequences["train"]:
        raise TrainingError(f"no usable MIDI files in {data_dir} ({len(corpus.skipped)} skipped)")
    if corpus.num_tokens("train") // config.batch_size < 2:
        raise TrainingError(f"only {corpus.num_tokens('train')} training tokens in {data_dir}: too few for a "
                            f"batch of {config.batch_size} streams; use a smaller batch size or more music")
    return corpus


def train_epoch(model, optimizer, scheduler, corpus, vocab, config, rng, device, epoch, counters, emit,
                 should_stop, shard: Shard = SINGLE) -> tuple[Metrics, bool]:
    """One pass over the training split, counting optimizer steps in ``counters["step"]``.

    With several ranks, every rank builds the same stream and trains on its block of the columns.

    Returns:
        (metrics of the pass over all ranks, whether ``should_stop`` interrupted it).
    """
    model.train()
    order = rng.permutation(len(corpus.sequences["train"]))
    pieces = [corpus.sequences["train"][i] for i in order]
    shifts = random_shifts(pieces, vocab, config.transpose, rng)
    pieces = [transpose_ids(ids, shift, vocab) if shift else ids for ids, shift in zip(pieces, shifts)]
    stream = batchify(pieces, config.batch_size)                # [B, N]
    per_rank = config.batch_size // shard.world
    stream = stream[shard.rank * per_rank:(shard.rank + 1) * per_rank].to(device)  # [B / world, N]
    chord_chunks = None
    if corpus.chords["train"]:
        codes = [transpose_codes(corpus.chords["train"][i], shift) for i, shift in zip(order, shifts)]
        dropped = rng.random(len(codes)) < config.chord_dropout  # shown with "no chord" this epoch
        codes = [np.full_like(c, NO_CHORD) if drop else c for c, drop in zip(codes, dropped)]
        chord_stream = batchify(codes, config.batch_size)[shard.rank * per_rank:(shard.rank + 1) * per_rank]
        chord_chunks = (inputs for inputs, _ in chunks(chord_stream, config.bptt))  # [B / world, t] each
    total_steps = math.ceil((stream.size(1) - 1) / config.bptt)
    state = None
    loss_sum, correct, count = 0.0, 0, 0
    window_start, window_tokens = time.time(), 0
    for index, (inputs, targets) in enumerate(chunks(stream, config.bptt)):
        condition = None
        if chord_chunks is not None:
            condition = condition_vectors(next(chord_chunks)).to(device)  # [B, t, 25]
        logits, state = model(inputs, state, condition=condition)  # [B, t, V]
        state = detach_state(state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                                           ignore_index=PAD)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        scheduler.step()
        counters["step"] += 1
        tokens = targets.numel()
        loss_sum += loss.item() * tokens
        correct += int((logits.argmax(-1) == targets).sum())
        count += tokens
        window_tokens += tokens
        if index % 10 == 0 or index == total_steps - 1:
            elapsed = time.time() - window_start
            emit({"event": "step", "epoch": epoch + 1, "epochs": config.epochs, "batch": index + 1,
                  "batches": total_steps, "loss": loss_sum / count, "accuracy": correct / count,
                  "tokens_per_s": window_tokens / elapsed if elapsed > 0 else 0.0,
                  "lr": scheduler.get_last_lr()[0]})
            window_start, window_tokens = time.time(), 0
        if should_stop is not None and should_stop():
            return Metrics(loss_sum / max(count, 1), correct / max(count, 1), count), True
    loss_sum, correct, count = distributed.all_reduce_sum([loss_sum, correct, count], shard)
    return Metrics(loss_sum / max(count, 1), correct / max(count, 1), int(count)), False


def _cpu_state(model: nn.Module) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _sidecar(out_path: Path, suffix: str) -> Path:
    return out_path.with_name(out_path.stem + suffix)


def _write_data_report(out_path: Path, corpus: Corpus) -> None:
    """``<model>.data.csv``: every file with its split, or the reason it was skipped."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(_sidecar(out_path, ".data.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "status", "reason"])
        for split in SPLITS:
            writer.writerows([f, split, ""] for f in corpus.files[split])
        writer.writerows([f, "skipped", reason] for f, reason in corpus.skipped)


def _write_curves(out_path: Path, history: list[dict]) -> None:
    """``<model>.curve.csv`` and ``<model>.curve.png``: the learning curve so far."""
    with open(_sidecar(out_path, ".curve.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return
    epochs = [row["epoch"] for row in history]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    left.plot(epochs, [r["valid_loss"] for r in history], "o-", label="valid")
    left.set_xlabel("epoch")
    left.set_ylabel("loss (nats/token)")
    left.legend()
    right.plot(epochs, [100 * r["train_accuracy"] for r in history], "o-", label="train")
    right.plot(epochs, [100 * r["valid_accuracy"] for r in history], "o-", label="valid")
    right.set_xlabel("epoch")
    right.set_ylabel("next-token accuracy (%)")
    right.legend()
    figure.suptitle(out_path.name)
    figure.tight_layout()
    figure.savefig(_sidecar(out_path, ".curve.png"), dpi=80)
    plt.close(figure)
