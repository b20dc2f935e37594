"""Choosing which tracks (voices) of a MIDI file to open."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout, QWidget)

from composer.music.notes import Piece


def track_labels(piece: Piece) -> list[str]:
    """One line per voice: its number, name and note count."""
    counts = [0] * len(piece.voices)
    for note in piece.notes:
        counts[note.voice] += 1
    return [f"{index + 1}. {voice.name or 'Track ' + str(index + 1)} ({counts[index]} notes"
            f"{', drums' if voice.is_drum else ''})" for index, voice in enumerate(piece.voices)]


class TrackDialog(QDialog):
    """Lists the tracks of a file with their note counts; the user ticks the ones to open.

    Args:
        piece: the file's piece.
        file_name: shown in the title.
    """

    def __init__(self, piece: Piece, file_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open {file_name}: choose tracks")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("This file has several tracks. Which ones do you want to open?"))
        self.list = QListWidget()
        self.list.setToolTip("Tick the tracks to open; each becomes a voice in the piano roll")
        for index, label in enumerate(track_labels(piece)):
            item = QListWidgetItem(label)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if index == 0 else Qt.Unchecked)
            self.list.addItem(item)
        layout.addWidget(self.list)
        self.all_check = QCheckBox("All tracks")
        self.all_check.setToolTip("Open every track")
        self.all_check.toggled.connect(self._all_toggled)
        layout.addWidget(self.all_check)
        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _all_toggled(self, checked: bool) -> None:
        for row in range(self.list.count()):
            self.list.item(row).setCheckState(Qt.Checked if checked else Qt.Unchecked)

    def chosen(self) -> list[int]:
        """Indices of the ticked voices."""
        return [row for row in range(self.list.count()) if self.list.item(row).checkState() == Qt.Checked]
