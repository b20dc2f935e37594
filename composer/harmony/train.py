"""Training the harmony model on a folder of four-part MIDI files (``composer train --task harmony``).

Each training example is a whole piece, randomly transposed, with a random set of cells to write:

    harmonize  the soprano is given, alto/tenor/bass are written      (the main job)
    region     a stretch of 1..8 bars in 1..4 voices is written, the rest given
    free       nothing is given (4-part generation from scratch)
    scatter    each cell is written with probability p ~ U(0.1, 0.9)  (Coconet-style)

The loss is the cross-entropy of the written cells only. Validation uses ``harmonize`` masks: the
number that picks the best weights is the NLL of the true alto, tenor and bass given the soprano.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from composer.core import modelfile as ckpt
from composer.core.config import dataclass_from_dict
from composer.core.modelfile import HARMONY_KIND
from composer.melody.corpus import find_midi_files, split_of
from composer.harmony.model import HarmonyConfig, HarmonyNet
from composer.music.midi_io import MidiReadError, read_midi
from composer.harmony.grid import (MASK, MAX_PITCH, MIN_PITCH, NUM_KEYS, NUM_VOICES, PITCH_OFFSET, REST, UNKNOWN_KEY,
                           VOICE_NAMES, Chorale, HarmonyError, chorale_from_piece, transpose_frames,
                           transpose_key_index)
from composer.melody.train import (Metrics, TrainingError, _restore_rng, _rng_state, _sidecar, _write_curves,
                            budget_epochs, lr_schedule, pick_device, seed_everything)

MASK_KINDS = ("harmonize", "region", "free", "scatter")
ProgressCallback = Callable[[dict], None]


@dataclass(frozen=True)
class HarmonyTrainConfig:
    """The recipe of a harmony model (saved in the model file).

    Model: see :class:`~composer.harmony.model.HarmonyConfig`. Optimization: AdamW, warm-up then cosine
    decay, gradient clipping, early stop after ``patience`` epochs without a better validation NLL;
    ``max_minutes`` stops after the epoch that passes that much time, with the decay fitted to the epochs
    it allows (see :func:`composer.melody.train.budget_epochs`).
    ``mask_mix``: probabilities of the four mask kinds (harmonize, region, free, scatter).
    ``key_conditioning``: tell the model each piece's key (signature, else estimated); ``key_dropout`` of
    the training pieces are shown as "key unknown" so the model also works without one.
    """

    embedding_size: int = 96
    encoder_size: int = 128
    encoder_layers: int = 1
    hidden_size: int = 256
    num_layers: int = 2
    head_size: int = 128
    dropout: float = 0.3
    epochs: int = 60
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 0.01
    clip: float = 1.0
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    patience: int = 8
    max_minutes: float = 0.0
    transpose: tuple[int, int] = (-5, 6)
    mask_mix: tuple[float, float, float, float] = (0.5, 0.25, 0.1, 0.15)
    key_conditioning: bool = True
    key_dropout: float = 0.15
    valid_fraction: float = 0.1
    test_fraction: float = 0.05
    seed: int = 1234
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.transpose[0] > self.transpose[1]:
            raise ValueError(f"transpose must be (low, high) with low <= high, got {self.transpose}")
        if len(self.mask_mix) != len(MASK_KINDS) or min(self.mask_mix) < 0 or sum(self.mask_mix) <= 0:
            raise ValueError(f"mask_mix must be {len(MASK_KINDS)} non-negative weights for {MASK_KINDS}")
        if not 0 <= self.valid_fraction < 1 or not 0 <= self.test_fraction < 1 \
                or self.valid_fraction + self.test_fraction >= 1:
            raise ValueError("valid_fraction and test_fraction must be >= 0 and sum to less than 1")
        self.model()

    def model(self) -> HarmonyConfig:
        return HarmonyConfig(self.embedding_size, self.encoder_size, self.encoder_layers, self.hidden_size,
                             self.num_layers, self.head_size, self.dropout,
                             num_keys=NUM_KEYS if self.key_conditioning else 0)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["transpose"], values["mask_mix"] = list(self.transpose), list(self.mask_mix)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> HarmonyTrainConfig:
        values = dict(values)
        values.pop("task", None)
        for name in ("transpose", "mask_mix"):
            if name in values:
                values[name] = tuple(values[name])
        return dataclass_from_dict(cls, values, "harmony training settings")


# -- data -------------------------------------------------------------------------------------------------
@dataclass
class ChoraleCorpus:
    """Four-part pieces split by a hash of their path, plus the files that could not be used."""

    pieces: dict[str, list[Chorale]]
    files: dict[str, list[str]]
    skipped: list[tuple[str, str]]
    seconds: float

    def summary(self) -> dict:
        frames = {s: int(sum(len(c.frames) for c in self.pieces[s])) for s in self.pieces}
        return {"files": {s: len(v) for s, v in self.files.items()}, "tokens": frames}


def load_chorales(data_dir: str | os.PathLike, valid_fraction: float = 0.1,
                  test_fraction: float = 0.05) -> ChoraleCorpus:
    """Read every MIDI file under ``data_dir`` that has four parts; report the others.

    Raises:
        TrainingError: ``data_dir`` is not a folder.
    """
    started = time.perf_counter()
    root = Path(data_dir)
    if not root.is_dir():
        raise TrainingError(f"{root} is not a folder")
    pieces = {"train": [], "valid": [], "test": []}
    files = {"train": [], "valid": [], "test": []}
    skipped = []
    for path in find_midi_files(root):
        relative = path.relative_to(root).as_posix()
        try:
            chorale = chorale_from_piece(read_midi(path))
        except (MidiReadError, HarmonyError) as error:
            skipped.append((relative, getattr(error, "reason", str(error))))
            continue
        split = split_of(relative, valid_fraction, test_fraction)
        pieces[split].append(chorale)
        files[split].append(relative)
    if not pieces["valid"] and len(pieces["train"]) >= 2:   # tiny folders: hold one piece out
        pieces["valid"].append(pieces["train"].pop())
        files["valid"].append(files["train"].pop())
    return ChoraleCorpus(pieces, files, skipped, time.perf_counter() - started)


def voice_limits(chorales: list[Chorale], margin: int = 2) -> list[list[int]]:
    """Per voice [lowest, highest] pitch seen in ``chorales``, widened by ``margin`` semitones."""
    limits = []
    for voice in range(NUM_VOICES):
        tokens = np.concatenate([c.frames[:, voice] for c in chorales])
        pitches = tokens[tokens >= PITCH_OFFSET] - PITCH_OFFSET + MIN_PITCH
        limits.append([max(MIN_PITCH, int(pitches.min()) - margin), min(MAX_PITCH, int(pitches.max()) + margin)])
    return limits


def make_unknown(rng: np.random.Generator, length: int, positions: np.ndarray, kind: str) -> np.ndarray:
    """Which cells the model must write: bool [length, 4].

    Args:
        rng: random source.
        length: frames.
        positions: frame positions in the bar (bar lines are where position is 0).
        kind: one of MASK_KINDS.
    """
    unknown = np.zeros((length, NUM_VOICES), dtype=bool)
    if kind == "harmonize":
        unknown[:, 1:] = True
    elif kind == "free":
        unknown[:] = True
    elif kind == "scatter":
        unknown = rng.random((length, NUM_VOICES)) < rng.uniform(0.1, 0.9)
    elif kind == "region":
        bars = np.flatnonzero(positions == 0)
        bars = bars if len(bars) else np.array([0])
        first = int(rng.integers(len(bars)))
        start = int(bars[first])
        span = int(rng.integers(1, 9))
        end = int(bars[first + span]) if first + span < len(bars) else length
        voices = rng.random(NUM_VOICES) < 0.5
        voices[int(rng.integers(NUM_VOICES))] = True
        unknown[start:end, voices] = True
    else:
        raise ValueError(f"unknown mask kind {kind!r}")
    return unknown


def make_batch(chorales: list[Chorale], unknowns: list[np.ndarray], device: torch.device):
    """Pad pieces to one tensor batch.

    Returns:
        given [B, T, 4], target [B, T, 4], positions [B, T], lengths [B], scored bool [B, T, 4], keys [B]
    """
    width = max(len(c.frames) for c in chorales)
    batch = len(chorales)
    target = np.full((batch, width, NUM_VOICES), REST, dtype=np.int64)
    positions = np.zeros((batch, width), dtype=np.int64)
    scored = np.zeros((batch, width, NUM_VOICES), dtype=bool)
    for row, (chorale, unknown) in enumerate(zip(chorales, unknowns)):
        target[row, :len(chorale.frames)] = chorale.frames
        positions[row, :len(chorale.frames)] = chorale.positions
        scored[row, :len(chorale.frames)] = unknown
    given = np.where(scored, MASK, target)
    lengths = torch.tensor([len(c.frames) for c in chorales])
    keys = torch.tensor([c.key for c in chorales], device=device)
    as_tensor = lambda a: torch.from_numpy(a).to(device)   # noqa: E731
    return as_tensor(given), as_tensor(target), as_tensor(positions), lengths, as_tensor(scored), keys


def transposed(chorale: Chorale, rng: np.random.Generator, span: tuple[int, int]) -> Chorale:
    """A copy transposed by a random amount in ``span`` that keeps every pitch in range."""
    pitched = chorale.frames[chorale.frames >= PITCH_OFFSET] - PITCH_OFFSET + MIN_PITCH
    if not len(pitched):
        return chorale
    low = max(span[0], MIN_PITCH - int(pitched.min()))
    high = min(span[1], MAX_PITCH - int(pitched.max()))
    if low > high:
        return chorale
    shift = int(rng.integers(low, high + 1))
    return Chorale(transpose_frames(chorale.frames, shift), chorale.positions, chorale.name,
                   transpose_key_index(chorale.key, shift))


# -- evaluation -------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: HarmonyNet, chorales: list[Chorale], device: torch.device, kind: str = "harmonize",
             batch_size: int = 8, seed: int = 0) -> Metrics:
    """Mean NLL (nats per written cell) and next-token accuracy of the written cells.

    ``harmonize`` and ``free`` masks are fixed; ``region`` and ``scatter`` masks are drawn with ``seed``.
    ``Metrics.tokens`` is the number of written cells.
    """
    model.eval()
    rng = np.random.default_rng(seed)
    total, correct, count = 0.0, 0, 0
    order = sorted(range(len(chorales)), key=lambda i: len(chorales[i].frames))
    for start in range(0, len(order), batch_size):
        group = [chorales[i] for i in order[start:start + batch_size]]
        unknowns = [make_unknown(rng, len(c.frames), c.positions, kind) for c in group]
        given, target, positions, lengths, scored, keys = make_batch(group, unknowns, device)
        logits = model(given, target, positions, lengths, keys)           # [B, T, 4, V]
        losses = nn.functional.cross_entropy(logits.permute(0, 3, 1, 2), target, reduction="none")
        total += float(losses[scored].sum())
        correct += int((logits.argmax(-1) == target)[scored].sum())
        count += int(scored.sum())
    if count == 0:
        return Metrics(float("nan"), float("nan"), 0)
    return Metrics(total / count, correct / count, count)


# -- the training run ---------------------------------------------------------------------------------------
def train_harmony(data_dir: str | os.PathLike, out_path: str | os.PathLike,
                  config: HarmonyTrainConfig = HarmonyTrainConfig(), resume: bool = False,
                  progress: ProgressCallback | None = None, should_stop: Callable[[], bool] | None = None,
                  ) -> dict:
    """Train a harmony model on the four-part MIDI files under ``data_dir``; write it to ``out_path``.

    The file is rewritten after every epoch (best weights plus resume state) and on interruption, always
    atomically. Progress events have the same shape as :func:`composer.melody.train.train`'s.

    Args:
        data_dir: folder of four-part MIDI files (voices 0..3 = soprano, alto, tenor, bass).
        out_path: model file.
        config: the recipe (with ``resume``, the file's own recipe is used).
        resume: continue the run saved in ``out_path``.
        progress: called with event dicts (data, step, epoch, done, interrupted).
        should_stop: polled between batches; True saves and stops.

    Returns:
        The final checkpoint dict.

    Raises:
        TrainingError: no usable four-part files, or a resume that cannot be done.
    """
    out_path = Path(out_path)
    emit = progress or (lambda event: None)
    previous = None
    if resume:
        try:
            previous = ckpt.load_checkpoint(out_path, kinds=(HARMONY_KIND,))
        except ckpt.ModelFileError as error:
            raise TrainingError(str(error)) from None
        if "resume" not in previous:
            raise TrainingError(f"{out_path} holds no resume state (it was stripped for shipping)")
        config = HarmonyTrainConfig.from_dict(previous["recipe"]["config"])
    seed_everything(config.seed)
    device = pick_device(config.device)
    corpus = load_chorales(data_dir, config.valid_fraction, config.test_fraction)
    emit({"event": "data", "summary": corpus.summary(), "skipped": corpus.skipped, "seconds": corpus.seconds,
          "stats": {"files_per_s": sum(corpus.summary()["files"].values()) / max(corpus.seconds, 1e-9)}})
    _write_data_report(out_path, corpus)
    if not corpus.pieces["train"]:
        raise TrainingError(f"no usable four-part MIDI files in {data_dir} ({len(corpus.skipped)} skipped)")
    run = _HarmonyRun(config, corpus, out_path, device, data_dir)
    if previous is not None:
        run.restore(previous)
    stop_reason = "finished all epochs"
    try:
        for epoch in range(run.epoch, config.epochs):
            if not run.run_epoch(emit, should_stop):
                checkpoint = run.save()
                emit({"event": "interrupted", "epoch": run.epoch, "path": str(out_path)})
                return checkpoint
            reason = run.reason_to_stop()
            if reason:
                stop_reason = reason
                break
    except KeyboardInterrupt:
        run.save()
        emit({"event": "interrupted", "epoch": run.epoch, "path": str(out_path)})
        raise
    checkpoint = run.finish(stop_reason)
    emit({"event": "done", "metrics": run.metrics, "stop_reason": stop_reason, "path": str(out_path)})
    return checkpoint


def _write_data_report(out_path: Path, corpus: ChoraleCorpus) -> None:
    """``<model>.data.csv``: every file with its split, or the reason it was skipped."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(_sidecar(out_path, ".data.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "status", "reason"])
        for split, files in corpus.files.items():
            writer.writerows([f, split, ""] for f in files)
        writer.writerows([f, "skipped", reason] for f, reason in corpus.skipped)


class _HarmonyRun:
    """Model, optimizer, best weights and learning curve of one harmony training run."""

    def __init__(self, config: HarmonyTrainConfig, corpus: ChoraleCorpus, out_path: Path,
                 device: torch.device, data_dir) -> None:
        self.config, self.corpus, self.out_path, self.device = config, corpus, out_path, device
        self.model = HarmonyNet(config.model()).to(device)
        decay = [p for n, p in self.model.named_parameters() if p.dim() >= 2 and "embedding" not in n]
        other = [p for n, p in self.model.named_parameters() if not (p.dim() >= 2 and "embedding" not in n)]
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                            {"params": other, "weight_decay": 0.0}], lr=config.lr)
        self.steps_per_epoch = math.ceil(len(corpus.pieces["train"]) / config.batch_size)
        self.decay_steps = self.steps_per_epoch * config.epochs  # shortened when the time limit will stop the run
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_schedule(config, self.decay_steps, horizon=lambda: self.decay_steps))
        self.rng = np.random.default_rng(config.seed)
        self.epoch, self.step, self.bad_epochs = 0, 0, 0
        self.best_loss, self.best_state = math.inf, None
        self.history: list[dict] = []
        self.metrics: dict = {}
        self.limits = voice_limits(corpus.pieces["train"])
        self.started = time.time()
        self.recipe = {"task": "harmony", "config": config.to_dict(), "data_dir": str(data_dir),
                       "files": corpus.summary()["files"], "skipped": len(corpus.skipped),
                       "torch": str(torch.__version__)}

    def restore(self, previous: dict) -> None:
        resume = previous["resume"]
        self.model.load_state_dict(resume["model_state"])
        self.optimizer.load_state_dict(resume["optimizer"])
        self.scheduler.load_state_dict(resume["scheduler"])
        _restore_rng(resume["rng"], self.rng)
        self.epoch, self.step, self.bad_epochs = previous["epoch"], resume["step"], resume["bad_epochs"]
        self.best_state, self.metrics = previous["model_state"], previous["metrics"]
        self.best_loss = previous["metrics"].get("valid", {}).get("loss", math.inf)
        self.history = list(previous["history"])
        self.started = time.time() - previous["recipe"].get("train_seconds", 0.0)
        self._fit_decay_to_budget()

    def _fit_decay_to_budget(self) -> None:
        """End the learning-rate decay where the time limit will stop the run (see ``budget_epochs``)."""
        epochs = budget_epochs(self.config.epochs, self.epoch, time.time() - self.started,
                               self.config.max_minutes * 60)
        self.decay_steps = self.steps_per_epoch * epochs

    def batches(self) -> list[list[Chorale]]:
        """This epoch's batches: shuffled, transposed, grouped by similar length to save padding."""
        pieces = [transposed(c, self.rng, self.config.transpose) for c in self.corpus.pieces["train"]]
        order = self.rng.permutation(len(pieces))
        size = self.config.batch_size
        groups = []
        for start in range(0, len(order), size * 8):
            window = sorted(order[start:start + size * 8], key=lambda i: len(pieces[i].frames))
            groups += [[pieces[i] for i in window[k:k + size]] for k in range(0, len(window), size)]
        return [groups[i] for i in self.rng.permutation(len(groups))]

    def run_epoch(self, emit: ProgressCallback, should_stop) -> bool:
        """One pass over the training pieces, then validation and a save. False when interrupted."""
        started = time.time()
        self.model.train()
        batches = self.batches()
        total, correct, count = 0.0, 0, 0
        weights = np.array(self.config.mask_mix) / sum(self.config.mask_mix)
        for index, group in enumerate(batches):
            if should_stop is not None and should_stop():
                return False
            kinds = self.rng.choice(len(MASK_KINDS), size=len(group), p=weights)
            unknowns = [make_unknown(self.rng, len(c.frames), c.positions, MASK_KINDS[k])
                        for c, k in zip(group, kinds)]
            given, target, positions, lengths, scored, keys = make_batch(group, unknowns, self.device)
            hidden = torch.from_numpy(self.rng.random(len(group)) < self.config.key_dropout).to(self.device)
            keys = torch.where(hidden, torch.full_like(keys, UNKNOWN_KEY), keys)
            logits = self.model(given, target, positions, lengths, keys)               # [B, T, 4, V]
            losses = nn.functional.cross_entropy(logits.permute(0, 3, 1, 2), target, reduction="none")
            loss = losses[scored].mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            cells = int(scored.sum())
            total += loss.item() * cells
            correct += int((logits.argmax(-1) == target)[scored].sum())
            count += cells
            emit({"event": "step", "epoch": self.epoch + 1, "epochs": self.config.epochs, "batch": index + 1,
                  "batches": len(batches), "loss": loss.item(), "accuracy": correct / max(count, 1),
                  "tokens_per_s": count / max(time.time() - started, 1e-9)})
        valid = evaluate(self.model, self.corpus.pieces["valid"], self.device, "harmonize")
        self.epoch += 1
        improved = valid.loss < self.best_loss
        if improved:
            self.best_loss, self.bad_epochs = valid.loss, 0
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            self.metrics = {"valid": valid.to_dict()}
        else:
            self.bad_epochs += 1
        row = {"epoch": self.epoch, "train_loss": total / max(count, 1), "train_accuracy": correct / max(count, 1),
               "valid_loss": valid.loss, "valid_perplexity": valid.perplexity, "valid_accuracy": valid.accuracy,
               "lr": self.scheduler.get_last_lr()[0], "seconds": time.time() - started}
        self.history.append(row)
        self._fit_decay_to_budget()
        self.save()
        _write_curves(self.out_path, self.history)
        emit({"event": "epoch", **row, "improved": improved})
        return True

    def reason_to_stop(self) -> str | None:
        if self.bad_epochs >= self.config.patience:
            return f"no better validation loss for {self.config.patience} epochs"
        minutes = (time.time() - self.started) / 60
        if self.config.max_minutes and minutes >= self.config.max_minutes:
            return f"time limit of {self.config.max_minutes:g} minutes"
        return None

    def checkpoint(self) -> dict:
        state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        self.recipe["train_seconds"] = round(time.time() - self.started, 1)
        return {
            "format_version": ckpt.FORMAT_VERSION, "kind": HARMONY_KIND,
            "model_config": self.model.config.to_dict(),
            "satb": {"voice_names": list(VOICE_NAMES), "voice_limits": self.limits,
                     "min_pitch": MIN_PITCH, "max_pitch": MAX_PITCH, "frames_per_beat": 4},
            "model_state": self.best_state if self.best_state is not None else state,
            "metrics": self.metrics, "recipe": self.recipe, "history": self.history, "epoch": self.epoch,
            "resume": {"model_state": state, "optimizer": self.optimizer.state_dict(),
                       "scheduler": self.scheduler.state_dict(), "rng": _rng_state(self.rng),
                       "bad_epochs": self.bad_epochs, "step": self.step},
        }

    def save(self) -> dict:
        checkpoint = self.checkpoint()
        ckpt.save_checkpoint(checkpoint, self.out_path)
        return checkpoint

    def finish(self, stop_reason: str) -> dict:
        """Score the best weights on the test split (all four mask kinds on valid too), then save."""
        last = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        for kind in MASK_KINDS[1:]:
            self.metrics[f"valid_{kind}"] = evaluate(self.model, self.corpus.pieces["valid"], self.device,
                                                     kind).to_dict()
        if self.corpus.pieces["test"]:
            self.metrics["test"] = evaluate(self.model, self.corpus.pieces["test"], self.device).to_dict()
        self.model.load_state_dict(last)
        self.recipe["stop_reason"] = stop_reason
        return self.save()

