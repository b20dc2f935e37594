"""The "Train a model" dialog: train on a folder of MIDI files with the library's trainer, live.

Use in the main window::

    dialog = TrainDialog(self, default_folder=last_folder, models_dir=user_models_dir)
    dialog.modelTrained.connect(self.add_model)      # path of the finished model file
    dialog.folderChosen.connect(remember_folder)     # optional: the folder of the last run
    dialog.show()

The user picks a MIDI folder (the model file is named after it when the folder is browsed to or typed in full,
unless the user chose the model file; a line under the folder counts its MIDI files and warns when fewer than
:data:`MIN_VALID_FILES` would be held out for validation), the model file to write, a recipe (Tiny for a quick
test, Small, or Default, the shipped melody recipe ``midi_data/models/melody.json``), the number of epochs, a time
limit and the CPU threads (1 by default, so the app stays responsive). Start runs
:func:`composer.melody.train.train` in a child process (:func:`gui.jobs.train.training_process`, a
:class:`~gui.jobs.process.ProcessWorker`), so that the trainer never holds the window's interpreter; its events come
back through a pipe that a timer reads, and the dialog shows the corpus report, a live
:class:`~gui.loss_plot.LossPlot`, a progress bar and the perplexity. Cancel asks the trainer to stop after the
current step: the model file is then saved with its resume state, and "Resume" (enabled when the model file holds
the resume state of a run that has not finished: not all its epochs done, no early stop or time limit reached)
continues the run with the file's own recipe. While it stops, the button reads "Stop now": that ends the process at
once (reading a large folder has no step to stop after), and the model file keeps its last complete save (written
atomically, it is never half a file). Problems (no usable MIDI files, a missing folder, a model file that cannot be
resumed) are shown in the dialog as one line; nothing here raises to the event loop. Closing the dialog during a
run stops the run first, then closes.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from gui.jobs.process import KILL_GRACE_MS, ProcessWorker
from gui.jobs.train import training_process
from gui.loss_plot import LossPlot, perplexity
from gui.train_choices import (MIN_VALID_FILES, PRESETS, SMALL, TINY, WARNING_STYLE, TrainChoices,  # noqa: F401
                               corpus_note, default_recipe, resume_state)

PROGRESS_STEPS = 1000
CANCEL_TIP = "Stop after the current step; the model is saved and can be resumed"
STOP_NOW_TIP = "End the training process now; the model file keeps its last saved state"


class TrainDialog(TrainChoices, QDialog):
    """Train a model on a chosen MIDI folder; see the module docstring for its use.

    Args:
        parent: Qt parent (the main window).
        default_folder: the MIDI folder to offer first.
        models_dir: where new model files go by default.
    """

    modelTrained = Signal(str)  # noqa: N815 (Qt naming) the finished model file
    folderChosen = Signal(str)  # noqa: N815 the MIDI folder of a run that started

    def __init__(self, parent: QWidget | None = None, default_folder: str | None = None,
                 models_dir: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.models_dir = Path(models_dir) if models_dir else Path.home()
        self._worker: ProcessWorker | None = None
        self._close_when_stopped = False
        self._output_edited = False
        self.last_error = ""
        self._resume_timer = QTimer(self)
        self._resume_timer.setSingleShot(True)
        self._resume_timer.setInterval(300)
        self._resume_timer.timeout.connect(self.refresh_resume)
        self._build()
        if default_folder:
            self.set_folder(default_folder)
        app = QCoreApplication.instance()
        if app is not None:  # quitting the app with a run going: stop it (saved) rather than abort
            app.aboutToQuit.connect(self.stop_and_wait)

    # -- construction ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("a folder of .mid files (sub-folders too)")
        self.folder_edit.editingFinished.connect(self._folder_chosen)  # Enter or leaving the field, not each key
        self.corpus_label = QLabel()
        self.corpus_label.setWordWrap(True)
        self.corpus_label.setVisible(False)
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("the model file to write, e.g. my_model.pt")
        self.output_edit.textEdited.connect(self._output_typed)
        self.output_edit.textChanged.connect(lambda _text: self._resume_timer.start())
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.currentIndexChanged.connect(self._preset_changed)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10_000)
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(0.0, 100_000.0)
        self.minutes_spin.setDecimals(1)
        self.minutes_spin.setSpecialValueText("no limit")
        self.minutes_spin.setToolTip("Stop at the end of the epoch in which this much time has passed")
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(1, max(1, os.cpu_count() or 1))
        self.threads_spin.setValue(1)
        self.threads_spin.setToolTip("CPU threads for training; 1 keeps the rest of the machine responsive")
        self.resume_check = QCheckBox("Resume the run saved in the model file")
        self.resume_check.toggled.connect(self._resume_toggled)
        self.plot = LossPlot()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.status_label = QLabel("Choose a folder of MIDI files and press Start.")
        self.status_label.setWordWrap(True)
        self.status_label.setMinimumHeight(3 * self.status_label.fontMetrics().lineSpacing())
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setFixedHeight(90)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(CANCEL_TIP)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        self._lay_out()
        self._preset_changed()
        self._set_running(False)

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("MIDI folder:", self._with_browse(self.folder_edit, self._browse_folder))
        form.addRow("", self.corpus_label)
        form.addRow("Model file:", self._with_browse(self.output_edit, self._browse_output))
        form.addRow("Recipe:", self.preset_combo)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Time limit (minutes):", self.minutes_spin)
        form.addRow("CPU threads:", self.threads_spin)
        form.addRow("", self.resume_check)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.log_view)
        layout.addLayout(buttons)
        self.resize(640, 640)

    @staticmethod
    def _with_browse(edit: QLineEdit, browse) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        button = QPushButton("Browse...")
        button.clicked.connect(browse)
        layout.addWidget(button)
        return row

    # -- running -----------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._worker is not None

    def start(self) -> bool:
        """Start training with the dialog's choices; False (with the reason shown) when it cannot."""
        if self.is_running():
            return False
        folder, output = os.path.expanduser(self.folder_edit.text().strip()), self.output_path()
        if output and output != self.output_edit.text():
            self.output_edit.setText(output)  # where the model really goes
        resume = self.resume_check.isChecked() and self.resume_check.isEnabled()
        problem = self._check_choices(folder, output)
        config = None
        if problem is None:
            try:
                config = self.config()
            except ValueError as error:
                problem = f"This recipe cannot be used: {error}"
        if problem is None and Path(output).exists() and not resume and not self._confirm_replace(output):
            problem = "Choose another model file, or tick Resume."
        if problem is not None:
            self.show_error(problem)
            return False
        self.last_error = ""
        self.plot.clear()  # when resuming, the run sends the curve so far first (a "history" event)
        self.progress_bar.setValue(0)
        self.log_view.clear()
        if self.show_corpus_note():
            self.log_view.appendPlainText(f"warning: {self.corpus_label.text()}")
        self.status_label.setStyleSheet("")
        self.status_label.setText("Reading the MIDI files...")
        worker = training_process(folder, output, config, resume, self.threads_spin.value(), self)
        worker.report.connect(self._on_event)
        worker.failed.connect(self.show_error)
        worker.finished.connect(self._on_finished)
        try:
            worker.start()
        except OSError as error:
            self.show_error(f"Cannot start the training process: {error}")
            return False
        self._worker = worker
        self._set_running(True)
        self.folderChosen.emit(folder)
        return True

    def cancel(self) -> None:
        """Ask the run to stop after the current step (the model file is saved, resumable); pressed again
        ("Stop now"), end the training process at once (the model file keeps its last complete save)."""
        worker = self._worker
        if worker is None:
            return
        if not worker.cancel_requested:
            self._stop_after_step()
        else:
            worker.kill()
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Stopping the training process now...")

    def _stop_after_step(self) -> None:
        """Ask the run to stop after the current step, once; the Cancel button becomes "Stop now"."""
        if self._worker is None or self._worker.cancel_requested:
            return
        self._worker.cancel()
        self.cancel_button.setText("Stop now")
        self.cancel_button.setToolTip(STOP_NOW_TIP)
        self.status_label.setText("Stopping after the current step...")

    def stop_and_wait(self, timeout_ms: int = 60_000) -> bool:
        """Stop a run and block until its process has ended (the model is saved). True when none is left.

        Used when the app quits: the training process must not outlive the app. A run that has not stopped after
        ``timeout_ms`` is killed (its model file keeps its last complete save).
        """
        worker = self._worker
        if worker is None:
            return True
        worker.cancel()
        if not worker.wait(timeout_ms):
            worker.kill()
            if not worker.wait(KILL_GRACE_MS + 2000):
                return False
        worker.finish_now()  # the end of the run shown (and its clean-up done) before the app's loop stops
        return True

    def show_error(self, text: str) -> None:
        """Show a problem in the dialog (in red); also kept in ``last_error``."""
        self.last_error = text
        self.status_label.setStyleSheet("color: #c62828;")
        self.status_label.setText(text)
        self.log_view.appendPlainText(f"error: {text}")

    def _set_running(self, running: bool, resume: dict | None | bool = True) -> None:
        for widget in (self.folder_edit, self.output_edit, self.threads_spin, self.start_button):
            widget.setEnabled(not running)
        for widget in (self.preset_combo, self.epochs_spin, self.minutes_spin):
            widget.setEnabled(not running and not self.resume_check.isChecked())
        self.cancel_button.setEnabled(running)
        if running:
            self.resume_check.setEnabled(False)
        else:
            self.refresh_resume(resume)

    def _on_event(self, event: dict) -> None:
        """A progress event from the trainer (on the GUI thread)."""
        kind = event.get("event")
        if kind == "data":
            self._show_data(event)
        elif kind == "step":
            self._show_step(event)
        elif kind == "epoch":
            self.plot.add_epoch(event["epoch"], event["train_loss"], event["valid_loss"])
            mark = " (best)" if event.get("improved") else ""
            self.log_view.appendPlainText(
                f"epoch {event['epoch']}: train loss {event['train_loss']:.4f}, valid loss {event['valid_loss']:.4f} "
                f"(ppl {event['valid_perplexity']:.2f}, accuracy {100 * event['valid_accuracy']:.1f}%){mark}")
        elif kind == "history":
            self.plot.load_history(event["history"])
        elif kind == "warning":
            self.log_view.appendPlainText(f"warning: {event['message']}")
        elif kind == "interrupted":
            self.status_label.setText(f"Stopped after {event['epoch']} finished epochs. The model is saved in "
                                      f"{event['path']}; tick Resume and press Start to continue.")
        elif kind == "done":
            self._show_done(event)

    def _show_data(self, event: dict) -> None:
        files, tokens = event["summary"]["files"], event["summary"]["tokens"]
        skipped = event.get("skipped", [])
        self.log_view.appendPlainText(
            f"{sum(files.values())} files ({files['train']} train, {files['valid']} validation, {files['test']} test), "
            f"{tokens['train']:,} training tokens; {len(skipped)} skipped")
        for name, reason in skipped[:50]:
            self.log_view.appendPlainText(f"  skipped {name}: {reason}")
        self.status_label.setText("Training...")

    def _show_step(self, event: dict) -> None:
        epoch, epochs, batch, batches = event["epoch"], event["epochs"], event["batch"], event["batches"]
        self.plot.add_step(epoch, batch, batches, event["loss"])
        done = (epoch - 1 + batch / max(1, batches)) / max(1, epochs)
        self.progress_bar.setValue(int(round(done * PROGRESS_STEPS)))
        if not self._worker or not self._worker.cancel_requested:
            self.status_label.setText(f"Epoch {epoch} of {epochs}, batch {batch} of {batches}: loss "
                                      f"{event['loss']:.3f} (perplexity {perplexity(event['loss']):.2f}), "
                                      f"{event.get('tokens_per_s', 0):,.0f} tokens/s")

    def _show_done(self, event: dict) -> None:
        valid = event.get("metrics", {}).get("valid", {})
        self.progress_bar.setValue(PROGRESS_STEPS)
        score = f"best validation loss {valid['loss']:.4f} (perplexity {valid['perplexity']:.2f}). " if valid else ""
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"Done ({event['stop_reason']}): {score}The model is in {event['path']} and "
                                  f"in the model picker.")
        self.modelTrained.emit(str(event["path"]))

    def _on_finished(self) -> None:
        worker, self._worker = self._worker, None
        known: dict | None | bool = True   # the model file's resume state, when the run reported it
        if worker is not None:
            worker.dispose()
            if worker.killed and not worker.error:
                self.status_label.setText("Stopped. The model file keeps its last saved state.")
            if isinstance(worker.result, dict) and "resume" in worker.result:
                known = worker.result["resume"]
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(CANCEL_TIP)
        self._set_running(False, known)
        if self._close_when_stopped:
            self.close()

    # -- closing -----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        """Closing during a run stops it first (the model is saved), then the dialog closes."""
        if self.is_running():
            self._close_when_stopped = True
            self._stop_after_step()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:
        """Escape: like closing."""
        if self.is_running():
            self._close_when_stopped = True
            self._stop_after_step()
            return
        super().reject()
