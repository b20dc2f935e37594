"""What the app's exports of the shown piece share: the parts of the window they use, and the file dialog that
proposes a file next to the piece's own (or in the save folder when the piece has none or is a bundled example:
:func:`gui.files.save_folder`). :class:`gui.jobs.export.WavExport` and :class:`gui.jobs.notation.ScoreExport` build
on it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from gui.document import Document
from gui.files import read_only_location, save_folder
from gui.jobs.runner import JobRunner
from gui.messages import Messages
from gui.piano_roll import RollCanvas
from gui.settings import AppSettings


class ShownPieceExport(QObject):
    """An export of the piece the piano roll shows, run as the window's one job.

    Args:
        canvas: the piano roll; its piece (the document's, or a previewed result) is what is exported.
        document: names the default file.
        settings: the folder of the last save (the default folder for the file).
        messages: where messages and errors go.
        dialog_parent: the window the file dialog belongs to.
        runner: runs the export (progress bar, Cancel, errors as one line).
    """

    def __init__(self, canvas: RollCanvas, document: Document, settings: AppSettings, messages: Messages,
                 dialog_parent: QWidget, runner: JobRunner) -> None:
        super().__init__(dialog_parent)
        self.canvas = canvas
        self.document = document
        self.settings = settings
        self.messages = messages
        self.dialog_parent = dialog_parent
        self.runner = runner

    def ask_path(self, title: str, suffix: str, file_filter: str) -> str:
        """The file the user chooses in a save dialog titled ``title`` (empty if cancelled), proposed with
        ``suffix`` next to the piece's file or in the save folder."""
        path = self.document.path
        if path is not None and not read_only_location(path):
            default = Path(path)
        else:
            default = save_folder(self.settings) / (Path(path).name if path is not None else self.document.title)
        chosen, _ = QFileDialog.getSaveFileName(self.dialog_parent, title, str(default.with_suffix(suffix)),
                                                file_filter)
        return chosen
