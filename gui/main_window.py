"""The main window: it builds the layout, menus and toolbar, and wires them to the parts that do the work.

The parts, each owned by the window:

- :class:`~gui.files.FileActions` (``files``): open, save, the recent-files menu;
- :class:`~gui.recovery.CrashRecovery` (``recovery``): autosave and restoring a crashed session's piece;
- :class:`~gui.model_picker.ModelPicker` (``models``): the model pickers;
- :class:`~gui.jobs.runner.JobRunner` (``jobs``) and the jobs of :mod:`gui.jobs` (``generate_job``,
  ``harmony_jobs``, ``wav_export``, ``trainer``);
- :class:`~gui.transport.Transport` (``transport``) and :class:`~gui.recording.KeyboardRecording`
  (``recording``);
- :class:`~gui.results.ResultsView` (``results``): previewing, auditioning and using a result;
- :class:`~gui.roll_controls.RollControls` (``roll_controls``): the piano roll's Tool, Snap and Voice boxes.
- :class:`~gui.note_edits.NoteEdits` (``note_edits``): Delete, Duplicate, Transpose and Quantize;
- :class:`~gui.voice_legend.VoiceLegend` (``voice_legend``, its ``mix``): per-voice mute, solo and hide.

All dialogs are thin wrappers around methods that do the work without asking (``open_file``,
``save_to``, ``export_wav_to``, ``generate``, ``harmonize``, ``use_variation``, ``restore_autosave``...);
the window keeps those as entry points, so tests drive the real window without modal dialogs.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar, QVBoxLayout, QWidget

from composer.music.notes import Piece
from gui.about import AboutDialog
from gui.actions import (Shortcut, add_short_undo_redo, fill_menu, make_action, make_harmony_actions,
                         make_undo_actions)
from gui.autosave import Autosaver, default_autosave_dir
from gui.document import Document
from gui.examples import attach_examples
from gui.files import FileActions, dropped_midi
from gui.generate_panel import GeneratePanel
from gui.history_menu import attach_history
from gui.jobs.export import WavExport
from gui.jobs.generate import GenerateJob
from gui.jobs.harmony import HarmonyJobs, voices_to_tick
from gui.jobs.notation import ScoreExport
from gui.jobs.runner import JobRunner
from gui.jobs.train import TrainLauncher
from gui.jobs.worker import Worker
from gui.model_picker import ModelPicker
from gui.models import SHIPPED_MODELS_DIR, ModelStore
from gui.note_edits import NoteEdits
from gui.overview import attach_overview
from gui.piano_roll import PianoRoll
from gui.recording import KeyboardRecording
from gui.recovery import CrashRecovery
from gui.results import ResultsView
from gui.roll_controls import RollControls
from gui.settings import AppSettings
from gui.theme import attach_theme
from gui.transport import Transport
from gui.voice_legend import attach_voice_legend
from gui.window_fit import fit_to_screen, scrolling


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
        background_models: read the model files on a background thread (``composer-gui``): the pickers say
            "Loading models..." until then, and ``models.modelsReady`` tells when the default model is loaded
            (:meth:`~gui.model_picker.ModelPicker.start_loading`); default: read them here, before returning.

    Signals:
        jobFinished(str): a job ended: "succeeded", "failed" or "cancelled".
    """

    jobFinished = Signal(str)  # noqa: N815 (Qt naming)

    def __init__(self, settings: QSettings | None = None, autosave_dir: str | os.PathLike | None = None,
                 model_folders: list[Path] | None = None, user_models_dir: str | os.PathLike | None = None,
                 player=None, midi_out=None, recorder=None, autosave_delay_ms: int = 1500,
                 preload: bool = True, background_models: bool = False) -> None:
        super().__init__()
        self.settings = AppSettings(settings)
        self.document = Document(self)
        self.store = ModelStore()
        self.model_folders = list(model_folders) if model_folders is not None else [SHIPPED_MODELS_DIR]
        self.user_models_dir = Path(user_models_dir) if user_models_dir else self._default_user_models_dir()
        self.last_message = ""
        self.autosaver = Autosaver(autosave_dir or default_autosave_dir(), autosave_delay_ms, self)
        self._build_widgets()
        self._build_parts(player, midi_out, recorder)
        self._build_jobs()
        self._wire_panel()
        self._build_file_actions()
        self._build_compose_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect_document()
        if background_models:
            self.models.start_loading([self.generate_action, self.harmonize_action, self.regenerate_action,
                                       self.chorale_action])
        else:
            self.models.refresh_models()
        self._restore_settings()
        self.settings_saver = self.settings.save_on_change(self, self.save_settings)  # saved as they change
        self.setAcceptDrops(True)
        if preload and not background_models:   # the background load preloads it itself
            self.models.preload_default_model()

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
        dock.setWidget(scrolling(self.panel))  # the panel scrolls on a short screen
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)

    def _build_parts(self, player, midi_out, recorder) -> None:
        self.recovery = CrashRecovery(self.autosaver, self.document, self.piano_roll, self, self)
        self.files = FileActions(self.document, self.piano_roll, self.settings, self.autosaver, self, self)
        self.examples = attach_examples(self)   # File > Open Example: bundled pieces, opened as untitled copies
        self.models = ModelPicker(self.store, self.panel, self.settings, self.model_folders, self.user_models_dir,
                                  self, self)
        self.transport = Transport(self.piano_roll, self, self, player, midi_out)
        self.roll_controls = RollControls(self.canvas, self.document, self, self.transport)
        self.addActions(self.transport.actions())
        self.recording = KeyboardRecording(self.document, self.canvas, self, self, recorder)
        self.addAction(self.recording.record_action)
        self.recording.statusChanged.connect(self.status_label.setText)
        self.voice_legend = attach_voice_legend(self)   # mute, solo, hide per voice
        self.overview, self.theme = attach_overview(self), attach_theme(self)   # the whole piece; View > Theme
        self.results = ResultsView(self.panel, self.piano_roll, self.document, self.transport, self.preview_banner,
                                   self, self)
        self.history = attach_history(self)   # the results' pin, rename, compare and export (context menu)
        self._alias_parts()

    def _alias_parts(self) -> None:
        """The parts' actions, boxes and devices, reachable from the window as before."""
        self.recent_menu = self.files.recent_menu
        self.tool_combo, self.snap_combo = self.roll_controls.tool_combo, self.roll_controls.snap_combo
        self.voice_combo = self.roll_controls.voice_combo
        transport = self.transport
        self.player, self.midi_out = transport.player, transport.midi_out
        self.play_action, self.loop_action = transport.play_action, transport.loop_action
        self.refresh_ports_action, self.tempo_spin = transport.refresh_ports_action, transport.tempo_spin
        self.output_combo = transport.output_combo
        self.recorder, self.record_action = self.recording.recorder, self.recording.record_action

    def _build_jobs(self) -> None:
        self.jobs = JobRunner(self.panel, self, self)
        self.jobs.jobFinished.connect(self.jobFinished)
        self.generate_job = GenerateJob(self.jobs, self.panel, self.store, self.document, self, self, self.canvas)
        self.harmony_jobs = HarmonyJobs(self.jobs, self.panel, self.store, self.document, self.canvas, self, self)
        self.wav_export = WavExport(self.canvas, self.document, self.settings, self, self, self.jobs)
        self.score_export = ScoreExport(self.canvas, self.document, self.settings, self, self, self.jobs)
        self.trainer = TrainLauncher(self.settings, self.user_models_dir, self.models.add_model, self, self)

    def _wire_panel(self) -> None:
        self.panel.generateRequested.connect(self.generate_job.generate)
        self.panel.cancelRequested.connect(self.jobs.cancel)
        self.panel.harmonizeRequested.connect(self.harmony_jobs.harmonize)
        self.panel.regenerateRequested.connect(self.harmony_jobs.regenerate_selection)
        self.panel.choraleRequested.connect(self.harmony_jobs.new_chorale)
        self.panel.addModelRequested.connect(self.models.add_model_dialog)
        self.canvas.hoverChanged.connect(self.status_label.setText)
        self.canvas.selectionChanged.connect(self._selection_changed)

    def _action(self, text: str, slot, shortcut: Shortcut = None, tip: str = "", checkable: bool = False) -> QAction:
        action = make_action(self, text, slot, shortcut, tip, checkable)
        self.addAction(action)
        return action

    def _build_file_actions(self) -> None:
        """The File and Edit menus' actions, and zoom."""
        files, canvas, stack = self.files, self.canvas, self.document.undo_stack
        self.new_action = self._action("&New", self.new_piece_dialog, QKeySequence.New, "Start an empty piece")
        self.open_action = self._action("&Open MIDI...", files.open_dialog, QKeySequence.Open,
                                        "Open a MIDI file (Ctrl+O)")
        self.save_action = self._action("&Save", files.save_dialog, QKeySequence.Save,
                                        "Save the piece as MIDI (Ctrl+S)")
        self.save_as_action = self._action("Save &As...", files.save_as_dialog, "Ctrl+Shift+S",
                                           "Save the piece as a new MIDI file (Ctrl+Shift+S)")
        self.export_wav_action = self._action("&Export WAV...", self.wav_export.export_wav_dialog, "Ctrl+E",
                                              "Render the piece with the built-in synth to a WAV file (Ctrl+E)")
        self.export_musicxml_action = self._action("Export &MusicXML...", self.score_export.export_musicxml_dialog,
                                                   "Ctrl+Shift+E", "Write the piece as a score for MuseScore and "
                                                   "other notation programs (Ctrl+Shift+E)")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.Quit, "Quit Composer")
        self.undo_action, self.redo_action = make_undo_actions(stack, self)
        self.addActions([self.undo_action, self.redo_action])
        self.note_edits = NoteEdits(canvas, self.piano_roll, self)   # Delete, Duplicate, Transpose, Quantize
        self.delete_action = self.note_edits.delete_action
        self.copy_action = self._action("&Copy notes", canvas.copy_selection, QKeySequence.Copy,
                                        "Copy the selected notes (Ctrl+C)")
        self.cut_action = self._action("Cu&t notes", canvas.cut_selection, QKeySequence.Cut,
                                       "Cut the selected notes (Ctrl+X)")
        self.paste_action = self._action("&Paste notes", lambda: canvas.paste(), QKeySequence.Paste,
                                         "Paste the copied notes at the playback start marker (Ctrl+V; "
                                         "click the ruler to move the marker)")
        self.select_all_action = self._action("Select &all", canvas.select_all, QKeySequence.SelectAll,
                                              "Select every note (Ctrl+A)")
        self.addActions(self.piano_roll.zoom_actions)   # Zoom in, Zoom out, Zoom to fit

    def _build_compose_actions(self) -> None:
        """The Compose and Help menus' actions."""
        harmony = self.harmony_jobs
        self.generate_action = self._action("&Generate", self.generate_job.generate, "Ctrl+G",
                                            "Generate variations (Ctrl+G)")
        self.jobs.busyChanged.connect(lambda busy: self.generate_action.setEnabled(not busy))
        self.cancel_action = self._action("&Cancel job", self.jobs.cancel, "Esc", "Stop the running job (Esc)")
        self.harmonize_action, self.regenerate_action, self.chorale_action = make_harmony_actions(
            self, harmony.harmonize, harmony.regenerate_selection, harmony.new_chorale)
        self.addActions([self.harmonize_action, self.regenerate_action, self.chorale_action])
        self.use_action = self._action("&Use selected result", self.results.use_selected_variation, "Ctrl+Return",
                                       "Make the selected result the piece (Ctrl+Enter)")
        self.add_model_action = self._action("Add &model file...", self.models.add_model_dialog, None,
                                             "Add a trained model file to the model list")
        self.train_action = self._action("&Train a model...", self.trainer.open_dialog, "Ctrl+T",
                                         "Train a model on a folder of MIDI files (Ctrl+T)")
        self.about_action = self._action("&About Composer", self.about_dialog, None, "Version and model recipe")

    def _build_menus(self) -> None:
        menus = {
            "&File": [self.new_action, self.open_action, self.examples.menu, self.recent_menu, self.save_action,
                      self.save_as_action, self.export_wav_action, self.export_musicxml_action, None, self.quit_action],
            "&Edit": [self.undo_action, self.redo_action, None, self.cut_action, self.copy_action, self.paste_action,
                      self.select_all_action, None, *self.note_edits.actions()],
            "&View": [*self.piano_roll.zoom_actions, None, self.piano_roll.chord_lane.estimate_action, self.theme.menu],
            "&Compose": [self.generate_action, self.cancel_action, self.use_action, self.harmonize_action,
                         self.regenerate_action, self.chorale_action, None, self.add_model_action, self.train_action],
            "&Play": self.transport.menu_entries(self.record_action),
            "&Help": [self.about_action],
        }
        for title, entries in menus.items():
            fill_menu(self.menuBar().addMenu(title), entries)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("main_toolbar")
        self.addToolBar(bar)
        bar.addActions([self.open_action, self.save_action])
        bar.addSeparator()
        add_short_undo_redo(bar, self.document.undo_stack)  # the menu's Undo/Redo name the step; these stay short
        bar.addSeparator()
        self.roll_controls.add_to(bar)
        bar.addActions([self.piano_roll.zoom_out_action, self.piano_roll.zoom_in_action])
        bar.addSeparator()
        self.transport.add_to(bar)   # Play, Loop, Metronome, Tempo, Output
        bar.addAction(self.record_action)

    def _connect_document(self) -> None:
        self.document.pathChanged.connect(lambda _path: self._update_title())
        self.document.dirtyChanged.connect(lambda _dirty: self._update_title())
        self.document.undo_stack.indexChanged.connect(self._autosave_soon)
        self._update_title()

    def _autosave_soon(self, _index: int) -> None:
        # A slot of the window's own (see CrashRecovery): the undo stack signals while it is being deleted.
        self.recovery.autosave_soon()

    # == settings ===================================================================================
    def _restore_settings(self) -> None:
        self.panel.restore_choices(self.settings)
        self.roll_controls.restore_settings(self.settings)
        self.transport.restore_settings(self.settings)
        self.settings.restore_window(self)
        fit_to_screen(self)

    def save_settings(self) -> None:
        """Remember the choices, the view, playback and the window's layout for the next session."""
        self.panel.save_choices(self.settings)
        self.roll_controls.save_settings(self.settings)
        self.transport.save_settings(self.settings)
        self.settings.save_window(self)
        if self.panel.model_path():
            self.settings.set_last_model(self.panel.model_path())
        self.settings.sync()

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

    # == the piano roll's selection, About ============================================================
    def _selection_changed(self, count: int) -> None:
        region = self.canvas.selected_region()
        if region is not None:
            self.panel.set_selected_voices(voices_to_tick(region[2], self.panel.selected_voices()))
        self.status_label.setText(f"{count} note(s) selected" if count else "")

    def about_dialog(self) -> AboutDialog:
        dialog = AboutDialog(self.models.loaded_models(), self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # == entry points (the work is in the parts) =====================================================
    @property
    def worker(self) -> Worker | None:
        """The running job's worker, or None."""
        return self.jobs.worker

    @property
    def ask_before_closing(self) -> bool:
        """Ask about unsaved changes before closing or opening another file (tests turn it off)."""
        return self.files.ask_before_closing

    @ask_before_closing.setter
    def ask_before_closing(self, on: bool) -> None:
        self.files.ask_before_closing = on

    @property
    def pending_restore(self) -> dict | None:
        """What the last session left unsaved, or None."""
        return self.recovery.pending_restore

    def new_piece_dialog(self) -> None:
        """An empty piece (once unsaved changes are dealt with), at zoom 1, without the old piece's results."""
        if self.files.maybe_save():
            self.files.new_piece()
            self.results.clear()
            self.piano_roll.reset_zoom()

    def open_file(self, path: str | os.PathLike, voices: list[int] | None | str = None) -> bool:
        """Open a MIDI file as the document; see :meth:`FileActions.open_file`."""
        return self.files.open_file(path, voices)

    def save_to(self, path: str | os.PathLike) -> bool:
        """Write the piece as MIDI to ``path``; it becomes the document's file."""
        return self.files.save_to(path)

    def export_wav_to(self, path: str | os.PathLike) -> bool:
        """Start rendering the shown piece into a WAV file, in a child process (``jobFinished`` says when it ends)."""
        return self.wav_export.export_wav_to(path)

    def use_variation(self, row: int) -> bool:
        """Make result ``row`` the document's piece (one undoable step)."""
        return self.results.use_variation(row)

    def use_selected_variation(self) -> bool:
        return self.results.use_selected_variation()

    def add_model(self, path: str | os.PathLike) -> bool:
        """Add a model file to the pickers (remembered); melody models become the selected one."""
        return self.models.add_model(path)

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

    def cancel_job(self) -> None:
        self.jobs.cancel()

    def train_dialog(self):
        """Open the training dialog; a finished model joins the model picker."""
        return self.trainer.open_dialog()

    def play(self, piece: Piece | None = None, start: int | None = None) -> None:
        """Play ``piece`` (default: what the piano roll shows) from ``start`` (default: the start marker)."""
        self.transport.play(piece, start)

    def stop(self) -> None:
        self.transport.stop()

    def set_output_port(self, name: str) -> None:
        """Send playback to MIDI output ``name`` (or the built-in synth)."""
        self.transport.set_output_port(name)

    def restore_autosave(self) -> bool:
        """Load the piece a crashed session left; it stays unsaved."""
        return self.recovery.restore_autosave()

    def decline_restore(self) -> None:
        self.recovery.decline_restore()

    def offer_restore(self) -> None:
        """Ask whether to restore the autosave of a session that ended without saving."""
        self.recovery.offer_restore()

    # == window events ==============================================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if dropped_midi(event.mimeData()) and event.source() is None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = dropped_midi(event.mimeData())
        if path:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.files.open_checked(path))  # after the drop returns (dialogs may show)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            # The piano roll has its real size only now: fit a piece opened before (composer-gui FILE.mid) to it.
            QTimer.singleShot(0, lambda: self.piano_roll.fit_piece(self.canvas.piece))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.files.maybe_save():
            event.ignore()
            return
        self.jobs.shut_down()
        self.transport.stop()
        self.recording.shut_down()
        self.save_settings()
        self.autosaver.end_session()
        event.accept()
