"""The piano roll's toolbar boxes: the editing tool, the snap grid and the voice new notes go into; the piece's
tempo, time signature and key (:class:`~gui.piece_header.PieceHeader`, on a bar of their own); and auditioning
the notes clicked or drawn (:class:`~gui.audition.Auditioner`)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QToolBar

from composer.music.notes import Piece
from gui.actions import make_combo
from gui.audition import Auditioner
from gui.document import Document
from gui.piano_roll import SNAP_CHOICES, RollCanvas, Tool
from gui.piece_header import PieceHeader
from gui.settings import AppSettings

MAX_VOICES = 16


class RollControls(QObject):
    """The Tool, Snap and Voice boxes, kept in step with the canvas and the piece's voices.

    Args:
        canvas: the piano roll the boxes set.
        document: its voices fill the Voice box (plus "New voice" while there is room for one); its tempo,
            time signature and key fill the piece's boxes (``header``).
        parent: Qt parent.
        transport: plays the notes clicked or drawn (``auditioner``); None: they are not auditioned.
    """

    def __init__(self, canvas: RollCanvas, document: Document, parent: QObject | None = None,
                 transport=None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.header = PieceHeader(document, self)
        self.auditioner = Auditioner(transport, canvas, self) if transport is not None else None
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
        """Put the boxes, each with its label, on ``bar``; the piece's boxes go on a "Piece" bar of their own
        under it when ``bar`` is in a main window (else on ``bar`` too)."""
        for label, widget in (("Tool", self.tool_combo), ("Snap", self.snap_combo), ("Voice", self.voice_combo)):
            bar.addWidget(QLabel(f" {label} "))
            bar.addWidget(widget)
        window = bar.parentWidget()
        if isinstance(window, QMainWindow):
            self.piece_bar = QToolBar("Piece")
            self.piece_bar.setObjectName("piece_toolbar")
            window.addToolBarBreak()
            window.addToolBar(self.piece_bar)
            bar = self.piece_bar
        self.header.add_to(bar)

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
