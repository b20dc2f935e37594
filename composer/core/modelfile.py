"""Model files: one plain dict per file, written atomically, loaded without running code.

A model file holds::

    format_version   int, FORMAT_VERSION
    kind             "composer-model"
    model_config     ModelConfig as a dict
    vocabulary       Vocabulary.to_dict(): encoding settings and token names
    model_state      weights with the best validation loss (used for generation)
    metrics          validation (and test) loss, perplexity, accuracy of those weights
    recipe           training config, data folder, data fingerprint, file counts, versions
    history          per-epoch rows of the learning curve
    epoch            epochs completed
    resume           (absent once stripped) last epoch's weights, optimizer, scheduler, RNG, patience

Only tensors, numbers, strings, lists and dicts: ``torch.load(..., weights_only=True)`` reads it, so a
model file from a stranger cannot run code.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from composer.core.atomic import write_atomically
from composer.melody.encoding import Vocabulary
from composer.melody.model import ComposerLM, ModelConfig

FORMAT_VERSION = 1
KIND = "composer-model"
# Every kind of Composer model file, and what to call it in messages. Each kind has its own loader;
# they all read files through load_checkpoint.
KIND_NAMES = {
    KIND: "melody (event) model file",
    "composer-harmony-model": "4-part harmony model file",
    "composer-polyphonic-model": "polyphonic benchmark model file",
}


class ModelFileError(Exception):
    """A model file is missing, corrupt, unsafe, or of another format version."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot load model file {self.path}: {reason}")


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> None:
    """Write a checkpoint dict atomically: the old file stays whole until the new one is complete.

    Args:
        checkpoint: the dict (see the module docstring).
        path: destination file.
    """
    write_atomically(path, lambda handle: torch.save(checkpoint, handle))


def load_checkpoint(path: str | os.PathLike, kinds: tuple[str, ...] = (KIND,)) -> dict:
    """Read a model file safely.

    Args:
        path: the model file.
        kinds: the kinds of model file the caller can use (see ``KIND_NAMES``).

    Raises:
        ModelFileError: missing or unreadable file, content that is not plain data (a pickle that
            would run code is refused unrun), not a Composer model, or a format version this
            version of Composer does not read.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    with open(path, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":  # torch.save writes a zip archive
            raise ModelFileError(path, "not a model file (Composer model files are PyTorch zip archives)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        text = str(error)
        if "Unsupported global" in text or "Unsupported operand" in text or "GLOBAL" in text:
            reason = "it holds objects other than plain data (refused without running them)"
        else:
            lines = [line for line in text.splitlines() if line.strip()]
            reason = f"corrupt or unreadable ({lines[-1].strip() if lines else type(error).__name__})"
        raise ModelFileError(path, reason) from None
    kind = checkpoint.get("kind") if isinstance(checkpoint, dict) else None
    if kind not in KIND_NAMES:
        raise ModelFileError(path, "not a Composer model file")
    if kind not in kinds:
        wanted = " or ".join(KIND_NAMES[k] for k in kinds)
        raise ModelFileError(path, f"it is a {KIND_NAMES[kind]}; this needs a {wanted}")
    version = checkpoint.get("format_version")
    if version != FORMAT_VERSION:
        hint = "newer Composer" if isinstance(version, int) and version > FORMAT_VERSION else "older Composer"
        raise ModelFileError(path, f"format version {version}; this Composer reads version {FORMAT_VERSION} "
                                   f"(the file was written by a {hint})")
    return checkpoint


def build_model(checkpoint: dict, weights: str = "model_state") -> tuple[ComposerLM, Vocabulary]:
    """The model and vocabulary a checkpoint describes, with its weights loaded, in eval mode.

    Args:
        checkpoint: a dict from :func:`load_checkpoint`.
        weights: ``model_state`` (best) or ``resume`` (last epoch, for resuming training).
    """
    vocab = Vocabulary.from_dict(checkpoint["vocabulary"])
    model = ComposerLM(ModelConfig.from_dict(checkpoint["model_config"]))
    state = checkpoint["resume"]["model_state"] if weights == "resume" else checkpoint["model_state"]
    model.load_state_dict(state)
    model.eval()
    return model, vocab


def load_model(path: str | os.PathLike) -> tuple[ComposerLM, Vocabulary, dict]:
    """Load a model file for generation.

    Returns:
        (model in eval mode on the CPU, its vocabulary, the checkpoint dict).

    Raises:
        ModelFileError: see :func:`load_checkpoint`; also weights that do not fit the config.
    """
    checkpoint = load_checkpoint(path)
    try:
        model, vocab = build_model(checkpoint)
    except (KeyError, ValueError, RuntimeError) as error:
        raise ModelFileError(path, f"inconsistent contents: {error}") from None
    return model, vocab, checkpoint


def strip_checkpoint(checkpoint: dict) -> dict:
    """A copy without the resume state (optimizer and last-epoch weights), for shipping a model."""
    return {k: v for k, v in checkpoint.items() if k != "resume"}
