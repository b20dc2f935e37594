"""Training a melody model: corpus folder -> model file, through the shared loop of :mod:`composer.core.training`.

:class:`MelodyTask` is the melody family's part (its stream of token chunks, loss, validation and model-file
fields); :func:`train` reads the corpus and runs it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

import composer
from composer.core import distributed
from composer.core import modelfile as ckpt
from composer.core.config import complete_group, field_defaults
from composer.core.distributed import SINGLE, Shard
from composer.core.modelfile import MELODY_KIND
from composer.core.optim import WarmupCosine, make_optimizer
from composer.core.training import (Metrics, ProgressCallback, StepResult, Trainer, TrainingError, CorpusTrainingSettings, TrainingTask, load_for_resume, pick_device, seed_everything, write_data_report)
from composer.melody.conditioning import CONDITION_SIZE, LABEL_METHODS, condition_vectors, transpose_codes
from composer.melody.corpus import Corpus, batchify, chunks, load_corpus, random_shifts
from composer.melody.encoding import PAD, EncodingConfig, Vocabulary, transpose_ids
from composer.melody.form_inputs import sequence_ids
from composer.music.metre import Metre
from composer.melody.model import ComposerLM, ModelConfig, detach_state
from composer.music.chords import NO_CHORD


# the recipe's model fields: not the sizes the vocabulary and the chords fix, nor what the data gives (key_counts)
MODEL_DEFAULTS = field_defaults(ModelConfig, exclude=("vocab_size", "condition_size", "key_counts"))
MODEL_FIELDS = tuple(MODEL_DEFAULTS)
# Melody training keeps to the pitches a tune sings (the encoding itself allows the piano's range).
ENCODING_DEFAULTS = {**field_defaults(EncodingConfig), "min_pitch": 36, "max_pitch": 96}
ENCODING_FIELDS = tuple(ENCODING_DEFAULTS)


@dataclass(frozen=True)
class TrainConfig(CorpusTrainingSettings):
    """Everything that decides a melody training run. Saved in the model file as the recipe.

    The optimisation, stopping, split and device fields are :class:`~composer.core.training.TrainingSettings`'
    and :class:`~composer.core.training.CorpusTrainingSettings`'; this class adds the melody model's own.
    ``model``: the :class:`~composer.melody.model.ModelConfig` fields (embedding_size, hidden_size, num_layers,
    dropout, cell, tie_weights); ``encoding``: the :class:`~composer.melody.encoding.EncodingConfig` fields
    (ticks_per_beat, max_shift, ..., key_tokens, durations_advance). A recipe may give them flat, as the JSON
    recipes do: ``TrainConfig.of(hidden_size=64, key_tokens=True)``.
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

    NESTED = {"model": MODEL_FIELDS, "encoding": ENCODING_FIELDS}

    model: dict = dataclasses.field(default_factory=dict)      # the ModelConfig fields but the vocabulary's size
    encoding: dict = dataclasses.field(default_factory=dict)   # the EncodingConfig fields
    bptt: int = 128
    chord_labels: str = ""
    chord_dropout: float = 0.1
    init_from: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "model", complete_group(ModelConfig, self.model, MODEL_DEFAULTS, "model settings"))
        object.__setattr__(self, "encoding", complete_group(EncodingConfig, self.encoding, ENCODING_DEFAULTS,
                                                            "encoding settings"))
        if self.bptt < 1:
            raise ValueError(f"bptt must be positive, got {self.bptt}")
        if self.chord_labels and self.chord_labels not in LABEL_METHODS:
            raise ValueError(f"chord_labels must be empty (off) or one of {', '.join(LABEL_METHODS)}, "
                             f"got {self.chord_labels!r}")
        if not 0 <= self.chord_dropout <= 1:
            raise ValueError(f"chord_dropout must be in [0, 1], got {self.chord_dropout}")
        self.encoding_config()  # validates the encoding fields
        self.model_config(1)    # and the model fields

    def encoding_config(self) -> EncodingConfig:
        return EncodingConfig(**self.encoding)

    def model_config(self, vocab_size: int, key_counts: tuple[int, ...] = ()) -> ModelConfig:
        """The model settings for a vocabulary of ``vocab_size`` tokens and the training pieces' ``key_counts``."""
        return ModelConfig(vocab_size=vocab_size, condition_size=CONDITION_SIZE if self.chord_labels else 0,
                           key_counts=key_counts, **self.model)


def key_counts(sequences: list[np.ndarray], vocab: Vocabulary) -> tuple[int, ...]:
    """How many of the token sequences start (after BOS) with each KEY token, in the vocabulary's order; () for a
    vocabulary without KEY tokens or pieces without them."""
    if not vocab.config.key_tokens:
        return ()
    keys = [int(s[1]) - vocab.key_offset for s in sequences
            if len(s) > 1 and vocab.key_offset <= int(s[1]) < vocab.shift_offset]
    counts = np.bincount(np.asarray(keys, dtype=np.int64), minlength=vocab.shift_offset - vocab.key_offset)
    return tuple(int(n) for n in counts) if keys else ()


def form_ids(model: ComposerLM, vocab: Vocabulary, pieces: list[np.ndarray], metres: list[Metre]) -> list | None:
    """The form input ids [T, K] of each piece for a model with form inputs, else None."""
    if model.form is None:
        return None
    return [sequence_ids(ids, vocab, model.layout, metre) for ids, metre in zip(pieces, metres)]


@torch.no_grad()
def evaluate(model: ComposerLM, sequences: list[np.ndarray], device: torch.device,
             batch_size: int = 32, shard: Shard = SINGLE, chords: list[np.ndarray] | None = None,
             forms: list[np.ndarray] | None = None) -> Metrics:
    """Mean next-token loss (nats) and accuracy over whole pieces, each from a fresh state.

    Args:
        model: the model (put in eval mode here).
        sequences: token arrays, each BOS ... EOS.
        device: where to run.
        batch_size: pieces per forward pass (padded to the longest; padding is not scored).
        shard: with several ranks, each scores every world-th piece and the sums are shared.
        chords: chord codes parallel to ``sequences``, for a chord-conditioned model.
        forms: form input ids [T, K] parallel to ``sequences`` (:func:`form_ids`), for a model with form inputs.
    """
    model.eval()
    sequences = sequences[shard.rank::shard.world]
    chords = chords[shard.rank::shard.world] if chords else None
    forms = forms[shard.rank::shard.world] if forms else None
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
        form = None
        if forms:
            columns = forms[0].shape[1]
            padded = np.zeros((len(group), width, columns), dtype=np.int64)
            for row, index in enumerate(order[start:start + batch_size]):
                padded[row, : len(forms[index])] = forms[index]
            form = torch.from_numpy(padded[:, :-1]).to(device)                           # [B, T-1, K]
        logits, _ = model(ids[:, :-1], condition=condition, form=form)  # [B, T-1, V]
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


def _ensure_validation(corpus: Corpus) -> None:
    """A small corpus may hash no file into validation: then hold out the last training file."""
    if corpus.sequences["valid"] or len(corpus.sequences["train"]) < 2:
        return
    corpus.sequences["valid"].append(corpus.sequences["train"].pop())
    corpus.files["valid"].append(corpus.files["train"].pop())
    corpus.metres["valid"].append(corpus.metres["train"].pop())
    if corpus.chords["train"]:
        corpus.chords["valid"].append(corpus.chords["train"].pop())


def _load_training_corpus(data_dir, vocab: Vocabulary, config: TrainConfig, out_path: Path,
                          emit: ProgressCallback, workers: int, use_cache: bool, shard: Shard = SINGLE) -> Corpus:
    """Read and split the corpus, report it, and check there is enough to train on."""
    corpus = load_corpus(data_dir, vocab, config.valid_fraction, config.test_fraction, workers=workers,
                         use_cache=use_cache, chord_labels=config.chord_labels)
    _ensure_validation(corpus)
    emit({"event": "data", "summary": corpus.summary(), "skipped": corpus.skipped,
          "seconds": corpus.stats["seconds"], "stats": corpus.stats})
    if shard.is_main:
        write_data_report(out_path, corpus.files, corpus.skipped)
    if not corpus.sequences["train"]:
        raise TrainingError(f"no usable MIDI files in {data_dir} ({len(corpus.skipped)} skipped)")
    if corpus.num_tokens("train") // config.batch_size < 2:
        raise TrainingError(f"only {corpus.num_tokens('train')} training tokens in {data_dir}: too few for a "
                            f"batch of {config.batch_size} streams; use a smaller batch size or more music")
    return corpus


class MelodyTask(TrainingTask):
    """The melody family's part of a training run: the event LM, its token stream and its scores.

    One epoch reads the training split once as a token stream folded into ``batch_size`` columns (each piece
    transposed by a random interval, pieces shuffled), in chunks of ``bptt`` steps with the recurrent state
    carried between chunks. Validation scores every piece from a fresh state, as generation starts.
    """

    kind = MELODY_KIND

    def __init__(self, config: TrainConfig, corpus: Corpus, vocab: Vocabulary, device: torch.device,
                 data_dir: str | os.PathLike, shard: Shard = SINGLE) -> None:
        self.settings, self.corpus, self.vocab, self.device, self._shard = config, corpus, vocab, device, shard
        self.rng = np.random.default_rng(config.seed)
        counts = key_counts(corpus.sequences["train"], vocab)          # the training pieces' keys, as written
        self.model = ComposerLM(config.model_config(len(vocab), counts)).to(device)
        self.trainable = distributed.wrap(self.model, shard, device)  # what the steps call
        self.optimizer = make_optimizer(self.model, config.lr, config.weight_decay,
                                        no_decay=lambda name: name.startswith("embedding"))
        steps_per_epoch = math.ceil((corpus.num_tokens("train") // config.batch_size - 1) / config.bptt)
        self.schedule = WarmupCosine(self.optimizer, config.warmup_steps, config.min_lr_ratio, steps_per_epoch,
                                     config.epochs)
        self.state, self.epoch_batches = None, steps_per_epoch
        self.form_cache: dict[str, list | None] = {}
        self.recipe = {
            "config": config.to_dict(), "data_dir": str(Path(data_dir).resolve()),
            "data_fingerprint": corpus.fingerprint, "data": corpus.summary(),
            "composer_version": composer.__version__, "torch_version": str(torch.__version__),
            "python": platform.python_version(), "device": str(device), "processes": shard.world,
            "parameters": self.model.num_parameters(),
        }

    def shard(self) -> Shard:
        return self._shard

    def start_from(self, path: str) -> None:
        """Load the weights of another model file with the same vocabulary (fine-tuning).

        The layers that file lacks (the chord projection of a model trained without chords) keep
        their initial values (zeros for the chord projection).

        Raises:
            TrainingError: the file cannot be loaded, or its vocabulary or layer shapes differ.
        """
        try:
            source = ckpt.load_checkpoint(path, kinds=(MELODY_KIND,))
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

    def batches(self, epoch: int) -> Iterator[tuple]:
        """The epoch's stream, transposed and shuffled; with several ranks, this rank's block of columns."""
        config, train = self.settings, self.corpus.sequences["train"]
        order = self.rng.permutation(len(train))
        pieces = [train[i] for i in order]
        shifts = random_shifts(pieces, self.vocab, config.transpose, self.rng)
        pieces = [transpose_ids(ids, shift, self.vocab) if shift else ids for ids, shift in zip(pieces, shifts)]
        per_rank = config.batch_size // self._shard.world
        columns = slice(self._shard.rank * per_rank, (self._shard.rank + 1) * per_rank)
        stream = batchify(pieces, config.batch_size)[columns].to(self.device)          # [B / world, N]
        forms = form_ids(self.model, self.vocab, pieces, [self.corpus.metres["train"][i] for i in order])
        form_chunks = None
        if forms is not None:
            form_chunks = (inputs for inputs, _ in chunks(batchify(forms, config.batch_size)[columns],
                                                          config.bptt))                  # [B, t, K] each
        chord_chunks = None
        if self.corpus.chords["train"]:
            codes = [transpose_codes(self.corpus.chords["train"][i], shift) for i, shift in zip(order, shifts)]
            dropped = self.rng.random(len(codes)) < config.chord_dropout   # shown with "no chord" this epoch
            codes = [np.full_like(c, NO_CHORD) if drop else c for c, drop in zip(codes, dropped)]
            chord_chunks = (inputs for inputs, _ in chunks(batchify(codes, config.batch_size)[columns], config.bptt))
        self.state, self.epoch_batches = None, math.ceil((stream.size(1) - 1) / config.bptt)
        return self._chunks(stream, chord_chunks, form_chunks)

    def _chunks(self, stream: torch.Tensor, chord_chunks, form_chunks) -> Iterator[tuple]:
        for inputs, targets in chunks(stream, self.settings.bptt):                     # [B, t] each
            condition = form = None
            if chord_chunks is not None:
                condition = condition_vectors(next(chord_chunks)).to(self.device)     # [B, t, 25]
            if form_chunks is not None:
                form = next(form_chunks).to(self.device)                               # [B, t, K]
            yield inputs, targets, condition, form

    def batches_per_epoch(self) -> int:
        return self.epoch_batches

    def step(self, batch: tuple) -> StepResult:
        inputs, targets, condition, form = batch
        logits, state = self.trainable(inputs, self.state, condition=condition, form=form)  # [B, t, V]
        self.state = detach_state(state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                                           ignore_index=PAD)
        return StepResult(loss, int((logits.argmax(-1) == targets).sum()), targets.numel())

    def validate(self) -> tuple[float, dict]:
        valid = evaluate(self.model, self.corpus.sequences["valid"], self.device, self.settings.batch_size,
                         self._shard, self.corpus.chords["valid"], self._forms("valid"))
        return valid.loss, valid.to_dict()

    def _forms(self, split: str) -> list | None:
        """Form input ids of a held-out split (computed once)."""
        if split not in self.form_cache:
            self.form_cache[split] = form_ids(self.model, self.vocab, self.corpus.sequences[split],
                                              self.corpus.metres[split])
        return self.form_cache[split]

    def history_fields(self, train: Metrics, valid: dict) -> dict:
        return {"train_perplexity": train.perplexity, "train_accuracy": train.accuracy,
                "valid_perplexity": valid["perplexity"], "valid_accuracy": valid["accuracy"]}

    def checkpoint_fields(self) -> dict:
        return {"vocabulary": self.vocab.to_dict()}

    def finish(self, checkpoint: dict) -> None:
        """Score the best weights on the test split."""
        if self.corpus.sequences["test"]:
            test = evaluate(self.model, self.corpus.sequences["test"], self.device, self.settings.batch_size,
                            self._shard, self.corpus.chords["test"], self._forms("test"))
            checkpoint["metrics"] = {**checkpoint["metrics"], "test": test.to_dict()}


def train(data_dir: str | os.PathLike, out_path: str | os.PathLike, config: TrainConfig = TrainConfig(),
          resume: bool = False, progress: ProgressCallback | None = None,
          should_stop: Callable[[], bool] | None = None, workers: int = 0, use_cache: bool = True) -> dict:
    """Train a melody model on a folder of MIDI files and write the model file.

    The model file is rewritten after every epoch (best weights for generation, plus the last epoch's
    state for ``resume``), and also when training is interrupted (Ctrl-C or ``should_stop``).

    Args:
        data_dir: corpus folder.
        out_path: model file to write (and, with ``resume``, to continue from).
        config: the recipe; with ``resume`` the file's own recipe is used instead.
        resume: continue the run saved in ``out_path``.
        progress: called with event dicts (see :mod:`composer.core.training`) and ``{"event": "data", ...}``.
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
    previous = load_for_resume(out_path, MELODY_KIND) if resume else None
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
    vocab = Vocabulary(config.encoding_config())
    if not shard.is_main:
        distributed.barrier(shard)  # let rank 0 prepare (and cache) the corpus first
    corpus = _load_training_corpus(data_dir, vocab, config, out_path, emit, workers, use_cache, shard)
    if shard.is_main:
        distributed.barrier(shard)
    task = MelodyTask(config, corpus, vocab, device, data_dir, shard)
    trainer = Trainer(task, out_path, emit, should_stop)
    if previous is not None:
        if previous["recipe"]["data_fingerprint"] != corpus.fingerprint:
            emit({"event": "warning", "message": "the data folder changed since this run started"})
        trainer.restore(previous)
    elif config.init_from:
        task.start_from(config.init_from)
    return trainer.run()
