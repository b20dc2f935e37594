"""Reading the model files at start-up on a background thread, so the window shows first.

Reading every model file in the models folders (to learn its kind: melody, harmony...) took ~0.2-0.4 s on the GUI
thread before the window appeared, and the first read imports PyTorch (seconds). :class:`ModelLoader` does both on a
thread of its own, then loads the melody model that will be selected (so the first Generate starts at once), and
reports to the GUI thread with queued signals; :class:`~gui.model_picker.ModelPicker` shows "Loading models..."
until then.

Only Qt and the Python standard library are imported here, never torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.models import MELODY_KIND, ModelEntry, ModelProblem, ModelStore, find_models

DEFAULT_MELODY = "melody"   # the shipped default melody model's label (melody.pt)


def choose_melody_model(melody_models: list[ModelEntry], wanted: str | None) -> str | None:
    """The melody model the picker selects: ``wanted`` (the current or last used one) when it is among
    ``melody_models``, else the shipped default ("melody"), else the first; None when there is none."""
    paths = [entry.path for entry in melody_models]
    if wanted and wanted in paths:
        return wanted
    if wanted:
        resolved = str(Path(wanted).resolve())
        if resolved in paths:
            return resolved
    default = next((entry.path for entry in melody_models if entry.label == DEFAULT_MELODY), None)
    return default or (paths[0] if paths else None)


class ModelLoader(QObject):
    """Finds and reads the model files on a background thread.

    Args:
        store: reads and caches the files (thread-safe; the window's jobs use the same cache).
        folders: searched for ``*.pt``.
        extra: the user's added model files.
        wanted: the melody model to select when it is found (the last one used), or None.
        preload: called on the thread with the path of the melody model that will be selected, to load it.

    Signals:
        found(list, list): the :class:`~gui.models.ModelEntry` list and the :class:`~gui.models.ModelProblem` list
            (files that cannot be used, with the reason of each).
        finished(): the selected melody model has been loaded too (or failed to; its problem is reported when
            the user generates).

    The thread is not a daemon: interpreter exit waits for it rather than killing torch mid-load (which aborts);
    ``composer-gui`` ends its process without waiting (:func:`gui.app.exit_now`).
    """

    found = Signal(object, object)
    finished = Signal()

    def __init__(self, store: ModelStore, folders: list[Path], extra: list[str], wanted: str | None,
                 preload: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.store = store
        self.folders = list(folders)
        self.extra = list(extra)
        self.wanted = wanted
        self.preload = preload
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start reading on the background thread (once)."""
        self.thread = threading.Thread(target=self.run, name="composer-model-loader", daemon=False)
        self.thread.start()

    def run(self) -> None:
        """Read the files, report them, load the selected melody model, report the end (the thread's work)."""
        try:
            try:
                entries, problems = find_models(self.store, self.folders, self.extra)
            except Exception as error:  # noqa: BLE001 - the pickers must leave "Loading models..." whatever happens
                where = str(self.folders[0]) if self.folders else ""
                entries, problems = [], [ModelProblem("models", where, f"cannot list the model files: {error}")]
            self.found.emit(entries, problems)
            path = choose_melody_model([e for e in entries if e.kind == MELODY_KIND], self.wanted)
            if path and self.preload is not None:
                self.preload(path)
            self.finished.emit()
        except RuntimeError:  # the window closed while loading: this QObject's C++ side is gone, nobody to tell
            return
