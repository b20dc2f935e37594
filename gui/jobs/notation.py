"""Export MusicXML: the piece the piano roll shows as a score for notation programs (MuseScore...), written by
:func:`composer.music.notation.write_musicxml` in a child process (:mod:`gui.jobs.notation_task`) through the
window's :class:`~gui.jobs.runner.JobRunner`, so the window stays responsive while music21 loads and works.

The score has one named staff per voice, the piece's key signature (else the estimated key), its metre and
pickup, ties over bar lines and the tempo (see :mod:`composer.music.notation`).
"""

from __future__ import annotations

import os
from pathlib import Path

from gui.jobs.notation_task import DESCRIBE_ERROR, WRITE_MUSICXML
from gui.jobs.shown_piece import ShownPieceExport

MUSICXML_FILTER = "MusicXML score (*.musicxml)"
EXPORT_LABEL = "Export MusicXML"


class ScoreExport(ShownPieceExport):
    """Writes the shown piece as a MusicXML score in a child process; see the module docstring.

    Args:
        canvas: the piano roll; its piece (the document's, or a previewed result) is what is written.
        document: names the default file.
        settings: the folder of the last save (the default folder for the score).
        messages: where messages and errors go.
        dialog_parent: the window the file dialog belongs to.
        runner: runs the export as the window's one job (errors as "Export MusicXML failed").
    """

    def export_musicxml_to(self, path: str | os.PathLike) -> bool:
        """Start writing the shown piece as a MusicXML score (the window's ``jobFinished`` says when it has ended).

        Returns:
            True when the export started; False (error shown) when the piece has no notes or another job runs.
        """
        piece = self.canvas.piece
        if not piece.notes:
            self.messages.show_error("Cannot export MusicXML", "the piece has no notes")
            return False
        path = str(Path(path).expanduser())
        return self.runner.start_process(WRITE_MUSICXML, (piece, path), EXPORT_LABEL, self.messages.show_message,
                                         describe_error=DESCRIBE_ERROR, cancel_kills=True)

    def export_musicxml_dialog(self) -> None:
        """Ask for the score file (next to the piece's file, or in the save folder), then export."""
        path = self.ask_path(EXPORT_LABEL, ".musicxml", MUSICXML_FILTER)
        if path:
            self.export_musicxml_to(path)
