"""Export WAV: render what the piano roll shows with the built-in synth into a WAV file.

(Saving the piece as MIDI is :mod:`gui.files`; a result is exported as MIDI by dragging it out of the
results list, :class:`gui.generate_panel.VariationList`.)
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from gui.document import Document
from gui.files import read_only_location, save_folder
from gui.messages import Messages
from gui.piano_roll import RollCanvas
from gui.settings import AppSettings

WAV_FILTER = "WAV audio (*.wav)"


class WavExport(QObject):
    """Renders the shown piece to WAV (the synth renders in a second or two, on the GUI thread).

    Args:
        canvas: the piano roll; its piece (the document's, or a previewed result) is what is rendered.
        document: names the default file.
        settings: the folder of the last save (the default folder for the WAV file).
        messages: where messages and errors go.
        dialog_parent: the window the file dialog belongs to.
    """

    def __init__(self, canvas: RollCanvas, document: Document, settings: AppSettings, messages: Messages,
                 dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.canvas = canvas
        self.document = document
        self.settings = settings
        self.messages = messages
        self.dialog_parent = dialog_parent

    def export_wav_to(self, path: str | os.PathLike) -> bool:
        """Render the shown piece with the built-in synth into a WAV file. Returns False (error shown) on failure."""
        try:
            from gui.synth import export_wav
        except ImportError as error:
            self.messages.show_error("Cannot export WAV", f"the synthesizer is not available: {error}")
            return False
        piece = self.canvas.piece
        if not piece.notes:
            self.messages.show_error("Cannot export WAV", "the piece has no notes")
            return False
        try:
            export_wav(piece, path)
        except (OSError, ValueError) as error:
            self.messages.show_error("Cannot export WAV", f"cannot write {path}: {error}")
            return False
        self.messages.show_message(f"Exported {path}")
        return True

    def export_wav_dialog(self) -> None:
        """Ask for the WAV file (next to the piece's file, or in the save folder when the piece has none or is
        a bundled example: :func:`gui.files.save_folder`), then export."""
        path = self.document.path
        if path is not None and not read_only_location(path):
            default = Path(path)
        else:
            default = save_folder(self.settings) / (Path(path).name if path is not None else self.document.title)
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Export WAV", str(default.with_suffix(".wav")),
                                              WAV_FILTER)
        if path:
            self.export_wav_to(path)
