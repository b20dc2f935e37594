"""Training the polyphonic benchmark model: train split (transposed at random), early stopping on valid.

The loop is the shared one (:mod:`composer.core.training`); the model file, rewritten atomically after every epoch:

    format_version, kind ("composer-polyphonic-model"), model_config (PolyConfig), model_state (best valid),
    metrics (valid score of those weights), recipe (training settings, data file and its SHA-256, versions),
    history (one row per epoch), epoch, resume (absent once stripped: last weights, optimizer, RNG, patience),
    repeat_cache (mixture weights fitted on the train split when the run ends; see :mod:`composer.polyphonic.repeat_cache`).

The model never sees ``valid`` or ``test`` while learning: ``valid`` only picks the best epoch and the learning
rate drops.

Besides the shared loop's progress events (:mod:`composer.core.training`), a run reports how far the scoring
after each epoch and the repeat cache's fit at the end have come::

    {"event": "scoring", "stage": "valid" | "cache_fit" (train split) | "cache_valid", "done", "total"}  (pieces)
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from composer.core.modelfile import POLYPHONIC_KIND, load_checkpoint, save_checkpoint, strip_checkpoint
from composer.core.optim import PlateauHalving, make_optimizer
from composer.core.training import (Metrics, ProgressCallback, StepResult, Trainer, TrainingError, TrainingSettings,
                                    TrainingTask, load_for_resume)
from composer.polyphonic.data import (NUM_PITCHES, BenchmarkDataError, EncodedPieces, PieceRoll, StepBatch,
                                      encode_pieces, load_benchmark, step_batch, transpose_piece)
from composer.polyphonic.model import PolyConfig, PolyphonicLM, token_nll
from composer.polyphonic.repeat_cache import attach_cache
from composer.polyphonic.score import score_split



class PolyTrainingError(Exception):
    """Training cannot start or continue (bad settings, missing split, unusable model file)."""


@dataclass(frozen=True)
class PolyTrainConfig(TrainingSettings):
    """Everything that decides a training run (the model's shape too). Saved as the recipe.

    The optimisation and stopping fields are those every family shares
    (:class:`~composer.core.training.TrainingSettings`, here with this family's defaults); the learning rate
    is halved after every ``lr_decay_after`` epochs in a row without a better valid NLL
    (:class:`~composer.core.optim.PlateauHalving`).

    Attributes:
        model: the :class:`PolyConfig` fields as a dict.
        bptt: steps per truncated-backpropagation chunk (the state carries over between chunks of a piece).
        lr_decay_after: see above.
        transpose: each train piece moves by a random number of semitones in [-transpose, transpose] every epoch,
            kept within the train split's pitch range (0: no augmentation).
        threads: torch CPU threads.
    """

    SETTINGS_LABEL = "polyphonic training settings"
    NESTED = {"model": tuple(f.name for f in dataclasses.fields(PolyConfig))}

    epochs: int = 60
    batch_size: int = 16
    lr: float = 2e-3
    patience: int = 6
    seed: int = 1
    model: dict = dataclasses.field(default_factory=dict)
    bptt: int = 200
    lr_decay_after: int = 2
    transpose: int = 6
    threads: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        PolyConfig.from_dict(self.model)  # checks the model fields
        for name in ("bptt", "lr_decay_after", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.transpose <= 24:
            raise ValueError(f"transpose must be 0..24 semitones, got {self.transpose}")

    @property
    def model_config(self) -> PolyConfig:
        return PolyConfig.from_dict(self.model)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)



# -- model files ------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- one epoch ---------------------------------------------------------------------------------------
def augment(pieces: list[PieceRoll], max_shift: int, low: int, high: int, rng: np.random.Generator) -> list[PieceRoll]:
    """Each piece moved by a random shift in [-max_shift, max_shift] that keeps it within [low, high]."""
    if max_shift == 0:
        return pieces
    moved = []
    for piece in pieces:
        pitches = [p for frame in piece for p in frame]
        if not pitches:
            moved.append(piece)
            continue
        down = max(-max_shift, low - min(pitches))
        up = min(max_shift, high - max(pitches))
        moved.append(transpose_piece(piece, int(rng.integers(down, up + 1))) if up >= down else piece)
    return moved


def batches_of_pieces(encoded: EncodedPieces, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of pieces of similar length (less padding)."""
    order = rng.permutation(encoded.num_pieces)
    lengths = np.diff(encoded.starts)
    pool = batch_size * 8
    batches = []
    for first in range(0, len(order), pool):
        group = order[first:first + pool]
        group = group[np.argsort(lengths[group], kind="stable")]
        batches.extend(group[i:i + batch_size] for i in range(0, len(group), batch_size))
    rng.shuffle(batches)
    return batches


# -- the run ----------------------------------------------------------------------------------------
def epoch_line(event: dict) -> str:
    """The line printed for an ``epoch`` progress event."""
    return (f"epoch {event['epoch']:3d}  train {event['train_loss']:.4f}/token  valid {event['valid_loss']:.4f}"
            f"/frame {event['valid_token_nll']:.4f}/token  lr {event['lr']:.2e}  {event['seconds']:.0f}s"
            f"{'  *' if event['improved'] else ''}")


def _print_progress(event: dict) -> None:
    if event["event"] == "epoch":
        print(epoch_line(event), file=sys.stderr, flush=True)


class PolyTask(TrainingTask):
    """The polyphonic family's part of a training run: batches of whole pieces cut into ``bptt`` chunks.

    The model never sees ``valid`` or ``test`` while learning: ``valid`` (frame-level NLL) only picks the best
    epoch and the learning-rate drops. When the run ends, the repeat cache is fitted on the train split.
    """

    kind = POLYPHONIC_KIND

    def __init__(self, config: PolyTrainConfig, splits: dict, recipe: dict, device: torch.device,
                 progress: ProgressCallback | None = None) -> None:
        self.settings, self.splits, self.recipe, self.device = config, splits, recipe, device
        self.progress = progress
        self.rng = np.random.default_rng(config.seed)
        self.model = self.trainable = PolyphonicLM(config.model_config).to(device)
        self.optimizer = make_optimizer(self.model, config.lr, config.weight_decay)
        self.schedule = PlateauHalving(self.optimizer, config.lr, config.lr_decay_after)
        pitches = [p for piece in splits["train"] for frame in piece for p in frame]
        self.pitch_span = (min(pitches), max(pitches)) if pitches else (0, NUM_PITCHES - 1)
        self.copy = self.model.config.copy_features
        self.fixed = None if config.transpose else encode_pieces(splits["train"], self.model.config.order, self.copy)
        self.state, self.epoch_batches = None, 0

    def batches(self, epoch: int) -> Iterator[tuple]:
        encoded = self.fixed if self.fixed is not None else encode_pieces(
            augment(self.splits["train"], self.settings.transpose, *self.pitch_span, self.rng),
            self.model.config.order, self.copy)
        groups = batches_of_pieces(encoded, self.settings.batch_size, self.rng)
        self.epoch_batches = sum(math.ceil(max(encoded.starts[p + 1] - encoded.starts[p] for p in chosen)
                                           / self.settings.bptt) for chosen in groups)
        return self._chunks(encoded, groups)

    def _chunks(self, encoded: EncodedPieces, groups: list[np.ndarray]) -> Iterator[tuple]:
        """Each group's pieces side by side, in chunks of ``bptt`` steps; the state starts at zero per group."""
        for chosen in groups:
            spans = [(encoded.starts[p], encoded.starts[p + 1]) for p in chosen]
            longest = max(end - start for start, end in spans)
            self.state = None
            for offset in range(0, longest, self.settings.bptt):
                rows = [np.arange(start + offset, min(end, start + offset + self.settings.bptt))
                        for start, end in spans]
                rows = [r if len(r) else np.zeros(0, dtype=np.int64) for r in rows]
                if max(len(r) for r in rows) == 0:
                    break
                yield step_batch(encoded, rows, self.model.config.order, self.device, copy=self.copy)

    def batches_per_epoch(self) -> int:
        return self.epoch_batches

    def step(self, batch: StepBatch) -> StepResult:
        logits, state = self.model(batch, self.state)
        self.state = tuple(s.detach() for s in state)
        valid = batch.targets >= 0
        nll = token_nll(logits, batch.targets)
        return StepResult(nll.sum() / valid.sum(), 0, int(valid.sum()))

    def validate(self) -> tuple[float, dict]:
        score = score_split(self.model, self.splits["valid"], self.device, progress=self._scoring({"scoring": "valid"}))
        return score.frame_nll, score.to_dict()

    def _scoring(self, stages: dict[str, str]):
        """A ``progress(what, done, total)`` callback of the scoring functions that emits ``scoring`` events,
        ``stages`` naming the stage of each ``what`` (None without a progress callback)."""
        if self.progress is None:
            return None
        return lambda what, done, total: self.progress({"event": "scoring", "stage": stages[what], "done": done,
                                                        "total": total})

    def history_fields(self, train: Metrics, valid: dict) -> dict:
        return {"valid_token_nll": valid["token_nll"]}

    def finish(self, checkpoint: dict) -> None:
        """Fit the repeat cache of the best weights on the train split."""
        if "valid" in checkpoint["metrics"]:
            attach_cache(checkpoint, self.model, self.splits, self.device,
                         self._scoring({"fitting": "cache_fit", "scoring": "cache_valid"}))


def train_polyphonic(data_path: str | os.PathLike, out_path: str | os.PathLike, config: PolyTrainConfig,
                     resume: bool = False, progress: ProgressCallback = _print_progress,
                     device: str = "cpu") -> dict:
    """Train on the file's ``train`` split, early-stop on its ``valid`` split, write the model file.

    Args:
        data_path: benchmark JSON with ``train`` and ``valid``.
        out_path: model file, rewritten atomically after every epoch.
        config: the recipe.
        resume: continue from ``out_path`` (its recipe must match ``config`` except the stopping criteria:
            ``epochs``, ``patience``, ``max_minutes``; ``max_minutes`` counts the time of earlier sessions too).
        progress: called with the progress events of :mod:`composer.core.training`.
        device: torch device name.

    Returns:
        the final checkpoint dict.

    Raises:
        PolyTrainingError: missing split, unusable resume file, mismatched recipe.
        BenchmarkDataError: unreadable data file.
    """
    data_path, out_path = Path(data_path), Path(out_path)
    splits = load_benchmark(data_path)
    for name in ("train", "valid"):
        if not splits.get(name):
            raise PolyTrainingError(f"{data_path} has no {name!r} split (training needs train and valid)")
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    recipe = {"config": config.to_dict(), "data_file": data_path.name, "data_sha256": file_sha256(data_path),
              "train_pieces": len(splits["train"]), "valid_pieces": len(splits["valid"]),
              "torch": str(torch.__version__)}
    task = PolyTask(config, splits, recipe, torch.device(device), progress)
    recipe["parameters"] = task.model.num_parameters()
    trainer = Trainer(task, out_path, progress)
    if resume and out_path.exists():
        try:
            trainer.restore(_previous_run(out_path, recipe))
        except TrainingError as error:   # e.g. the resume state of a file from before the shared loop
            raise PolyTrainingError(str(error)) from None
    return trainer.run()


STOPPING = ("epochs", "patience", "max_minutes")  # settings a resumed run may change


def _previous_run(out_path: Path, recipe: dict) -> dict:
    """The unfinished run in ``out_path``, checked to have the same settings (but stopping) and data.

    Raises:
        PolyTrainingError: unreadable, stripped, or trained with other settings or data.
    """
    try:
        checkpoint = load_for_resume(out_path, POLYPHONIC_KIND)
    except TrainingError as error:
        raise PolyTrainingError(str(error)) from None
    saved = {k: v for k, v in checkpoint["recipe"].get("config", {}).items() if k not in STOPPING}
    wanted = {k: v for k, v in recipe["config"].items() if k not in STOPPING}
    if saved != wanted or checkpoint["recipe"]["data_sha256"] != recipe["data_sha256"]:
        changed = sorted(k for k in wanted if saved.get(k) != wanted[k]) or ["the data file"]
        raise PolyTrainingError(f"{out_path} was trained with other settings or data ({', '.join(changed)}); "
                                f"resuming needs the same ones (only {', '.join(STOPPING)} may change)")
    checkpoint["recipe"] = {**checkpoint["recipe"], "config": recipe["config"]}   # the new stopping criteria
    return checkpoint
def ship(checkpoint_path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Write the model file without its resume state (optimizer), for shipping."""
    save_checkpoint(strip_checkpoint(load_checkpoint(checkpoint_path, kinds=(POLYPHONIC_KIND,))), out_path)


__all__ = ["PolyTrainConfig", "PolyTrainingError", "BenchmarkDataError", "train_polyphonic",
           "ship"]
