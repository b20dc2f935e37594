"""The "Train a model" dialog's choices: the recipe presets, the MIDI folder's note, the model file's resume state,
and :class:`TrainChoices`, the part of :class:`gui.train_dialog.TrainDialog` that keeps the form consistent (the
model file named after the folder, Resume offered only for an unfinished run, the epochs following the preset) and
checks it before a run. No widget is made here; the dialog builds them (see :class:`TrainChoices` for the ones it
uses).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from composer.core.corpus_files import count_splits
from composer.melody.train import TrainConfig
from gui.jobs.tasks import resume_summary

from composer.shipped import MODELS

DEFAULT_RECIPE = MODELS / "melody.json"
MIN_VALID_FILES = 5  # fewer validation files make the validation loss (early stop, the best model) unreliable
COUNT_LIMIT = 200_000  # folder entries looked at when a folder is chosen (a bigger tree is counted by the run)
WARNING_STYLE = "color: #e65100;"

TINY = TrainConfig.of(embedding_size=16, hidden_size=16, num_layers=1, dropout=0.0, epochs=2, batch_size=4, bptt=32,
                   lr=1e-2, warmup_steps=5, patience=5, transpose=(-1, 1), key_tokens=True, device="cpu")
SMALL = TrainConfig.of(embedding_size=64, hidden_size=128, num_layers=2, dropout=0.1, epochs=20, batch_size=16,
                    bptt=64, lr=3e-3, warmup_steps=50, patience=4, key_tokens=True)


def default_recipe() -> TrainConfig:
    """The shipped melody recipe (``midi_data/models/melody.json``); the library defaults if it is missing."""
    try:
        return TrainConfig.from_dict(json.loads(DEFAULT_RECIPE.read_text()))
    except (OSError, ValueError):
        return TrainConfig.of(key_tokens=True)


# label -> recipe maker, in the order of the picker
PRESETS = {
    "Tiny (a quick test, seconds)": lambda: TINY,
    "Small (minutes)": lambda: SMALL,
    "Default (the shipped melody recipe)": default_recipe,
}


def resume_state(path: str | os.PathLike) -> dict | None:
    """``{"epoch": done, "epochs": planned, "history", "finished"}`` when ``path`` is a melody model file with
    resume state, else None (:func:`gui.jobs.tasks.resume_summary`). Reads the whole file: the dialog calls it when
    the model file is chosen, not during a run (a finished run reports its state itself)."""
    from composer.core.modelfile import ModelFileError, load_checkpoint

    if not Path(path).is_file():
        return None
    try:
        checkpoint = load_checkpoint(path)
    except (ModelFileError, OSError):
        return None
    return resume_summary(checkpoint)


def corpus_note(folder: str | os.PathLike, recipe: TrainConfig) -> tuple[str, bool]:
    """The line shown under the MIDI folder and whether it is a warning: how many MIDI files there are and how
    many the recipe holds out for validation (by path, :func:`composer.core.corpus_files.count_splits`; no
    MIDI file is read), with a warning below :data:`MIN_VALID_FILES` validation files."""
    try:
        counts = count_splits(Path(folder).expanduser(), recipe.valid_fraction, recipe.test_fraction, COUNT_LIMIT)
    except OSError:
        return f"{folder} is not a folder.", True
    if counts is None:
        return "A very large folder: its files are counted when training starts.", False
    total, valid = sum(counts.values()), counts["valid"]
    if total == 0:
        return "No MIDI files (.mid, .midi, .smf, .kar) in this folder or its sub-folders.", True
    if valid < MIN_VALID_FILES:
        return ((f"{total} MIDI files, only {valid} of them for validation: with fewer than {MIN_VALID_FILES} the "
                 "validation loss (early stopping, the best model) is unreliable. Add more files."), True)
    return f"{total} MIDI files, {valid} of them for validation.", False


class TrainChoices:
    """The training dialog's form: the folder, the model file, the recipe and Resume (a mixin of
    :class:`gui.train_dialog.TrainDialog`, which builds the widgets it uses: ``folder_edit``, ``output_edit``,
    ``corpus_label``, ``preset_combo``, ``epochs_spin``, ``minutes_spin``, ``resume_check``, ``status_label``, and
    sets ``models_dir``, ``_output_edited`` and ``is_running``)."""

    # -- choices -----------------------------------------------------------------------------------
    def set_folder(self, folder: str | os.PathLike) -> None:
        """Choose the MIDI folder; the model file follows its name unless the user chose one."""
        self.folder_edit.setText(str(folder))
        self._folder_chosen()

    def set_output(self, path: str | os.PathLike) -> None:
        """Choose the model file to write (or to resume); an empty one lets the folder name it again."""
        self._output_edited = bool(str(path).strip())
        self.output_edit.setText(str(path))
        self.refresh_resume()

    def config(self) -> TrainConfig:
        """The recipe the Start button would use: the preset with the epochs and time limit set here.

        Raises:
            ValueError: a setting the trainer refuses.
        """
        recipe = list(PRESETS.values())[self.preset_combo.currentIndex()]()
        return recipe.replace(epochs=self.epochs_spin.value(), max_minutes=self.minutes_spin.value())

    def _folder_chosen(self) -> None:
        """The folder was browsed to or typed in full: name the model file after an existing folder (unless the
        user chose the model file) and count the folder's files."""
        text = self.folder_edit.text().strip()
        folder = Path(text).expanduser()
        if text and folder.is_dir() and not self._output_edited:
            self.output_edit.setText(str(self.models_dir / f"{folder.resolve().name or 'model'}.pt"))
        self.show_corpus_note()

    def show_corpus_note(self) -> bool:
        """Count the chosen folder's MIDI files under it (:func:`corpus_note`). True when it is a warning."""
        folder = self.folder_edit.text().strip()
        text, warning = corpus_note(folder, list(PRESETS.values())[self.preset_combo.currentIndex()]()) \
            if folder else ("", False)
        self.corpus_label.setText(text)
        self.corpus_label.setStyleSheet(WARNING_STYLE if warning else "")
        self.corpus_label.setVisible(bool(text))
        return warning

    def _output_typed(self, text: str) -> None:
        self._output_edited = bool(text.strip())  # emptied: the folder names it again

    def output_path(self) -> str:
        """The model file field as a path: ``~`` expanded, a bare name put in the models folder, ``.pt`` added."""
        text = self.output_edit.text().strip()
        if not text:
            return ""
        path = Path(text).expanduser()
        path = path if path.is_absolute() else self.models_dir / path
        return str(path if path.suffix.lower() == ".pt" or path.is_dir() else path.with_name(path.name + ".pt"))

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of MIDI files", self.folder_edit.text())
        if folder:
            self.set_folder(folder)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Model file", self.output_edit.text() or str(self.models_dir),
                                              "Composer models (*.pt)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.set_output(path if path.endswith(".pt") else path + ".pt")

    def _preset_changed(self, _index: int = 0) -> None:
        recipe = list(PRESETS.values())[self.preset_combo.currentIndex()]()
        self.epochs_spin.setValue(recipe.epochs)
        self.minutes_spin.setValue(recipe.max_minutes)

    def refresh_resume(self, state: dict | None | bool = True) -> None:
        """Enable Resume when the model file holds a run's resume state.

        Args:
            state: the file's :func:`resume_state` when known (a run just reported it), else True: read the file.
        """
        if state is True:
            path = self.output_path()
            state = resume_state(path) if path else None
        resumable = state is not None and not state["finished"]
        self.resume_check.setEnabled(resumable and not self.is_running())
        if not resumable:
            self.resume_check.setChecked(False)
            self.resume_check.setText("Resume the run saved in the model file"
                                      + (" (its run has finished)" if state is not None else ""))
        else:
            self.resume_check.setText(f"Resume the run saved in the model file ({state['epoch']} of "
                                      f"{state['epochs']} epochs done)")

    def _resume_toggled(self, on: bool) -> None:
        for widget in (self.preset_combo, self.epochs_spin, self.minutes_spin):
            widget.setEnabled(not on and not self.is_running())
        if on:
            self.status_label.setText("Resume continues with the recipe saved in the model file.")

    def _check_choices(self, folder: str, output: str) -> str | None:
        if not folder:
            return "Choose a folder of MIDI files first."
        if not Path(folder).is_dir():
            return f"{folder} is not a folder."
        if not output:
            return "Choose the model file to write."
        if Path(output).is_dir():
            return f"{output} is a folder; the model file needs a file name (e.g. my_model.pt)."
        return None

    def _confirm_replace(self, path: str) -> bool:
        answer = QMessageBox.question(self, "Replace model file?",
                                      f"{path} exists and will be replaced by the new model. Continue?")
        return answer == QMessageBox.StandardButton.Yes
