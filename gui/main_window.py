"""The main window: piano roll, Generate panel, menus and toolbar; it runs the jobs and files.

All dialogs are thin wrappers around methods that do the work without asking (``open_file``,
``save_to``, ``export_wav_to``, ``generate``, ``harmonize``, ``use_variation``, ``restore_autosave``...),
so tests drive the real window without modal dialogs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QToolBar, QVBoxLayout, QWidget

from composer.core.modelfile import MELODY_KIND
from composer.music.midi_io import MidiReadError, read_midi, write_midi
from composer.music.notes import Piece, select_voices
from gui.about import AboutDialog
from gui.actions import Shortcut, make_action, make_combo
from gui.autosave import Autosaver, default_autosave_dir
from gui.document import Document, empty_piece
from gui.generate_panel import GeneratePanel, Variation
from gui.jobs.export import WavExport
from gui.jobs.generate import GenerateJob
from gui.jobs.harmony import HarmonyJobs
from gui.jobs.runner import JobRunner
from gui.jobs.train import TrainLauncher
from gui.jobs.worker import Worker
from gui.models import HARMONY_KIND, SHIPPED_MODELS_DIR, ModelEntry, ModelStore, discover_models
from gui.piano_roll import SNAP_CHOICES, PianoRoll, Tool
from gui.recording import KeyboardRecording
from gui.settings import AppSettings
from gui.track_dialog import TrackDialog
from gui.transport import Transport

MIDI_FILTER = "MIDI files (*.mid *.midi);;All files (*)"
ASK = "ask"


class MainWindow(QMainWindow):
    """Composer's window.

    Args:
        settings: where settings are kept (tests pass an INI file); default the user's settings.
        autosave_dir: private autosave folder; default the platform's app-data folder.
        model_folders: folders searched for ``*.pt`` models; default the shipped ``midi_data/models``.
        user_models_dir: where the training dialog writes new models.
        player, midi_out, recorder: playback/recording objects (tests pass fakes for missing hardware);
            default the real ones from gui.playback and gui.midi_ports.
        autosave_delay_ms: quiet time before an autosave.
        preload: load the default melody model in the background at start-up.

    Signals:
        jobFinished(str): a job ended: "succeeded", "failed" or "cancelled".
    """

    jobFinished = Signal(str)

    def __init__(self, settings: QSettings | None = None, autosave_dir: str | os.PathLike | None = None,
                 model_folders: list[Path] | None = None, user_models_dir: str | os.PathLike | None = None,
                 player=None, midi_out=None, recorder=None, autosave_delay_ms: int = 1500,
                 preload: bool = True) -> None:
        super().__init__()
        self.settings = AppSettings(settings)
        self.document = Document(self)
        self.store = ModelStore()
        self.model_folders = list(model_folders) if model_folders is not None else [SHIPPED_MODELS_DIR]
        self.user_models_dir = Path(user_models_dir) if user_models_dir else self._default_user_models_dir()
        self.last_message = ""
        self.ask_before_closing = True
        self.autosaver = Autosaver(autosave_dir or default_autosave_dir(), autosave_delay_ms, self)
        self.pending_restore = self.autosaver.recoverable()
        self.autosaver.start_session()
        self._build_widgets()
        self._build_devices(player, midi_out, recorder)
        self._build_jobs()
        self._wire_panel()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect_document()
        self.refresh_models()
        self._restore_settings()
        self._update_title()
        self.setAcceptDrops(True)
        if preload:
            self._preload_default_model()

    # == construction ===============================================================================
    @staticmethod
    def _default_user_models_dir() -> Path:
        base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".composer")
        return Path(base) / "models"

    def _build_widgets(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.preview_banner = QLabel()
        self.preview_banner.setStyleSheet("background:#3d3520; color:#ffd54f; padding:4px 8px;")
        self.preview_banner.setVisible(False)
        layout.addWidget(self.preview_banner)
        self.piano_roll = PianoRoll(self.document)
        self.canvas = self.piano_roll.canvas
        layout.addWidget(self.piano_roll, 1)
        self.setCentralWidget(central)
        self.panel = GeneratePanel()
        dock = QDockWidget("Compose", self)
        dock.setObjectName("compose_dock")
        dock.setWidget(self.panel)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)

    def _build_devices(self, player, midi_out, recorder) -> None:
        self.transport = Transport(self.piano_roll, self, self, player, midi_out)
        self.player, self.midi_out = self.transport.player, self.transport.midi_out
        self.play_action, self.loop_action = self.transport.play_action, self.transport.loop_action
        self.refresh_ports_action = self.transport.refresh_ports_action
        self.tempo_spin, self.output_combo = self.transport.tempo_spin, self.transport.output_combo
        self.addActions(self.transport.actions())
        self.recording = KeyboardRecording(self.document, self.canvas, self, self, recorder)
        self.recorder, self.record_action = self.recording.recorder, self.recording.record_action
        self.addAction(self.record_action)
        self.recording.statusChanged.connect(self.status_label.setText)

    def _build_jobs(self) -> None:
        self.jobs = JobRunner(self.panel, self, self)
        self.jobs.jobFinished.connect(self.jobFinished)
        self.generate_job = GenerateJob(self.jobs, self.panel, self.store, self.document, self, self)
        self.harmony_jobs = HarmonyJobs(self.jobs, self.panel, self.store, self.document, self.canvas, self, self)
        self.wav_export = WavExport(self.canvas, self.document, self.settings, self, self)
        self.trainer = TrainLauncher(self.settings, self.user_models_dir, self.add_model, self, self)

    def _wire_panel(self) -> None:
        self.panel.generateRequested.connect(self.generate_job.generate)
        self.panel.cancelRequested.connect(self.jobs.cancel)
        self.panel.harmonizeRequested.connect(self.harmony_jobs.harmonize)
        self.panel.regenerateRequested.connect(self.harmony_jobs.regenerate_selection)
        self.panel.choraleRequested.connect(self.harmony_jobs.new_chorale)
        self.panel.useRequested.connect(self.use_selected_variation)
        self.panel.auditionRequested.connect(self.audition)
        self.panel.previewChanged.connect(self._preview_changed)
        self.panel.addModelRequested.connect(self.add_model_dialog)
        self.panel.model_combo.currentIndexChanged.connect(self._model_changed)
        self.canvas.hoverChanged.connect(self.status_label.setText)
        self.canvas.selectionChanged.connect(self._selection_changed)

    def _action(self, text: str, slot, shortcut: Shortcut = None, tip: str = "", checkable: bool = False) -> QAction:
        action = make_action(self, text, slot, shortcut, tip, checkable)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        stack = self.document.undo_stack
        self.new_action = self._action("&New", self.new_piece_dialog, QKeySequence.New, "Start an empty piece")
        self.open_action = self._action("&Open MIDI...", self.open_dialog, QKeySequence.Open, "Open a MIDI file (Ctrl+O)")
        self.save_action = self._action("&Save", self.save_dialog, QKeySequence.Save, "Save the piece as MIDI (Ctrl+S)")
        self.save_as_action = self._action("Save &As...", self.save_as_dialog, "Ctrl+Shift+S",
                                           "Save the piece as a new MIDI file (Ctrl+Shift+S)")
        self.export_wav_action = self._action("&Export WAV...", self.wav_export.export_wav_dialog, "Ctrl+E",
                                              "Render the piece with the built-in synth to a WAV file (Ctrl+E)")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.Quit, "Quit Composer")
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence.Undo])
        self.undo_action.setToolTip("Undo the last edit (Ctrl+Z)")
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setToolTip("Redo (Ctrl+Shift+Z or Ctrl+Y)")
        self.addActions([self.undo_action, self.redo_action])
        self.delete_action = self._action("&Delete notes", self.delete_selection, QKeySequence.Delete,
                                          "Delete the selected notes (Delete)")
        self.copy_action = self._action("&Copy notes", self.canvas.copy_selection, QKeySequence.Copy,
                                        "Copy the selected notes (Ctrl+C)")
        self.cut_action = self._action("Cu&t notes", self.canvas.cut_selection, QKeySequence.Cut,
                                       "Cut the selected notes (Ctrl+X)")
        self.paste_action = self._action("&Paste notes", lambda: self.canvas.paste(), QKeySequence.Paste,
                                         "Paste the copied notes at the playback start marker (Ctrl+V; "
                                         "click the ruler to move the marker)")
        self.select_all_action = self._action("Select &all", self.canvas.select_all, QKeySequence.SelectAll,
                                              "Select every note (Ctrl+A)")
        self.zoom_in_action = self._action("Zoom &in", self.piano_roll.zoom_in, ["Ctrl+=", "Ctrl++"],
                                           "Zoom in on time (Ctrl+=, or Ctrl+wheel)")
        self.zoom_out_action = self._action("Zoom &out", self.piano_roll.zoom_out, "Ctrl+-",
                                            "Zoom out (Ctrl+-, or Ctrl+wheel)")
        self.generate_action = self._action("&Generate", self.generate_job.generate, "Ctrl+G",
                                            "Generate variations (Ctrl+G)")
        self.jobs.busyChanged.connect(lambda busy: self.generate_action.setEnabled(not busy))
        self.cancel_action = self._action("&Cancel job", self.jobs.cancel, "Esc", "Stop the running job (Esc)")
        self.harmonize_action = self._action("&Harmonize melody", self.harmony_jobs.harmonize, "Ctrl+H",
                                             "Write a 4-part harmony under the melody (Ctrl+H)")
        self.regenerate_action = self._action("&Regenerate selection", self.harmony_jobs.regenerate_selection,
                                              "Ctrl+R",
                                              "Write the selected region again in the ticked voices (Ctrl+R)")
        self.use_action = self._action("&Use selected result", self.use_selected_variation, "Ctrl+Return",
                                       "Make the selected result the piece (Ctrl+Enter)")
        self.add_model_action = self._action("Add &model file...", self.add_model_dialog, None,
                                             "Add a trained model file to the model list")
        self.train_action = self._action("&Train a model...", self.trainer.open_dialog, "Ctrl+T",
                                         "Train a model on a folder of MIDI files (Ctrl+T)")
        self.about_action = self._action("&About Composer", self.about_dialog, None, "Version and model recipe")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setToolTipsVisible(True)
        file_menu.addActions([self.save_action, self.save_as_action, self.export_wav_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.cut_action, self.copy_action, self.paste_action, self.delete_action,
                              self.select_all_action])
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action])
        compose_menu = bar.addMenu("&Compose")
        compose_menu.addActions([self.generate_action, self.cancel_action, self.use_action, self.harmonize_action,
                                 self.regenerate_action])
        compose_menu.addSeparator()
        compose_menu.addActions([self.add_model_action, self.train_action])
        play_menu = bar.addMenu("&Play")
        play_menu.addActions([self.play_action, self.loop_action, self.record_action, self.refresh_ports_action])
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)
        self._rebuild_recent_menu()

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("main_toolbar")
        self.addToolBar(bar)
        bar.addActions([self.open_action, self.save_action])
        bar.addSeparator()
        # The menu's undo/redo actions name the step ("Undo Move note"); the toolbar keeps short labels.
        stack = self.document.undo_stack
        for text, tip, slot, signal in (("Undo", "Undo the last edit (Ctrl+Z)", stack.undo, stack.canUndoChanged),
                                        ("Redo", "Redo (Ctrl+Shift+Z)", stack.redo, stack.canRedoChanged)):
            action = bar.addAction(text, slot)
            action.setToolTip(tip)
            action.setEnabled(False)
            signal.connect(action.setEnabled)
        bar.addSeparator()
        self.tool_combo = make_combo([t.value for t in Tool], "Draw: click to add notes. Select: drag a box "
                                      "to select (shift+drag also selects in Draw)")
        self.tool_combo.currentTextChanged.connect(lambda text: setattr(self.canvas, "tool", Tool(text)))
        self.snap_combo = make_combo(list(SNAP_CHOICES), "Grid that new, moved and resized notes snap to")
        self.snap_combo.setCurrentText("1/16")
        self.snap_combo.currentTextChanged.connect(self._snap_changed)
        self.voice_combo = make_combo([], "The voice new notes are drawn in")
        self.voice_combo.currentIndexChanged.connect(lambda i: setattr(self.canvas, "current_voice", max(0, i)))
        for label, widget in (("Tool", self.tool_combo), ("Snap", self.snap_combo), ("Voice", self.voice_combo)):
            bar.addWidget(QLabel(f" {label} "))
            bar.addWidget(widget)
        bar.addActions([self.zoom_out_action, self.zoom_in_action])
        bar.addSeparator()
        bar.addActions([self.play_action, self.loop_action])
        bar.addWidget(QLabel(" Tempo "))
        bar.addWidget(self.tempo_spin)
        bar.addWidget(QLabel(" Output "))
        bar.addWidget(self.output_combo)
        bar.addAction(self.record_action)

    def _connect_document(self) -> None:
        self.document.pieceChanged.connect(self._piece_changed)
        self.document.pathChanged.connect(lambda _path: self._update_title())
        self.document.dirtyChanged.connect(lambda _dirty: self._update_title())
        self.document.undo_stack.indexChanged.connect(self._autosave_soon)
        self._piece_changed(self.document.piece)

    # == settings ===================================================================================
    def _restore_settings(self) -> None:
        s, panel = self.settings, self.panel
        panel.count_spin.setValue(s.value("generate/count", 8, int))
        panel.bars_spin.setValue(s.value("generate/bars", 8, int))
        panel.temperature_spin.setValue(s.value("generate/temperature", 1.0, float))
        panel.top_p_spin.setValue(s.value("generate/top_p", 0.95, float))
        panel.key_combo.setCurrentText(s.value("generate/key", panel.key_combo.itemText(0), str))
        panel.continue_check.setChecked(s.value("generate/continue", False, bool))
        self.snap_combo.setCurrentText(s.value("view/snap", "1/16", str))
        self.tempo_spin.setValue(s.value("play/tempo_percent", 100, int))
        self.loop_action.setChecked(s.value("play/loop", False, bool))
        geometry = s.store.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = s.store.value("window/state")
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        s, panel = self.settings, self.panel
        s.set_value("generate/count", panel.count_spin.value())
        s.set_value("generate/bars", panel.bars_spin.value())
        s.set_value("generate/temperature", panel.temperature_spin.value())
        s.set_value("generate/top_p", panel.top_p_spin.value())
        s.set_value("generate/key", panel.key_combo.currentText())
        s.set_value("generate/continue", panel.continue_check.isChecked())
        s.set_value("view/snap", self.snap_combo.currentText())
        s.set_value("play/tempo_percent", self.tempo_spin.value())
        s.set_value("play/loop", self.loop_action.isChecked())
        s.set_value("window/geometry", self.saveGeometry())
        s.set_value("window/state", self.saveState())
        if self.panel.model_path():
            s.set_last_model(self.panel.model_path())
        s.sync()

    # == messages ===================================================================================
    def show_message(self, text: str) -> None:
        """A problem or fact for the user, in the status bar (no dialog)."""
        self.last_message = text
        self.statusBar().showMessage(text, 10000)

    def show_error(self, title: str, text: str) -> None:
        """An error in a window-modal box that does not block the caller (tests keep running)."""
        self.last_message = text
        self.statusBar().showMessage(text, 10000)
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.title}[*] - Composer")
        self.setWindowModified(self.document.dirty)

    # == document ===================================================================================
    def _piece_changed(self, piece: Piece) -> None:
        names = [v.name or f"Voice {i + 1}" for i, v in enumerate(piece.voices)]
        current = self.voice_combo.currentIndex() if hasattr(self, "voice_combo") else 0
        if hasattr(self, "voice_combo"):
            self.voice_combo.blockSignals(True)
            self.voice_combo.clear()
            self.voice_combo.addItems(names + (["New voice"] if len(names) < 16 else []))
            self.voice_combo.setCurrentIndex(min(max(current, 0), len(names) - 1))
            self.voice_combo.blockSignals(False)
            self.canvas.current_voice = max(0, self.voice_combo.currentIndex())

    def _autosave_soon(self, _index: int = 0) -> None:
        """After an edit (or undo/redo), autosave the piece soon; back at the saved state, drop the autosave."""
        if self.document.dirty:
            self.autosaver.schedule(self.document.piece, str(self.document.path) if self.document.path else None)
        else:
            self.autosaver.discard()

    def _selection_changed(self, count: int) -> None:
        region = self.canvas.selected_region()
        if region is not None:
            self.panel.set_selected_voices(region[2])
        self.status_label.setText(f"{count} note(s) selected" if count else "")

    def _snap_changed(self, text: str) -> None:
        self.canvas.snap_beats = SNAP_CHOICES.get(text, 0.25)

    def delete_selection(self) -> None:
        self.canvas.delete_notes(sorted(self.canvas.selection))

    def new_piece(self) -> None:
        self.document.reset(empty_piece())
        self.piano_roll.show_pitch_range(self.document.piece)

    # == files ======================================================================================
    def open_file(self, path: str | os.PathLike, voices: list[int] | None | str = None) -> bool:
        """Open a MIDI file as the document.

        Args:
            path: the file.
            voices: voices (tracks) to keep; None keeps all; ``"ask"`` shows the track dialog when the
                file has several.

        Returns:
            True when opened; False after a bad file (the error is shown, nothing changes) or a cancel.
        """
        try:
            piece = read_midi(path)
        except MidiReadError as error:
            self.show_error("Cannot open MIDI file", str(error))
            return False
        if voices == ASK:
            voices = self._ask_tracks(piece, Path(path).name) if len(piece.voices) > 1 else None
            if voices == []:
                return False
        if voices is not None:
            piece = select_voices(piece, list(voices))
        self.document.reset(piece.replace(name=piece.name or Path(path).stem), path)
        self.canvas.set_preview(None)
        self.piano_roll.show_pitch_range(piece)
        self.piano_roll.fit_width(piece.end)
        self.settings.add_recent_file(path)
        self._rebuild_recent_menu()
        self.show_message(f"Opened {Path(path).name}: {len(piece.notes)} notes, {len(piece.voices)} voice(s)")
        return True

    def _ask_tracks(self, piece: Piece, name: str) -> list[int]:
        dialog = TrackDialog(piece, name, self)
        if dialog.exec() != TrackDialog.Accepted:
            return []
        return dialog.chosen() or []

    def save_to(self, path: str | os.PathLike) -> bool:
        """Write the piece as MIDI to ``path`` (atomically); it becomes the document's file."""
        path = Path(path)
        if path.suffix.lower() not in (".mid", ".midi"):
            path = path.with_suffix(".mid")
        try:
            write_midi(self.document.piece, path)
        except OSError as error:
            self.show_error("Cannot save", f"cannot write {path}: {error.strerror or error}")
            return False
        self.document.mark_saved(path)
        self.autosaver.discard()
        self.settings.add_recent_file(path)
        self._rebuild_recent_menu()
        self.show_message(f"Saved {path}")
        return True

    def export_wav_to(self, path: str | os.PathLike) -> bool:
        """Render the shown piece with the built-in synth into a WAV file (see :class:`WavExport`)."""
        return self.wav_export.export_wav_to(path)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self._open_checked(p))
        self.recent_menu.setEnabled(bool(files))

    # -- dialogs (thin) ----------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask whether to save unsaved changes. Returns False when the user cancels."""
        if not self.document.dirty or not self.ask_before_closing:
            return True
        answer = QMessageBox.question(self, "Unsaved changes", f"Save changes to {self.document.title}?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        if answer == QMessageBox.Save:
            return self.save_dialog()
        return answer == QMessageBox.Discard

    def _open_checked(self, path: str) -> None:
        if self.maybe_save():
            self.open_file(path, ASK)

    def new_piece_dialog(self) -> None:
        if self.maybe_save():
            self.new_piece()

    def _last_folder(self) -> str:
        return self.settings.value("files/last_folder", str(Path.home()), str)

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open MIDI file", self._last_folder(), MIDI_FILTER)
        if path:
            self.settings.set_value("files/last_folder", str(Path(path).parent))
            self.open_file(path, ASK)

    def save_dialog(self) -> bool:
        if self.document.path is None:
            return self.save_as_dialog()
        return self.save_to(self.document.path)

    def save_as_dialog(self) -> bool:
        start = str(self.document.path or Path(self._last_folder()) / f"{self.document.title}.mid")
        path, _ = QFileDialog.getSaveFileName(self, "Save MIDI file", start, MIDI_FILTER)
        return self.save_to(path) if path else False

    # -- drag and drop -----------------------------------------------------------------------------
    @staticmethod
    def _dropped_midi(event) -> str | None:
        for url in event.mimeData().urls():
            if url.isLocalFile() and url.toLocalFile().lower().endswith((".mid", ".midi")):
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_midi(event) and event.source() is None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_midi(event)
        if path:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self._open_checked(path))  # after the drop returns (dialogs may show)

    # == models =====================================================================================
    def refresh_models(self, select: str | None = None) -> list[ModelEntry]:
        """Find the shipped, added and trained models; fill the model picker with the melody models."""
        entries = discover_models(self.store, self.model_folders + [self.user_models_dir],
                                  self.settings.extra_models())
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
            self.show_error("Cannot use this model", str(error))
            return False
        self.settings.add_model(path)
        self.refresh_models(select=str(Path(path).resolve()) if kind == MELODY_KIND else None)
        self.show_message(f"Added model {Path(path).name}")
        return True

    def add_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add model file", str(self.user_models_dir),
                                              "Composer models (*.pt);;All files (*)")
        if path:
            self.add_model(path)

    def harmony_model_path(self) -> str | None:
        return self.panel.harmony_model_path()

    def _model_changed(self, _index: int = -1) -> None:
        path = self.panel.model_path()
        supported = False
        if path:
            try:
                supported = self.store.checkpoint(path)["model_config"].get("condition_size", 0) > 0
            except Exception:  # an unreadable file: generation will say why
                supported = False
        self.panel.set_chords_supported(supported)

    def _preload_default_model(self) -> None:
        path = self.panel.model_path()
        if path:
            # not a daemon: interpreter exit waits for it rather than killing torch mid-load (which aborts)
            threading.Thread(target=self._quiet_load, args=(path,), daemon=False).start()

    def _quiet_load(self, path: str) -> None:
        try:
            self.store.melody(path)
        except Exception:
            pass  # reported when the user generates

    # == jobs (thin entry points: the work is in gui.jobs) ==========================================
    @property
    def worker(self) -> Worker | None:
        """The running job's worker, or None."""
        return self.jobs.worker

    def cancel_job(self) -> None:
        self.jobs.cancel()

    def generate(self) -> bool:
        """Generate variations with the panel's settings (in a worker). Returns False when it cannot start."""
        return self.generate_job.generate()

    def harmonize(self) -> bool:
        """Harmonize the melody (voice 0) in four parts; the results go to the results list."""
        return self.harmony_jobs.harmonize()

    def regenerate_selection(self) -> bool:
        """Regenerate the selected time range in the ticked voices (a 4-part piece)."""
        return self.harmony_jobs.regenerate_selection()

    def new_chorale(self) -> bool:
        """Write 4-part chorales from scratch (as many bars as the panel says); results go to the list."""
        return self.harmony_jobs.new_chorale()

    # == results ====================================================================================
    def _preview_changed(self, variation: Variation | None) -> None:
        self.canvas.set_preview(variation.piece if variation else None, variation.new_from if variation else 0)
        if variation is not None:
            self.preview_banner.setText(f"Previewing {variation.label} (read-only). \"Use this one\" "
                                        "makes it your piece; \"Back to my piece\" returns.")
            self.piano_roll.show_pitch_range(variation.piece)
            self.piano_roll.fit_width(max(variation.end_tick, variation.piece.end))
        self.preview_banner.setVisible(variation is not None)

    def use_variation(self, row: int) -> bool:
        """Make result ``row`` the document's piece (one undoable step)."""
        variation = self.panel.results.variation(row)
        if variation is None:
            return False
        self.document.apply(variation.piece, f"Use {variation.label}")
        self.panel.clear_preview()
        self.show_message(f"Now editing {variation.label}")
        return True

    def use_selected_variation(self) -> bool:
        return self.use_variation(self.panel.results.currentRow())

    # == playback and recording (thin entry points: the work is in Transport and KeyboardRecording) ==
    def refresh_ports(self, report: bool = False) -> None:
        """List the MIDI output ports in the Output box; ``report`` says what was found."""
        self.transport.refresh_ports(report)

    def set_output_port(self, name: str) -> None:
        """Send playback to MIDI output ``name`` (or the built-in synth)."""
        self.transport.set_output_port(name)

    def play(self, piece: Piece | None = None, start: int | None = None) -> None:
        """Play ``piece`` (default: what the piano roll shows) from ``start`` (default: the start marker)."""
        self.transport.play(piece, start)

    def stop(self) -> None:
        self.transport.stop()

    def audition(self) -> None:
        """Play the selected result."""
        variation = self.panel.results.current_variation()
        if variation is not None:
            self.transport.audition(variation.piece)

    def start_recording(self, port_name: str | None = None) -> bool:
        """Record from a MIDI keyboard (the first input port unless named)."""
        return self.recording.start_recording(port_name)

    def stop_recording(self) -> int:
        """Stop recording; the notes join the piece as one undoable step. Returns how many."""
        return self.recording.stop_recording()

    # == training, about ============================================================================
    def train_dialog(self):
        """Open the training dialog; a finished model joins the model picker."""
        return self.trainer.open_dialog()

    def loaded_models(self) -> list[tuple[str, dict]]:
        """(name, checkpoint) of the selected melody model and the harmony model, for the About box."""
        models = []
        for path in (self.panel.model_path(), self.harmony_model_path()):
            if path:
                try:
                    models.append((Path(path).name, self.store.checkpoint(path)))
                except Exception:
                    continue
        return models

    def about_dialog(self) -> AboutDialog:
        dialog = AboutDialog(self.loaded_models(), self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # == autosave and closing =======================================================================
    def restore_autosave(self) -> bool:
        """Load the piece a crashed session left (``pending_restore``); it stays unsaved."""
        record, self.pending_restore = self.pending_restore, None
        if record is None:
            return False
        self.document.reset(record["piece"], record["source"], dirty=True)
        self.piano_roll.show_pitch_range(record["piece"])
        self.autosaver.schedule(record["piece"], record["source"])
        self.show_message("Restored the autosaved piece")
        return True

    def decline_restore(self) -> None:
        self.pending_restore = None
        self.autosaver.discard()

    def offer_restore(self) -> None:
        """Ask whether to restore the autosave of a session that ended without saving."""
        if self.pending_restore is None:
            return
        source = self.pending_restore["source"]
        text = ("Composer did not close normally last time. Restore the piece you were working on"
                + (f" ({Path(source).name})" if source else "") + "?")
        answer = QMessageBox.question(self, "Restore unsaved work", text, QMessageBox.Yes | QMessageBox.No)
        if answer == QMessageBox.Yes:
            self.restore_autosave()
        else:
            self.decline_restore()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            # The piano roll has its real size only now: bring the notes (or middle C) into view.
            QTimer.singleShot(0, lambda: self.piano_roll.show_pitch_range(self.canvas.piece))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.jobs.shut_down()
        self.transport.stop()
        self.recording.shut_down()
        self.save_settings()
        self.autosaver.end_session()
        event.accept()
