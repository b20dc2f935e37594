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

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from composer.core.config import complete_group, field_defaults
from composer.core.corpus_files import find_midi_files, split_of
from composer.core.modelfile import HARMONY_KIND
from composer.core.optim import WarmupCosine, make_optimizer
from composer.core.training import (CorpusTrainingSettings, Metrics, ProgressCallback, StepResult, Trainer,
                                    TrainingError, TrainingTask, load_for_resume, pick_device, seed_everything,
                                    write_data_report)
from composer.harmony.grid import (MASK, MAX_PITCH, MIN_PITCH, NUM_KEYS, NUM_VOICES, PITCH_OFFSET, REST, UNKNOWN_KEY,
                                   VOICE_NAMES, Chorale, HarmonyError, chorale_from_piece, transpose_frames,
                                   transpose_key_index)
from composer.harmony.model import HarmonyConfig, HarmonyNet
from composer.music.midi_io import MidiReadError, read_midi

MASK_KINDS = ("harmonize", "region", "free", "scatter")


MODEL_DEFAULTS = field_defaults(HarmonyConfig, exclude=("vocab_size", "num_voices", "num_positions", "num_keys"))
MODEL_FIELDS = tuple(MODEL_DEFAULTS)


@dataclass(frozen=True)
class HarmonyTrainConfig(CorpusTrainingSettings):
    """The recipe of a harmony model (saved in the model file).

    The optimisation, stopping, split and device fields are those every corpus-trained family shares
    (:class:`~composer.core.training.CorpusTrainingSettings`, here with the harmony model's defaults).
    ``model``: the shape fields of :class:`~composer.harmony.model.HarmonyConfig` (embedding_size, encoder_size,
    encoder_layers, hidden_size, num_layers, head_size, dropout); a recipe may give them flat.
    ``mask_mix``: probabilities of the four mask kinds (harmonize, region, free, scatter).
    ``key_conditioning``: tell the model each piece's key (signature, else estimated); ``key_dropout`` of
    the training pieces are shown as "key unknown" so the model also works without one.
    """

    SETTINGS_LABEL = "harmony training settings"
    NESTED = {"model": MODEL_FIELDS}

    epochs: int = 60
    batch_size: int = 8
    lr: float = 2e-3
    patience: int = 8
    model: dict = dataclasses.field(default_factory=dict)   # the HarmonyConfig shape fields
    mask_mix: tuple[float, float, float, float] = (0.5, 0.25, 0.1, 0.15)
    key_conditioning: bool = True
    key_dropout: float = 0.15

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "model", complete_group(HarmonyConfig, self.model, MODEL_DEFAULTS,
                                                         "harmony model settings"))
        if len(self.mask_mix) != len(MASK_KINDS) or min(self.mask_mix) < 0 or sum(self.mask_mix) <= 0:
            raise ValueError(f"mask_mix must be {len(MASK_KINDS)} non-negative weights for {MASK_KINDS}")
        self.model_config()

    def model_config(self) -> HarmonyConfig:
        return HarmonyConfig(**self.model, num_keys=NUM_KEYS if self.key_conditioning else 0)


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
        except (MemoryError, ValueError, OverflowError, RecursionError) as error:  # one bad file never ends the run
            skipped.append((relative, f"cannot be used ({type(error).__name__}: {error})"))
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
class HarmonyTask(TrainingTask):
    """The harmony family's part of a training run: whole pieces, randomly transposed and masked.

    The loss is the cross-entropy of the written cells only. Validation uses ``harmonize`` masks: the number
    that picks the best weights is the NLL of the true alto, tenor and bass given the soprano.
    """

    kind = HARMONY_KIND

    def __init__(self, config: HarmonyTrainConfig, corpus: ChoraleCorpus, device: torch.device, data_dir) -> None:
        self.settings, self.corpus, self.device = config, corpus, device
        self.model = self.trainable = HarmonyNet(config.model_config()).to(device)
        self.optimizer = make_optimizer(self.model, config.lr, config.weight_decay,
                                        no_decay=lambda name: "embedding" in name)
        self.steps_per_epoch = math.ceil(len(corpus.pieces["train"]) / config.batch_size)
        self.schedule = WarmupCosine(self.optimizer, config.warmup_steps, config.min_lr_ratio, self.steps_per_epoch,
                                     config.epochs)
        self.rng = np.random.default_rng(config.seed)
        self.limits = voice_limits(corpus.pieces["train"])
        self.mask_weights = np.array(config.mask_mix) / sum(config.mask_mix)
        self.recipe = {"task": "harmony", "config": config.to_dict(), "data_dir": str(data_dir),
                       "files": corpus.summary()["files"], "skipped": len(corpus.skipped),
                       "torch": str(torch.__version__)}

    def batches(self, epoch: int) -> Iterator[tuple]:
        """This epoch's batches: shuffled, transposed, grouped by similar length to save padding."""
        pieces = [transposed(c, self.rng, self.settings.transpose) for c in self.corpus.pieces["train"]]
        order = self.rng.permutation(len(pieces))
        size = self.settings.batch_size
        groups = []
        for start in range(0, len(order), size * 8):
            window = sorted(order[start:start + size * 8], key=lambda i: len(pieces[i].frames))
            groups += [[pieces[i] for i in window[k:k + size]] for k in range(0, len(window), size)]
        return (self._masked(groups[i]) for i in self.rng.permutation(len(groups)))

    def _masked(self, group: list[Chorale]) -> tuple:
        """A batch with each piece's cells to write drawn from the mask mix, and some keys hidden."""
        kinds = self.rng.choice(len(MASK_KINDS), size=len(group), p=self.mask_weights)
        unknowns = [make_unknown(self.rng, len(c.frames), c.positions, MASK_KINDS[k]) for c, k in zip(group, kinds)]
        given, target, positions, lengths, scored, keys = make_batch(group, unknowns, self.device)
        hidden = torch.from_numpy(self.rng.random(len(group)) < self.settings.key_dropout).to(self.device)
        keys = torch.where(hidden, torch.full_like(keys, UNKNOWN_KEY), keys)
        return given, target, positions, lengths, scored, keys

    def batches_per_epoch(self) -> int:
        return self.steps_per_epoch

    def step(self, batch: tuple) -> StepResult:
        given, target, positions, lengths, scored, keys = batch
        logits = self.model(given, target, positions, lengths, keys)                     # [B, T, 4, V]
        losses = nn.functional.cross_entropy(logits.permute(0, 3, 1, 2), target, reduction="none")
        correct = int((logits.argmax(-1) == target)[scored].sum())
        return StepResult(losses[scored].mean(), correct, int(scored.sum()))

    def validate(self) -> tuple[float, dict]:
        valid = evaluate(self.model, self.corpus.pieces["valid"], self.device, "harmonize")
        return valid.loss, valid.to_dict()

    def history_fields(self, train: Metrics, valid: dict) -> dict:
        return {"train_accuracy": train.accuracy, "valid_perplexity": valid["perplexity"],
                "valid_accuracy": valid["accuracy"]}

    def checkpoint_fields(self) -> dict:
        return {"satb": {"voice_names": list(VOICE_NAMES), "voice_limits": self.limits,
                         "min_pitch": MIN_PITCH, "max_pitch": MAX_PITCH, "frames_per_beat": 4}}

    def finish(self, checkpoint: dict) -> None:
        """Score the best weights with the other mask kinds on valid, and on the test split."""
        metrics = dict(checkpoint["metrics"])
        for kind in MASK_KINDS[1:]:
            metrics[f"valid_{kind}"] = evaluate(self.model, self.corpus.pieces["valid"], self.device, kind).to_dict()
        if self.corpus.pieces["test"]:
            metrics["test"] = evaluate(self.model, self.corpus.pieces["test"], self.device).to_dict()
        checkpoint["metrics"] = metrics


def train_harmony(data_dir: str | os.PathLike, out_path: str | os.PathLike,
                  config: HarmonyTrainConfig = HarmonyTrainConfig(), resume: bool = False,
                  progress: ProgressCallback | None = None, should_stop: Callable[[], bool] | None = None,
                  ) -> dict:
    """Train a harmony model on the four-part MIDI files under ``data_dir``; write it to ``out_path``.

    The file is rewritten after every epoch (best weights plus resume state) and on interruption, always
    atomically (see :class:`composer.core.training.Trainer`).

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
    previous = load_for_resume(out_path, HARMONY_KIND) if resume else None
    if previous is not None:
        config = HarmonyTrainConfig.from_dict(previous["recipe"]["config"])
    seed_everything(config.seed)
    device = pick_device(config.device)
    corpus = load_chorales(data_dir, config.valid_fraction, config.test_fraction)
    emit({"event": "data", "summary": corpus.summary(), "skipped": corpus.skipped, "seconds": corpus.seconds,
          "stats": {"files_per_s": sum(corpus.summary()["files"].values()) / max(corpus.seconds, 1e-9)}})
    write_data_report(out_path, corpus.files, corpus.skipped)
    if not corpus.pieces["train"]:
        raise TrainingError(f"no usable four-part MIDI files in {data_dir} ({len(corpus.skipped)} skipped)")
    trainer = Trainer(HarmonyTask(config, corpus, device, data_dir), out_path, emit, should_stop)
    if previous is not None:
        trainer.restore(previous)
    return trainer.run()
