"""The piece's tempo (BPM), time signature and key, shown and edited in a small bar over the roll.

Each edit is one undoable step of the :class:`~gui.document.Document` and changes its
:class:`~composer.music.notes.Piece` (its opening tempo, its opening time signature, its key), which Save
writes into the MIDI file. A piece that opens with a pickup bar shows and changes the tune's time signature
(the pickup keeps its length). The boxes follow the document (an open, an undo, a new piece).
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QToolBar

from composer.music.keys import key_name
from composer.music.metre import parse_time_signature
from composer.music.notes import Piece
from gui.commands import piece_time_signature, with_key, with_tempo, with_time_signature
from gui.document import Document

NO_KEY = "No key"
METRES = ("4/4", "3/4", "2/4", "2/2", "6/8", "9/8", "12/8", "3/8", "5/4", "7/8")
KEYS = tuple(key_name(tonic, "major") for tonic in range(12)) + tuple(key_name(tonic, "minor") for tonic in range(12))
MIN_BPM, MAX_BPM = 10.0, 400.0


class PieceHeader(QObject):
    """The BPM, Time and Key boxes of the document's piece.

    Args:
        document: the piece shown and edited.
        parent: Qt parent.
    """

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.bpm_spin = QDoubleSpinBox()
        self.bpm_spin.setRange(MIN_BPM, MAX_BPM)
        self.bpm_spin.setDecimals(1)
        self.bpm_spin.setKeyboardTracking(False)   # one edit when typing ends, not one per key
        self.bpm_spin.setToolTip("The piece's tempo in beats (quarter notes) per minute; saved in the MIDI file")
        self.bpm_spin.valueChanged.connect(self.set_tempo)
        self.metre_combo = _editable_combo(METRES, "The piece's time signature (type another, such as 7/4)")
        self.metre_combo.textActivated.connect(self.set_time_signature)
        self.key_combo = _editable_combo((NO_KEY,) + KEYS, "The piece's key; its scale is highlighted on the roll "
                                         "(type a mode too, such as Ddor)")
        self.key_combo.textActivated.connect(self.set_key)
        document.pieceChanged.connect(self.show_piece)
        self.show_piece(document.piece)

    def add_to(self, bar: QToolBar) -> None:
        """Put the boxes, each with its label, on ``bar``."""
        for label, widget in (("BPM", self.bpm_spin), ("Time", self.metre_combo), ("Key", self.key_combo)):
            bar.addWidget(QLabel(f" {label} "))
            bar.addWidget(widget)

    def show_piece(self, piece: Piece) -> None:
        """Show ``piece``'s opening tempo, its time signature (the tune's, after a pickup bar) and key (without
        editing anything)."""
        signature = piece_time_signature(piece)
        for widget in (self.bpm_spin, self.metre_combo, self.key_combo):
            widget.blockSignals(True)
        self.bpm_spin.setValue(piece.qpm)
        self.metre_combo.setCurrentText(f"{signature.numerator}/{signature.denominator}")
        self.key_combo.setCurrentText(piece.key or NO_KEY)
        for widget in (self.bpm_spin, self.metre_combo, self.key_combo):
            widget.blockSignals(False)

    # -- edits (each one undoable step) -------------------------------------------------------------
    def set_tempo(self, qpm: float) -> None:
        """Set the piece's opening tempo to ``qpm``."""
        if abs(qpm - self.document.piece.qpm) > 1e-6:
            self.document.apply(with_tempo(self.document.piece, qpm), f"Set tempo to {qpm:g} BPM")

    def set_time_signature(self, text: str) -> bool:
        """Set the piece's opening time signature from ``text`` ("3/4").

        Returns:
            False when ``text`` is not a time signature (the box goes back to the piece's).
        """
        try:
            numerator, denominator = parse_time_signature(text)
            piece = with_time_signature(self.document.piece, numerator, denominator)
        except ValueError:
            self.show_piece(self.document.piece)
            return False
        self.document.apply(piece, f"Set time signature to {numerator}/{denominator}")
        return True

    def set_key(self, text: str) -> bool:
        """Set the piece's key from ``text`` ("G", "Em", "Ddor"; "No key" or "" for none).

        Returns:
            False when ``text`` is not a key (the box goes back to the piece's).
        """
        key = None if text.strip() in ("", NO_KEY) else text.strip()
        try:
            piece = with_key(self.document.piece, key)
        except ValueError:
            self.show_piece(self.document.piece)
            return False
        self.document.apply(piece, f"Set key to {piece.key}" if piece.key else "Clear key")
        self.show_piece(self.document.piece)   # the key's canonical spelling
        return True


def _editable_combo(items: tuple[str, ...], tip: str) -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.NoInsert)
    combo.addItems(list(items))
    combo.setToolTip(tip)
    combo.setMinimumContentsLength(6)
    return combo
