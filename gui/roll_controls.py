"""The piano roll's toolbar boxes: the editing tool, the snap grid and the voice new notes go into."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar

from composer.music.notes import Piece
from gui.actions import make_combo
from gui.document import Document
from gui.piano_roll import SNAP_CHOICES, RollCanvas, Tool
from gui.settings import AppSettings

MAX_VOICES = 16


class RollControls(QObject):
    """The Tool, Snap and Voice boxes, kept in step with the canvas and the piece's voices.

    Args:
        canvas: the piano roll the boxes set.
        document: its voices fill the Voice box (plus "New voice" while there is room for one).
        parent: Qt parent.
    """

    def __init__(self, canvas: RollCanvas, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.tool_combo: QComboBox = make_combo([t.value for t in Tool], "Draw: click to add notes. Select: drag a "
                                                "box to select (shift+drag also selects in Draw)")
        self.tool_combo.currentTextChanged.connect(lambda text: setattr(canvas, "tool", Tool(text)))
        self.snap_combo: QComboBox = make_combo(list(SNAP_CHOICES), "Grid that new, moved and resized notes snap to")
        self.snap_combo.setCurrentText("1/16")
        self.snap_combo.currentTextChanged.connect(self._snap_changed)
        self.voice_combo: QComboBox = make_combo([], "The voice new notes are drawn in")
        self.voice_combo.currentIndexChanged.connect(lambda i: setattr(canvas, "current_voice", max(0, i)))
        document.pieceChanged.connect(self._piece_changed)
        self._piece_changed(document.piece)

    def add_to(self, bar: QToolBar) -> None:
        """Put the boxes, each with its label, on ``bar``."""
        for label, widget in (("Tool", self.tool_combo), ("Snap", self.snap_combo), ("Voice", self.voice_combo)):
            bar.addWidget(QLabel(f" {label} "))
            bar.addWidget(widget)

    def restore_settings(self, settings: AppSettings) -> None:
        """Set the snap grid remembered from the last session."""
        self.snap_combo.setCurrentText(settings.value("view/snap", "1/16", str))

    def save_settings(self, settings: AppSettings) -> None:
        settings.set_value("view/snap", self.snap_combo.currentText())

    def _snap_changed(self, text: str) -> None:
        self.canvas.snap_beats = SNAP_CHOICES.get(text, 0.25)

    def _piece_changed(self, piece: Piece) -> None:
        """Offer the piece's voices (and a new one) in the Voice box, keeping the chosen one."""
        names = [v.name or f"Voice {i + 1}" for i, v in enumerate(piece.voices)]
        current = self.voice_combo.currentIndex()
        self.voice_combo.blockSignals(True)
        self.voice_combo.clear()
        self.voice_combo.addItems(names + (["New voice"] if len(names) < MAX_VOICES else []))
        self.voice_combo.setCurrentIndex(min(max(current, 0), len(names) - 1))
        self.voice_combo.blockSignals(False)
        self.canvas.current_voice = max(0, self.voice_combo.currentIndex())
