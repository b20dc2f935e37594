"""The model pickers of the Compose panel: which melody and harmony models the app offers, adding one,
and loading the models in the background at start-up (:meth:`ModelPicker.start_loading`, :mod:`gui.model_loader`).

A model file that cannot be used (damaged, not a Composer model, another format version) is listed in the model
picker, greyed out, with the reason in its tooltip, instead of being silently left out.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from gui.messages import Messages
from gui.model_loader import ModelLoader, choose_melody_model
from gui.models import (
    HARMONY_KIND,
    MELODY_KIND,
    ModelEntry,
    ModelProblem,
    ModelStore,
    find_models,
)
from gui.settings import AppSettings

if TYPE_CHECKING:   # the panel's module imports the generation library (torch) for its defaults
    from gui.generate_panel import GeneratePanel

MODEL_FILTER = "Composer models (*.pt);;All files (*)"
LOADING_TEXT = "Loading models..."
UNUSABLE = " (cannot be used)"   # after the label of a model file that cannot be used


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
        problems: the model files found that cannot be used, with the reason of each.
        ready: the pickers are filled and the start-up load (:meth:`start_loading`) has ended.

    Signals:
        modelsReady(): the background start-up load has ended (the selected melody model is loaded).
    """

    modelsReady = Signal()

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
        self.problems: list[ModelProblem] = []
        self.ready = True
        self.loader: ModelLoader | None = None
        self._held_actions: list[tuple[QAction, bool]] = []
        self._refreshed_while_loading = False
        panel.model_combo.currentIndexChanged.connect(self._model_changed)

    def refresh_models(self, select: str | None = None) -> list[ModelEntry]:
        """Find the shipped, added and trained models (reading them on this thread); fill the model picker with the
        melody models and those that cannot be used.

        Args:
            select: the melody model to select (default: the current one, else the last used, else "melody").

        Returns:
            Every usable model found.
        """
        entries, problems = find_models(self.store, self._folders(), self.settings.extra_models())
        self._fill(entries, problems, select)
        if not self.ready:
            self._refreshed_while_loading = True   # newer than what the background load will report
        return entries

    def start_loading(self, actions: list[QAction] | tuple[QAction, ...] = ()) -> None:
        """Fill the pickers in the background: they say "Loading models..." (Generate, Harmonize and ``actions``
        disabled) until the files are read on :class:`~gui.model_loader.ModelLoader`'s thread; then the selected
        melody model is loaded there too, and :attr:`modelsReady` is emitted.

        Args:
            actions: window actions that need a model (Generate...), disabled until the models are listed.
        """
        self.ready = False
        self._refreshed_while_loading = False
        panel = self.panel
        panel.set_models([])
        panel.model_combo.blockSignals(True)
        panel.model_combo.insertItem(0, LOADING_TEXT, None)
        panel.model_combo.model().item(0).setEnabled(False)
        panel.model_combo.setCurrentIndex(0)
        panel.model_combo.blockSignals(False)
        panel.harmony_combo.clear()
        panel.harmony_combo.setPlaceholderText(LOADING_TEXT)
        for button in (panel.generate_button, panel.harmonize_button, panel.regenerate_button, panel.chorale_button):
            button.setEnabled(False)
        self._held_actions = [(action, action.isEnabled()) for action in actions]
        for action, _enabled in self._held_actions:
            action.setEnabled(False)
        self.loader = ModelLoader(self.store, self._folders(), self.settings.extra_models(),
                                  self.settings.last_model(), self._quiet_load)
        self.loader.found.connect(self._models_found, Qt.ConnectionType.QueuedConnection)
        self.loader.finished.connect(self._loading_finished, Qt.ConnectionType.QueuedConnection)
        self.loader.start()

    def _models_found(self, entries: list[ModelEntry], problems: list[ModelProblem]) -> None:
        """The background load's list (on the GUI thread): fill the pickers, give the held actions back."""
        if not self._refreshed_while_loading:   # a model added meanwhile refreshed the lists already
            self._fill(entries, problems, None)
        for action, enabled in self._held_actions:
            action.setEnabled(enabled)
        self._held_actions = []
        if problems:
            names = ", ".join(Path(problem.path).name for problem in problems)
            self.messages.show_message(f"{len(problems)} model file(s) cannot be used ({names}): "
                                       "see the Model list")

    def _loading_finished(self) -> None:
        self.ready = True
        self.modelsReady.emit()

    def _folders(self) -> list[Path]:
        return self.folders + [self.user_models_dir]

    def _fill(self, entries: list[ModelEntry], problems: list[ModelProblem], select: str | None) -> None:
        """Put ``entries`` into the pickers (the unusable ``problems`` greyed out in the model picker)."""
        self.melody_models = [e for e in entries if e.kind == MELODY_KIND]
        self.harmony_models = [e for e in entries if e.kind == HARMONY_KIND]
        self.problems = list(problems)
        wanted = select or self.panel.model_path() or self.settings.last_model()
        self.panel.set_models([(e.label, e.path) for e in self.melody_models],
                              choose_melody_model(self.melody_models, wanted))
        combo = self.panel.model_combo
        combo.blockSignals(True)
        for problem in self.problems:   # before "Add model file..."
            index = combo.count() - 1
            combo.insertItem(index, problem.label + UNUSABLE, None)
            combo.setItemData(index, f"{problem.path}: {problem.reason}", Qt.ItemDataRole.ToolTipRole)
            combo.model().item(index).setEnabled(False)
        combo.blockSignals(False)
        self.panel.set_harmony_models([(e.label, e.path) for e in self.harmony_models])
        self._model_changed()

    def add_model(self, path: str | os.PathLike) -> bool:
        """Add a model file to the pickers (remembered); melody models become the selected one."""
        try:
            kind = self.store.kind(path)
        except Exception as error:  # noqa: BLE001 - ModelFileError and any other: the message says why
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
                except Exception:  # noqa: BLE001, S112 - an unreadable file is left out of the About box
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
        except Exception:  # noqa: BLE001, S110 - reported when the user generates
            pass

    def _model_changed(self, _index: int = -1) -> None:
        """Offer chords only for a model trained with them."""
        path = self.panel.model_path()
        supported = False
        if path:
            try:
                supported = self.store.checkpoint(path)["model_config"].get("condition_size", 0) > 0
            except Exception:  # noqa: BLE001 - an unreadable file: generation will say why
                supported = False
        self.panel.set_chords_supported(supported)
