"""The results list at work: previewing a result (read-only, in the piano roll, under a banner),
auditioning it, and making it the piece."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from gui.chord_lane import link_chord_lane
from gui.document import Document
from gui.generate_panel import GeneratePanel, Variation
from gui.messages import Messages
from gui.piano_roll import PianoRoll
from gui.transport import Transport


class ResultsView(QObject):
    """Shows the result selected in the panel's list, and uses or plays it on request.

    Args:
        panel: the Compose panel and its results list.
        piano_roll: where a result is previewed.
        document: what "use" replaces (one undoable step).
        transport: plays a result.
        banner: says which result is previewed (shown only while one is).
        messages: where messages go.
        parent: Qt parent.
    """

    def __init__(self, panel: GeneratePanel, piano_roll: PianoRoll, document: Document, transport: Transport,
                 banner: QLabel, messages: Messages, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.piano_roll = piano_roll
        self.document = document
        self.transport = transport
        self.messages = messages
        self.banner = banner
        panel.previewChanged.connect(self.preview)
        panel.useRequested.connect(self.use_selected_variation)
        panel.auditionRequested.connect(self.audition)
        link_chord_lane(piano_roll.chord_lane, panel, messages)   # a chord result's chords, edits to the panel

    def preview(self, variation: Variation | None) -> None:
        """Show ``variation`` read-only in the piano roll (None: back to the document); the region a
        regeneration changed (a variation's ``changed``, when it has one) is shaded."""
        self.piano_roll.canvas.set_preview(variation.piece if variation else None,
                                           variation.new_from if variation else 0,
                                           getattr(variation, "changed", None))
        if variation is not None:
            self.banner.setText(f"Previewing {variation.label} (read-only). \"Use this one\" "
                                        "makes it your piece; \"Back to my piece\" returns.")
            self.piano_roll.show_pitch_range(variation.piece)
            self.piano_roll.fit_width(max(variation.end_tick, variation.piece.end))
        self.banner.setVisible(variation is not None)

    def use_variation(self, row: int) -> bool:
        """Make result ``row`` the document's piece (one undoable step)."""
        variation = self.panel.results.variation(row)
        if variation is None:
            return False
        had, has = len(self.document.piece.voices), len(variation.piece.voices)
        lost = had > has and any(n.voice >= has for n in self.document.piece.notes)
        self.document.apply(variation.piece, f"Use {variation.label}")
        self.panel.clear_preview()
        self.messages.show_message(f"Now editing {variation.label}" + (
            f": it replaces your piece's {had} voices with {has} (Undo brings them back)" if lost else ""))
        return True

    def clear(self) -> None:
        """Empty the results list, every run's, and show the document (a new piece starts without the old
        results)."""
        self.panel.clear_results()

    def use_selected_variation(self) -> bool:
        return self.use_variation(self.panel.results.currentRow())

    def audition(self) -> None:
        """Play the selected result."""
        variation = self.panel.results.current_variation()
        if variation is not None:
            self.transport.audition(variation.piece)
