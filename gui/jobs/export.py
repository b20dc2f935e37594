"""Export WAV: render what the piano roll shows with the built-in synth into a WAV file, in a child process.

Rendering is Python and numpy work that would hold the GUI thread's interpreter for seconds, so it runs in a
process of its own (:func:`gui.jobs.tasks.render_wav`, which calls :func:`gui.synth.export_wav` there) through the
window's :class:`~gui.jobs.runner.JobRunner`: the Compose panel's progress bar shows it busy, Cancel (Esc) kills
the child at once, and the window stays responsive. The child writes a hidden partial file beside the target and
renames it into place at the end, so a cancelled export leaves the target as it was (the partial file is
deleted).

(Saving the piece as MIDI is :mod:`gui.files`; a result is exported as MIDI by dragging it out of the
results list, :class:`gui.generate_panel.VariationList`.)
"""

from __future__ import annotations

import os
from pathlib import Path

from gui.jobs.process import ProcessWorker
from gui.jobs.shown_piece import ShownPieceExport
from gui.jobs.tasks import RENDER_WAV

WAV_FILTER = "WAV audio (*.wav)"
EXPORT_LABEL = "Export WAV"
EXPORT_ERRORS = "gui.jobs.errors:export_error_message"


def partial_path(path: str | os.PathLike) -> Path:
    """The hidden file an export writes before renaming it to ``path`` (same folder, so the rename is atomic)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}.partial.wav")


class WavExport(ShownPieceExport):
    """Renders the shown piece to WAV in a child process; see the module docstring.

    Args:
        canvas: the piano roll; its piece (the document's, or a previewed result) is what is rendered.
        document: names the default file.
        settings: the folder of the last save (the default folder for the WAV file).
        messages: where messages and errors go.
        dialog_parent: the window the file dialog belongs to.
        runner: runs the export as the window's one job (progress bar, Cancel, errors as "Export WAV failed").
    """

    def export_wav_to(self, path: str | os.PathLike) -> bool:
        """Start rendering the shown piece into a WAV file (the window's ``jobFinished`` says when it has ended).

        Returns:
            True when the export started; False (error shown) when it cannot: no synthesizer, no notes, another
            job running.
        """
        try:
            import gui.synth  # noqa: F401 (the child renders with it; a build without it cannot export)
        except ImportError as error:
            self.messages.show_error("Cannot export WAV", f"the synthesizer is not available: {error}")
            return False
        piece = self.canvas.piece
        if not piece.notes:
            self.messages.show_error("Cannot export WAV", "the piece has no notes")
            return False
        path, partial = str(Path(path).expanduser()), str(partial_path(Path(path).expanduser()))

        def ended(worker: ProcessWorker) -> None:
            try:
                Path(partial).unlink(missing_ok=True)  # a child killed half-way leaves it behind
            except OSError:
                pass  # not there to delete (its folder could not be made)

        return self.runner.start_process(RENDER_WAV, (piece, path, partial), EXPORT_LABEL,
                                         lambda _done: self.messages.show_message(f"Exported {path}"),
                                         describe_error=EXPORT_ERRORS, cancel_kills=True, on_ended=ended)

    def export_wav_dialog(self) -> None:
        """Ask for the WAV file (next to the piece's file, or in the save folder), then export."""
        path = self.ask_path(EXPORT_LABEL, ".wav", WAV_FILTER)
        if path:
            self.export_wav_to(path)
