"""Training: the run itself (a job for the training dialog's :class:`~gui.jobs.worker.Worker`), and
opening the training dialog from the window so that a finished model joins the model picker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from gui.jobs.worker import Job, JobControl
from gui.messages import Messages
from gui.optional import optional
from gui.settings import AppSettings

if TYPE_CHECKING:
    from composer.melody.train import TrainConfig


def training_job(data_dir: str, out_path: str, config: TrainConfig, resume: bool, threads: int) -> Job:
    """A job that runs :func:`composer.melody.train.train`.

    Args:
        data_dir: the MIDI folder.
        out_path: the model file.
        config: the recipe (ignored by the trainer when resuming: the file's own is used).
        resume: continue the run saved in ``out_path``.
        threads: torch CPU threads during the run (and corpus preparation processes).

    Returns:
        The job. The trainer's progress dicts go to ``control.report``; a cancel asks the trainer to stop
        after the current step (it then saves a resumable model file).
    """

    def job(control: JobControl) -> dict:
        import torch

        from composer.melody.train import train

        previous_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return train(data_dir, out_path, config, resume=resume, progress=control.report,
                         should_stop=control.should_stop, workers=threads)
        finally:
            torch.set_num_threads(previous_threads)

    return job


def training_error_message(error: Exception, _label: str = "Training") -> str:
    """The training dialog's message for an error of the run (the dialog must survive anything)."""
    from composer.core.modelfile import ModelFileError
    from composer.melody.train import TrainingError

    if isinstance(error, (TrainingError, ModelFileError)):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return f"Not found: {error.filename or error}"
    if isinstance(error, (OSError, ValueError)):
        return f"Training stopped: {error}"
    return f"Training failed unexpectedly: {type(error).__name__}: {error}"


class TrainLauncher(QObject):
    """Opens the training dialog; a model it finishes is added with ``add_model``.

    Args:
        settings: remembers the last MIDI folder trained on.
        models_dir: where new model files go by default (created when the dialog opens).
        add_model: called with the path of a finished model file.
        messages: where errors go.
        dialog_parent: the window the dialog belongs to.
    """

    def __init__(self, settings: AppSettings, models_dir: str | os.PathLike, add_model: Callable[[str], bool],
                 messages: Messages, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.settings = settings
        self.models_dir = Path(models_dir)
        self.add_model = add_model
        self.messages = messages
        self.dialog_parent = dialog_parent
        self.dialog: QWidget | None = None

    def open_dialog(self) -> QWidget | None:
        """Open the training dialog (non-modal). Returns it, or None when this build has none."""
        dialog_class = optional("train_dialog", "TrainDialog")
        if dialog_class is None:
            self.messages.show_error("Cannot train", "the training dialog is not available in this build")
            return None
        self.models_dir.mkdir(parents=True, exist_ok=True)
        dialog = dialog_class(self.dialog_parent, default_folder=self.settings.value("train/folder", None, str),
                              models_dir=str(self.models_dir))
        dialog.modelTrained.connect(self.add_model)
        if hasattr(dialog, "folderChosen"):
            dialog.folderChosen.connect(lambda folder: self.settings.set_value("train/folder", folder))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()
        self.dialog = dialog
        return dialog
