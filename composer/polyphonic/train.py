"""Training the polyphonic benchmark model: train split (transposed at random), early stopping on valid.

The model file is one plain dict (see :mod:`composer.core.modelfile`), rewritten atomically after every epoch:

    format_version, kind ("composer-polyphonic-model"), model_config (PolyConfig), model_state (best valid),
    metrics (valid score of those weights), recipe (training settings, data file and its SHA-256, versions),
    history (one row per epoch), epoch, resume (absent once stripped: last weights, optimizer, RNG, patience),
    repeat_cache (mixture weights fitted on the train split when the run ends; see :mod:`composer.polyphonic.repeat_cache`).

The model never sees ``valid`` or ``test`` while learning: ``valid`` only picks the best epoch and the learning
rate drops.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from composer.core.modelfile import FORMAT_VERSION, POLYPHONIC_KIND, ModelFileError, load_checkpoint, save_checkpoint, strip_checkpoint
from composer.polyphonic.data import (NUM_PITCHES, BenchmarkDataError, EncodedPieces, PieceRoll, encode_pieces,
                                      load_benchmark, step_batch, transpose_piece)
from composer.polyphonic.model import PolyConfig, PolyphonicLM, token_nll
from composer.polyphonic.score import score_split
from composer.polyphonic.repeat_cache import attach_cache
from composer.core.config import dataclass_from_dict



class PolyTrainingError(Exception):
    """Training cannot start or continue (bad settings, missing split, unusable model file)."""


@dataclass(frozen=True)
class PolyTrainConfig:
    """Everything that decides a training run (the model's shape too). Saved as the recipe.

    Attributes:
        model: the :class:`PolyConfig` fields as a dict.
        epochs: most passes over the train split.
        batch_size: pieces per batch.
        bptt: steps per truncated-backpropagation chunk (the state carries over between chunks of a piece).
        lr: AdamW learning rate; halved after every ``lr_decay_after`` epochs in a row without a better valid NLL.
        weight_decay: AdamW weight decay on weight matrices.
        clip: gradient-norm clip.
        patience: stop after this many epochs in a row without a better valid NLL.
        lr_decay_after: see ``lr``.
        transpose: each train piece moves by a random number of semitones in [-transpose, transpose] every epoch,
            kept within the train split's pitch range (0: no augmentation).
        max_minutes: stop after the epoch that passes this wall-clock budget (0: no limit).
        seed: random seed.
        threads: torch CPU threads.
    """

    model: dict = dataclasses.field(default_factory=dict)
    epochs: int = 60
    batch_size: int = 16
    bptt: int = 200
    lr: float = 2e-3
    weight_decay: float = 0.01
    clip: float = 1.0
    patience: int = 6
    lr_decay_after: int = 2
    transpose: int = 6
    max_minutes: float = 0.0
    seed: int = 1
    threads: int = 1

    def __post_init__(self) -> None:
        PolyConfig.from_dict(self.model)  # checks the model fields
        for name in ("epochs", "batch_size", "bptt", "patience", "lr_decay_after", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.transpose <= 24:
            raise ValueError(f"transpose must be 0..24 semitones, got {self.transpose}")
        if self.lr <= 0 or self.max_minutes < 0 or self.clip <= 0 or self.weight_decay < 0:
            raise ValueError("lr and clip must be positive, max_minutes and weight_decay not negative")

    @property
    def model_config(self) -> PolyConfig:
        return PolyConfig.from_dict(self.model)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PolyTrainConfig:
        return dataclass_from_dict(cls, values, "polyphonic training settings")


# -- model files ------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- one epoch --------------------------------------------------------------------------------------
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


def train_epoch(model: PolyphonicLM, optimizer: torch.optim.Optimizer, encoded: EncodedPieces,
                config: PolyTrainConfig, rng: np.random.Generator, device: torch.device) -> float:
    """One pass over the encoded train pieces with truncated backpropagation.

    Returns:
        mean training NLL per token (nats, with dropout on).
    """
    model.train()
    total, count = 0.0, 0
    for chosen in batches_of_pieces(encoded, config.batch_size, rng):
        spans = [(encoded.starts[p], encoded.starts[p + 1]) for p in chosen]
        longest = max(end - start for start, end in spans)
        state = None
        for offset in range(0, longest, config.bptt):
            rows = [np.arange(start + offset, min(end, start + offset + config.bptt)) for start, end in spans]
            rows = [r if len(r) else np.zeros(0, dtype=np.int64) for r in rows]
            if max(len(r) for r in rows) == 0:
                break
            batch = step_batch(encoded, rows, model.config.order, device, copy=model.config.copy_features)
            logits, state = model(batch, state)
            state = tuple(s.detach() for s in state)
            valid = batch.targets >= 0
            nll = token_nll(logits, batch.targets)
            loss = nll.sum() / valid.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            total += float(nll.detach().sum())
            count += int(valid.sum())
    return total / max(count, 1)


# -- the run ----------------------------------------------------------------------------------------
ProgressCallback = Callable[[dict], None]


def _print_progress(row: dict) -> None:
    print(f"epoch {row['epoch']:3d}  train {row['train_token_nll']:.4f}/token  valid {row['valid_frame_nll']:.4f}"
          f"/frame {row['valid_token_nll']:.4f}/token  lr {row['lr']:.2e}  {row['elapsed_s']:.0f}s"
          f"{'  *' if row['best'] else ''}", file=sys.stderr, flush=True)


def make_optimizer(model: PolyphonicLM, config: PolyTrainConfig) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                              {"params": other, "weight_decay": 0.0}], lr=config.lr)


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
        progress: called with each epoch's history row.
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
    rng = np.random.default_rng(config.seed)
    device = torch.device(device)
    model = PolyphonicLM(config.model_config).to(device)
    optimizer = make_optimizer(model, config)
    recipe = {"train": config.to_dict(), "data_file": data_path.name, "data_sha256": file_sha256(data_path),
              "train_pieces": len(splits["train"]), "valid_pieces": len(splits["valid"]),
              "torch": str(torch.__version__), "parameters": model.num_parameters()}
    checkpoint = {"format_version": FORMAT_VERSION, "kind": POLYPHONIC_KIND, "model_config": config.model_config.to_dict(), "recipe": recipe,
                  "history": [], "epoch": 0, "metrics": {}, "model_state": None}
    state = {"bad_epochs": 0, "best": float("inf"), "elapsed_s": 0.0, "lr": config.lr}
    if resume and out_path.exists():
        checkpoint, state = _restore(out_path, config, recipe, model, optimizer, rng)
    pitches = [p for piece in splits["train"] for frame in piece for p in frame]
    low, high = (min(pitches), max(pitches)) if pitches else (0, NUM_PITCHES - 1)
    started = time.monotonic() - state["elapsed_s"]
    copy = model.config.copy_features
    fixed = None if config.transpose else encode_pieces(splits["train"], model.config.order, copy)   # same each epoch
    while checkpoint["epoch"] < config.epochs and state["bad_epochs"] < config.patience:
        if config.max_minutes and state["elapsed_s"] >= config.max_minutes * 60:
            break
        for group in optimizer.param_groups:
            group["lr"] = state["lr"]
        encoded = fixed if fixed is not None else encode_pieces(
            augment(splits["train"], config.transpose, low, high, rng), model.config.order, copy)
        train_nll = train_epoch(model, optimizer, encoded, config, rng, device)
        score = score_split(model, splits["valid"], device)
        state["elapsed_s"] = time.monotonic() - started
        improved = score.frame_nll < state["best"]
        checkpoint["epoch"] += 1
        row = {"epoch": checkpoint["epoch"], "train_token_nll": train_nll, "valid_frame_nll": score.frame_nll,
               "valid_token_nll": score.token_nll, "lr": state["lr"], "elapsed_s": state["elapsed_s"],
               "best": improved}
        checkpoint["history"].append(row)
        if improved:
            state["best"], state["bad_epochs"] = score.frame_nll, 0
            checkpoint["model_state"] = _cpu_state(model)
            checkpoint["metrics"] = {"valid": score.to_dict(), "epoch": checkpoint["epoch"]}
            checkpoint.pop("repeat_cache", None)   # fitted to other weights: fitted again at the end
        else:
            state["bad_epochs"] += 1
            if state["bad_epochs"] % config.lr_decay_after == 0:
                state["lr"] *= 0.5
        checkpoint["resume"] = {"model_state": _cpu_state(model), "optimizer": optimizer.state_dict(),
                                "numpy_rng": json.dumps(rng.bit_generator.state), "torch_rng": torch.get_rng_state(),
                                **state}
        save_checkpoint(checkpoint, out_path)
        progress(row)
    if checkpoint["model_state"] is not None and "repeat_cache" not in checkpoint:
        best = PolyphonicLM(config.model_config).to(device)
        best.load_state_dict(checkpoint["model_state"])
        attach_cache(checkpoint, best, splits, device)
        save_checkpoint(checkpoint, out_path)
    return checkpoint


def _cpu_state(model: torch.nn.Module) -> dict:
    return {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}


STOPPING = ("epochs", "patience", "max_minutes")  # settings a resumed run may change


def _restore(out_path: Path, config: PolyTrainConfig, recipe: dict, model: PolyphonicLM,
             optimizer: torch.optim.Optimizer, rng: np.random.Generator) -> tuple[dict, dict]:
    """Load the last epoch's weights, optimizer and RNG from an unfinished model file."""
    try:
        checkpoint = load_checkpoint(out_path, kinds=(POLYPHONIC_KIND,))
    except ModelFileError as error:
        raise PolyTrainingError(str(error)) from None
    if "resume" not in checkpoint:
        raise PolyTrainingError(f"{out_path} has no resume state (it was stripped); train to a new file")
    saved = {k: v for k, v in checkpoint["recipe"]["train"].items() if k not in STOPPING}
    wanted = {k: v for k, v in recipe["train"].items() if k not in STOPPING}
    if saved != wanted or checkpoint["recipe"]["data_sha256"] != recipe["data_sha256"]:
        changed = sorted(k for k in wanted if saved.get(k) != wanted[k]) or ["the data file"]
        raise PolyTrainingError(f"{out_path} was trained with other settings or data ({', '.join(changed)}); "
                                f"resuming needs the same ones (only {', '.join(STOPPING)} may change)")
    checkpoint["recipe"]["train"] = recipe["train"]  # the new stopping criteria
    resume = checkpoint["resume"]
    model.load_state_dict(resume["model_state"])
    optimizer.load_state_dict(resume["optimizer"])
    rng.bit_generator.state = json.loads(resume["numpy_rng"])
    torch.set_rng_state(resume["torch_rng"])
    state = {key: resume[key] for key in ("bad_epochs", "best", "elapsed_s", "lr")}
    return checkpoint, state


def ship(checkpoint_path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Write the model file without its resume state (optimizer), for shipping."""
    save_checkpoint(strip_checkpoint(load_checkpoint(checkpoint_path, kinds=(POLYPHONIC_KIND,))), out_path)


__all__ = ["PolyTrainConfig", "PolyTrainingError", "BenchmarkDataError", "train_polyphonic",
           "ship"]
