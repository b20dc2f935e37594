"""Files: open and save MIDI, the recent-files menu, and the questions around them (unsaved changes,
which tracks to open).

The work is done by methods that do not ask (``open_file``, ``save_to``, ``new_piece``); the dialogs are
thin wrappers around them, so tests drive the real thing without modal dialogs.

A piece opened from inside the installation (the bundled examples in ``midi_data/``, the app's own folders)
or from a place the user cannot write is saved like an untitled one: Save asks for a file (Save As), and Save
As starts in the folder of the last save, else the user's documents (home), never in the installation.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from composer.music.midi_io import MidiReadError, read_midi, write_midi
from composer.music.notes import Piece, select_voices
from composer.shipped import MIDI_DATA, REPO_ROOT
from gui.autosave import Autosaver
from gui.document import Document, empty_piece
from gui.messages import Messages
from gui.piano_roll import PianoRoll
from gui.settings import AppSettings, documents_folder
from gui.track_dialog import TrackDialog

MIDI_FILTER = "MIDI files (*.mid *.midi);;All files (*)"
ASK = "ask"
# Folders of the installation: files there are examples to open, never to save over.
INSTALLATION = (MIDI_DATA, REPO_ROOT / "composer", REPO_ROOT / "gui")


def read_only_location(path: str | os.PathLike) -> bool:
    """True when a piece must not be saved to ``path``: inside the installation (:data:`INSTALLATION`), a
    file the user cannot write, or in a folder the user cannot write (the save writes a temporary file there)."""
    path = Path(path).expanduser().resolve()
    if any(path.is_relative_to(folder.resolve()) for folder in INSTALLATION):
        return True
    if path.exists() and not os.access(path, os.W_OK):
        return True
    return path.parent.is_dir() and not os.access(path.parent, os.W_OK)


def save_folder(settings: AppSettings) -> Path:
    """Where a new file is saved first: the folder of the last save, else the user's documents, else home;
    never a read-only place or the installation."""
    for folder in (settings.last_save_folder(), documents_folder(), str(Path.home())):
        if folder and Path(folder).is_dir() and not read_only_location(Path(folder) / "untitled.mid"):
            return Path(folder)
    return Path.home()


def dropped_midi(mime: QMimeData) -> str | None:
    """The first local MIDI file among dragged URLs, or None."""
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith((".mid", ".midi")):
            return url.toLocalFile()
    return None


class FileActions(QObject):
    """Opens and saves the document's MIDI file and keeps the recent-files menu.

    Args:
        document: the piece and its file.
        piano_roll: scrolled and zoomed to an opened piece.
        settings: recent files and the last folder.
        autosaver: its autosave is dropped once the piece is saved.
        messages: where messages and errors go.
        window: the window the dialogs belong to.

    Attributes:
        ask_before_closing: ask about unsaved changes (tests turn it off).
        recent_menu: File ▸ Open Recent.
    """

    def __init__(self, document: Document, piano_roll: PianoRoll, settings: AppSettings, autosaver: Autosaver,
                 messages: Messages, window: QWidget) -> None:
        super().__init__(window)
        self.document = document
        self.piano_roll = piano_roll
        self.settings = settings
        self.autosaver = autosaver
        self.messages = messages
        self.window = window
        self.ask_before_closing = True
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setToolTipsVisible(True)
        self.rebuild_recent_menu()

    # -- the work ------------------------------------------------------------------------------
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
            self.messages.show_error("Cannot open MIDI file", str(error))
            return False
        if voices == ASK:
            voices = self.ask_tracks(piece, Path(path).name) if len(piece.voices) > 1 else None
            if voices == []:
                return False
        if voices is not None:
            piece = select_voices(piece, list(voices))
        self.document.reset(piece.replace(name=piece.name or Path(path).stem), path)
        self.piano_roll.canvas.set_preview(None)
        self.piano_roll.show_pitch_range(piece)
        self.piano_roll.fit_width(piece.end)
        self.settings.add_recent_file(path)
        self.rebuild_recent_menu()
        self.messages.show_message(f"Opened {Path(path).name}: {len(piece.notes)} notes, "
                                   f"{len(piece.voices)} voice(s)")
        return True

    def ask_tracks(self, piece: Piece, name: str) -> list[int]:
        """The tracks the user ticks in the track dialog; empty when cancelled."""
        dialog = TrackDialog(piece, name, self.window)
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
            self.messages.show_error("Cannot save", f"cannot write {path}: {error.strerror or error}")
            return False
        self.document.mark_saved(path)
        self.settings.set_last_save_folder(path.parent)
        self.autosaver.discard()
        self.settings.add_recent_file(path)
        self.rebuild_recent_menu()
        self.messages.show_message(f"Saved {path}")
        return True

    def new_piece(self) -> None:
        """An empty piece, with no file."""
        self.document.reset(empty_piece())
        self.piano_roll.show_pitch_range(self.document.piece)

    def rebuild_recent_menu(self) -> None:
        """List the recent files (most recent first) in File ▸ Open Recent."""
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_checked(p))
        self.recent_menu.setEnabled(bool(files))

    # -- dialogs (thin) ------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask whether to save unsaved changes. Returns False when the user cancels."""
        if not self.document.dirty or not self.ask_before_closing:
            return True
        answer = QMessageBox.question(self.window, "Unsaved changes", f"Save changes to {self.document.title}?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        if answer == QMessageBox.Save:
            return self.save_dialog()
        return answer == QMessageBox.Discard

    def open_checked(self, path: str) -> None:
        """Open ``path`` (asking for tracks) once unsaved changes are dealt with."""
        if self.maybe_save():
            self.open_file(path, ASK)

    def new_piece_dialog(self) -> None:
        if self.maybe_save():
            self.new_piece()

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open MIDI file", self.settings.last_folder(),
                                              MIDI_FILTER)
        if path:
            self.settings.set_last_folder(Path(path).parent)
            self.open_file(path, ASK)

    def save_dialog(self) -> bool:
        """Save (Ctrl+S): over the document's file, or through Save As when it has none or it is read-only
        (a bundled example)."""
        path = self.document.path
        if path is None or read_only_location(path):
            return self.save_as_dialog()
        return self.save_to(path)

    def save_as_dialog(self) -> bool:
        """Save As: ask for the file, starting at :meth:`save_as_start`."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Save MIDI file", str(self.save_as_start()), MIDI_FILTER)
        return self.save_to(path) if path else False

    def save_as_start(self) -> Path:
        """The file Save As offers: the document's own when it may be written, else its name (or the title)
        in :func:`save_folder`."""
        path = self.document.path
        if path is not None and not read_only_location(path):
            return Path(path)
        name = Path(path).name if path is not None else f"{self.document.title}.mid"
        return save_folder(self.settings) / name
