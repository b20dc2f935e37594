"""The results list at work: previewing a result (read-only, in the piano roll, under a banner),
auditioning it, making it the piece, and comparing two of them (:meth:`ResultsView.compare`: both overlaid in
the roll, A's voices and B's in their own colours, the banner's links switch between hearing A, B or both; see
:mod:`gui.history_compare`)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel

from gui.chord_lane import link_chord_lane
from gui.history_compare import A, B, BOTH, ABSwitch, compare_piece
from gui.document import Document
from gui.generate_panel import GeneratePanel, Variation
from gui.messages import Messages
from gui.piano_roll import PianoRoll
from gui.roll_grid import voice_colour
from gui.transport import Transport
from gui.voice_mix import VoiceMix


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

    Attributes:
        comparing: the two results being compared (A, B), or None.
        ab: while comparing, which of them is heard (:class:`~gui.history_compare.ABSwitch`).
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
        self.mix: VoiceMix | None = None   # the window's voice mix (set_voice_mix): A/B switching solos in it
        self.comparing: tuple[Variation, Variation] | None = None
        self.ab: ABSwitch | None = None
        banner.setTextInteractionFlags(Qt.LinksAccessibleByMouse)
        banner.linkActivated.connect(self.hear)
        panel.previewChanged.connect(self.preview)
        panel.useRequested.connect(self.use_selected_variation)
        panel.auditionRequested.connect(self.audition)
        link_chord_lane(piano_roll.chord_lane, panel, messages)   # a chord result's chords, edits to the panel

    def preview(self, variation: Variation | None) -> None:
        """Show ``variation`` read-only in the piano roll (None: back to the document); the region a
        regeneration changed (a variation's ``changed``, when it has one) is shaded. A comparison ends."""
        self.end_compare()
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
        """Empty the results list, every run's except the pinned results, and show the document (a new piece starts
        without the old results)."""
        self.panel.clear_results()

    def use_selected_variation(self) -> bool:
        return self.use_variation(self.panel.results.currentRow())

    def audition(self) -> None:
        """Play the selected result (while comparing: both, as the A/B switch lets through)."""
        if self.comparing is not None:
            self.transport.audition(self.piano_roll.canvas.piece)
            return
        variation = self.panel.results.current_variation()
        if variation is not None:
            self.transport.audition(variation.piece)

    # -- comparing two results ----------------------------------------------------------------------
    def set_voice_mix(self, mix: VoiceMix) -> None:
        """The window's voice mix, which A/B switching solos voices in."""
        self.mix = mix

    def compare(self, rows: list[int]) -> bool:
        """Show the results in ``rows`` (two of them, A the upper) overlaid in the piano roll, read-only; the
        banner names them in their colours and switches what is heard (:meth:`hear`). Choosing another result,
        "Back to my piece" or "Use this one" ends the comparison.

        Returns:
            False (nothing changes) unless ``rows`` names two results.
        """
        results = self.panel.results
        pair = [results.variation(row) for row in sorted(set(rows))]
        if len(pair) != 2 or None in pair:
            self.messages.show_message("Select two results to compare (Ctrl+click the second)")
            return False
        a, b = pair
        self.end_compare()
        piece = compare_piece(a.piece, b.piece)
        new_from = min(a.new_from, b.new_from)
        self.piano_roll.canvas.set_preview(piece, new_from)
        self.piano_roll.chord_lane.show_variation(a)
        self.piano_roll.show_pitch_range(piece)
        self.piano_roll.fit_width(max(a.end_tick, b.end_tick, piece.end))
        self.comparing = (a, b)
        if self.mix is not None:
            self.ab = ABSwitch(self.mix, len(a.piece.voices), len(b.piece.voices))
        self._compare_banner()
        self.banner.setVisible(True)
        return True

    def hear(self, which: str) -> None:
        """While comparing, hear A, B or both ("a", "b", "both"); playing goes on from the playhead."""
        if self.comparing is None or self.ab is None or which not in (A, B, BOTH):
            return
        self.ab.hear(which)
        a, b = self.comparing
        self.piano_roll.chord_lane.show_variation(b if which == B else a)    # the chords of what is heard
        self._compare_banner()

    def end_compare(self) -> None:
        """Stop comparing (the solos A/B switching set are undone); the roll is left to the caller."""
        if self.ab is not None:
            self.ab.release()
        self.comparing, self.ab = None, None

    def _compare_banner(self) -> None:
        a, b = self.comparing
        hearing = self.ab.hearing if self.ab is not None else BOTH
        colour_b = voice_colour(len(a.piece.voices)).name()
        link = "color:#ffd54f; font-weight:bold"

        def choice(which: str, text: str) -> str:
            return f"<b>[{text}]</b>" if which == hearing else f'<a href="{which}" style="{link}">{text}</a>'

        self.banner.setText(
            f'Comparing <b style="color:{voice_colour(0).name()}">A</b> {escape(a.label)} with '
            f'<b style="color:{colour_b}">B</b> {escape(b.label)} (read-only). Hear: {choice(A, "A")} '
            f'{choice(B, "B")} {choice(BOTH, "both")}.{self._chords_shown(a, b, hearing)} Audition plays them; '
            f'"Back to my piece" returns.')

    @staticmethod
    def _chords_shown(a, b, hearing: str) -> str:
        """Whose chords the lane shows (the result heard; A's for both), for the banner, when either has chords."""
        if not (getattr(a, "chord_spans", ()) or getattr(b, "chord_spans", ())):
            return ""
        return f" Chords: {'B' if hearing == B else 'A'}'s."
