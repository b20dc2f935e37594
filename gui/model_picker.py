"""The model pickers of the Compose panel: which melody and harmony models the app offers, adding one,
and loading the default melody model in the background at start-up."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from composer.core.modelfile import MELODY_KIND
from gui.generate_panel import GeneratePanel
from gui.messages import Messages
from gui.models import HARMONY_KIND, ModelEntry, ModelStore, discover_models
from gui.settings import AppSettings

MODEL_FILTER = "Composer models (*.pt);;All files (*)"


class ModelPicker(QObject):
    """Fills the panel's model pickers and keeps them up to date.

    Args:
        store: reads and caches the model files.
        panel: the Compose panel with the pickers.
        settings: the models the user added and the last one used.
        folders: searched for ``*.pt`` models (default: the shipped folder).
        user_models_dir: the user's trained models (searched too, and where "Add model file" starts).
        messages: where messages and errors go.
        window: the window the file dialog belongs to.

    Attributes:
        melody_models, harmony_models: what the pickers offer (after :meth:`refresh_models`).
    """

    def __init__(self, store: ModelStore, panel: GeneratePanel, settings: AppSettings, folders: list[Path],
                 user_models_dir: Path, messages: Messages, window: QWidget) -> None:
        super().__init__(window)
        self.store = store
        self.panel = panel
        self.settings = settings
        self.folders = list(folders)
        self.user_models_dir = user_models_dir
        self.messages = messages
        self.window = window
        self.melody_models: list[ModelEntry] = []
        self.harmony_models: list[ModelEntry] = []
        panel.model_combo.currentIndexChanged.connect(self._model_changed)

    def refresh_models(self, select: str | None = None) -> list[ModelEntry]:
        """Find the shipped, added and trained models; fill the model picker with the melody models.

        Args:
            select: the melody model to select (default: the current one, else the last used, else "melody").

        Returns:
            Every model found.
        """
        entries = discover_models(self.store, self.folders + [self.user_models_dir], self.settings.extra_models())
        self.melody_models = [e for e in entries if e.kind == MELODY_KIND]
        self.harmony_models = [e for e in entries if e.kind == HARMONY_KIND]
        current = select or self.panel.model_path() or self.settings.last_model()
        default = next((e.path for e in self.melody_models if e.label == "melody"), None)
        self.panel.set_models([(e.label, e.path) for e in self.melody_models], current or default)
        self.panel.set_harmony_models([(e.label, e.path) for e in self.harmony_models])
        self._model_changed()
        return entries

    def add_model(self, path: str | os.PathLike) -> bool:
        """Add a model file to the pickers (remembered); melody models become the selected one."""
        try:
            kind = self.store.kind(path)
        except Exception as error:  # ModelFileError: the message says why
            self.messages.show_error("Cannot use this model", str(error))
            return False
        self.settings.add_model(path)
        self.refresh_models(select=str(Path(path).resolve()) if kind == MELODY_KIND else None)
        if kind == MELODY_KIND and self.panel.model_path():  # the choice is kept at once (a crash loses nothing)
            self.settings.set_last_model(self.panel.model_path())
            self.settings.sync()
        self.messages.show_message(f"Added model {Path(path).name}")
        return True

    def add_model_dialog(self) -> None:
        """Ask for a model file (starting in the user's models folder), then add it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Add model file", str(self.user_models_dir), MODEL_FILTER)
        if path:
            self.add_model(path)

    def loaded_models(self) -> list[tuple[str, dict]]:
        """(name, checkpoint) of the selected melody model and the harmony model, for the About box."""
        models = []
        for path in (self.panel.model_path(), self.panel.harmony_model_path()):
            if path:
                try:
                    models.append((Path(path).name, self.store.checkpoint(path)))
                except Exception:
                    continue
        return models

    def preload_default_model(self) -> None:
        """Load the selected melody model on a background thread, so the first Generate starts at once."""
        path = self.panel.model_path()
        if path:
            # not a daemon: interpreter exit waits for it rather than killing torch mid-load (which aborts)
            threading.Thread(target=self._quiet_load, args=(path,), daemon=False).start()

    def _quiet_load(self, path: str) -> None:
        try:
            self.store.melody(path)
        except Exception:
            pass  # reported when the user generates

    def _model_changed(self, _index: int = -1) -> None:
        """Offer chords only for a model trained with them."""
        path = self.panel.model_path()
        supported = False
        if path:
            try:
                supported = self.store.checkpoint(path)["model_config"].get("condition_size", 0) > 0
            except Exception:  # an unreadable file: generation will say why
                supported = False
        self.panel.set_chords_supported(supported)
