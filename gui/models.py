"""Finding and loading model files for the GUI (thread-safe cache; loading may happen in a worker).

Importing this module does not import PyTorch: the model-file code (:mod:`composer.core.modelfile`, which needs it)
is imported when a file is first read, which at start-up happens on the background loader's thread
(:mod:`gui.model_loader`), so the window can show before the seconds PyTorch takes to import.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from composer.shipped import MODELS as SHIPPED_MODELS_DIR  # noqa: F401 (the window imports it from here)

# The kind strings of composer.core.modelfile (which imports torch); tests/gui/test_startup.py keeps them equal
MELODY_KIND = "composer-model"
HARMONY_KIND = "composer-harmony-model"


@dataclass(frozen=True)
class ModelEntry:
    """A model file the app can offer."""

    label: str
    path: str
    kind: str      # a key of composer.core.modelfile.KIND_NAMES


@dataclass(frozen=True)
class ModelProblem:
    """A model file found in a models folder (or added before) that cannot be used, and why."""

    label: str
    path: str
    reason: str    # one line, from the ModelFileError


def _file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    """A cache key that changes when the file is rewritten (a model trained again, or resumed)."""
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError:
        return str(resolved), 0, 0
    return str(resolved), stat.st_mtime_ns, stat.st_size


class ModelStore:
    """Loads each model file once (again when the file changes) and keeps it. Safe to call from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checkpoints: dict[str, dict] = {}
        self._melody: dict[str, tuple] = {}
        self._harmony: dict[str, object] = {}

    def checkpoint(self, path: str | os.PathLike) -> dict:
        """The checkpoint dict of any kind of Composer model file.

        Raises:
            ModelFileError: not a usable model file.
        """
        from composer.core.modelfile import KIND_NAMES, load_checkpoint

        key = _file_key(path)
        with self._lock:
            if key not in self._checkpoints:
                self._checkpoints[key] = load_checkpoint(key[0], kinds=tuple(KIND_NAMES))
            return self._checkpoints[key]

    def kind(self, path: str | os.PathLike) -> str:
        return self.checkpoint(path)["kind"]

    def melody(self, path: str | os.PathLike) -> tuple:
        """(model, vocab, checkpoint) of a melody model file.

        Raises:
            ModelFileError: not a melody model file, or broken.
        """
        from composer.core.modelfile import KIND_NAMES, ModelFileError
        from composer.melody.model import from_checkpoint

        key = _file_key(path)
        checkpoint = self.checkpoint(path)
        if checkpoint["kind"] != MELODY_KIND:
            raise ModelFileError(key[0], f"it is a {KIND_NAMES[checkpoint['kind']]}; generating melodies needs "
                                      f"a {KIND_NAMES[MELODY_KIND]}")
        with self._lock:
            if key not in self._melody:
                try:
                    loaded = from_checkpoint(checkpoint)
                    model, vocab = loaded.net, loaded.vocab
                except (KeyError, ValueError, RuntimeError) as error:
                    raise ModelFileError(key[0], f"inconsistent contents: {error}") from None
                self._melody[key] = (model, vocab, checkpoint)
            return self._melody[key]

    def harmony(self, path: str | os.PathLike | None):
        """The harmony model (composer.harmony.inference.load_harmony_model) at ``path``; None: the shipped one."""
        from composer.harmony.inference import load_harmony_model

        key = _file_key(path) if path else ("", 0, 0)
        with self._lock:
            if key not in self._harmony:
                self._harmony[key] = load_harmony_model(key[0] or None)
            return self._harmony[key]


def discover_models(store: ModelStore, folders: list[Path], extra: list[str]) -> list[ModelEntry]:
    """Every loadable model file in ``folders`` (``*.pt``) and in ``extra``, with its kind.

    Files that do not load are left out (the app cannot use them); :func:`find_models` says why.
    """
    return find_models(store, folders, extra)[0]


def find_models(store: ModelStore, folders: list[Path],
                extra: list[str]) -> tuple[list[ModelEntry], list[ModelProblem]]:
    """Read every model file in ``folders`` (``*.pt``) and in ``extra`` (each once, in that order).

    Args:
        store: reads and caches the files (safe on a worker thread).
        folders: searched for ``*.pt``; a missing folder is skipped.
        extra: more model files (the user's added models).

    Returns:
        (the loadable files with their kinds, the files that cannot be used with the reason of each).
    """
    from composer.core.modelfile import ModelFileError

    paths: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            paths.extend(sorted(folder.glob("*.pt")))
    paths.extend(Path(p) for p in extra)
    entries, problems, seen = [], [], set()
    for path in paths:
        key = str(path.resolve())
        if key in seen:
            continue
        seen.add(key)
        try:
            kind = store.kind(path)
        except ModelFileError as error:
            problems.append(ModelProblem(path.stem, key, error.reason))
            continue
        except Exception as error:  # noqa: BLE001 - one unreadable file never hides the others
            problems.append(ModelProblem(path.stem, key, f"{type(error).__name__}: {error}"[:300]))
            continue
        entries.append(ModelEntry(path.stem, key, kind))
    return entries, problems
