"""Model files: one plain dict per file, written atomically, loaded without running code.

Every model family writes the same shape; the registry ``KINDS`` says, for each ``kind`` string, what to
call the file and which function of the family builds the model, so a command loads a file once
(:func:`load_model_file`) and dispatches on what it got. A melody model file holds::

    format_version   int, FORMAT_VERSION
    kind             one of KINDS: "composer-model" (melody), "composer-harmony-model", ...
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

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from composer.core.atomic import write_atomically

FORMAT_VERSION = 1

# The kind strings saved in model files (one per model family), defined here and nowhere else.
MELODY_KIND = "composer-model"
HARMONY_KIND = "composer-harmony-model"
POLYPHONIC_KIND = "composer-polyphonic-model"


@dataclass(frozen=True)
class ModelKind:
    """One kind of model file: what to call it, and the function that builds a usable model from its dict.

    Attributes:
        kind: the ``kind`` string saved in the file.
        description: what to call such a file in messages.
        builder: ``"module:function"`` taking ``(checkpoint, path)`` and returning the family's loaded model
            (imported only when a file of this kind is loaded, so this module depends on no family).
    """

    kind: str
    description: str
    builder: str

    def build(self, checkpoint: dict, path: str | os.PathLike):
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)(checkpoint, path)


KINDS = {k.kind: k for k in (
    ModelKind(MELODY_KIND, "melody (event) model file", "composer.melody.model:from_checkpoint"),
    ModelKind(HARMONY_KIND, "4-part harmony model file", "composer.harmony.model:from_checkpoint"),
    ModelKind(POLYPHONIC_KIND, "polyphonic benchmark model file", "composer.polyphonic.model:from_checkpoint"),
)}
KIND_NAMES = {kind: entry.description for kind, entry in KINDS.items()}   # kind -> what to call it


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


def load_checkpoint(path: str | os.PathLike, kinds: tuple[str, ...] = tuple(KINDS)) -> dict:
    """Read a model file safely.

    Args:
        path: the model file.
        kinds: the kinds of model file the caller can use (default: any; see ``KINDS``).

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


def load_model_file(path: str | os.PathLike, kinds: tuple[str, ...] = tuple(KINDS)):
    """Read a model file once and build the model its kind describes (weights loaded, eval mode, CPU).

    Args:
        path: the model file.
        kinds: the kinds the caller can use (default: any).

    Returns:
        The family's loaded model: :class:`composer.melody.model.MelodyModel`,
        :class:`composer.harmony.model.HarmonyModel` or :class:`composer.polyphonic.model.PolyphonicModel`;
        each has ``net``, ``checkpoint`` and ``path``.

    Raises:
        ModelFileError: see :func:`load_checkpoint`; also contents that do not fit together.
    """
    checkpoint = load_checkpoint(path, kinds)
    try:
        return KINDS[checkpoint["kind"]].build(checkpoint, path)
    except (KeyError, ValueError, TypeError, RuntimeError, AttributeError) as error:
        raise ModelFileError(path, f"inconsistent contents: {error}") from None


def strip_checkpoint(checkpoint: dict) -> dict:
    """A copy without the resume state (optimizer and last-epoch weights), for shipping a model."""
    return {k: v for k, v in checkpoint.items() if k != "resume"}
