"""Training: the run in a child process (a :class:`~gui.jobs.process.ProcessWorker` for the training dialog), and
opening the training dialog from the window so that a finished model joins the model picker.

The run itself is :func:`gui.jobs.tasks.train_model`, in a process of its own so that the trainer's Python never
holds the GUI thread's interpreter; its messages for errors are :func:`gui.jobs.errors.training_error_message`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from gui.jobs.errors import training_error_message
from gui.jobs.process import ProcessWorker
from gui.jobs.tasks import TRAIN_MODEL
from gui.messages import Messages
from gui.optional import optional
from gui.settings import AppSettings

if TYPE_CHECKING:
    from composer.melody.train import TrainConfig

__all__ = ["TrainLauncher", "training_error_message", "training_process"]

TRAINING_ERRORS = "gui.jobs.errors:training_error_message"


def training_process(data_dir: str, out_path: str, config: TrainConfig, resume: bool, threads: int,
                     parent: QObject | None = None) -> ProcessWorker:
    """A worker (not started) that runs :func:`composer.melody.train.train` in a child process.

    Args:
        data_dir: the MIDI folder.
        out_path: the model file.
        config: the recipe (ignored by the trainer when resuming: the file's own is used).
        resume: continue the run saved in ``out_path``.
        threads: torch CPU threads during the run (and corpus preparation processes).
        parent: Qt parent of the worker.

    Returns:
        The worker. The trainer's progress dicts come as ``report``; ``cancel`` asks the trainer to stop after the
        current step (it then saves a resumable model file); ``kill`` ends the run at once (the model file keeps
        its last complete save: the trainer writes it atomically). Errors come as one-line ``failed`` messages.
    """
    return ProcessWorker(TRAIN_MODEL, (str(data_dir), str(out_path), config, bool(resume), int(threads)),
                         "Training", parent, describe_error=TRAINING_ERRORS,
                         on_ended=lambda worker: worker.killed and remove_unfinished_writes(out_path))


def remove_unfinished_writes(out_path: str | os.PathLike) -> None:
    """Delete the temporary files a killed run left beside its model file (an atomic write it did not finish:
    ``.NAME.*.tmp``, :func:`composer.core.atomic.write_atomically`). The model file itself is never touched."""
    path = Path(out_path)
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            temp.unlink(missing_ok=True)
        except OSError:
            pass  # left for the next write of the model file, which removes stale ones


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
