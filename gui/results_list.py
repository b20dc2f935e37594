"""The results list: every job's results, kept across runs so they can be compared, newest first.

Each job adds a group (:meth:`VariationList.add_group`) at the top of the list: a header line naming the run (what
it was, how many results, the seed, the time), then its results. Earlier groups stay below until the list is
cleared (the Results box's Clear button, or File > New); beyond :data:`MAX_GROUPS` groups the oldest goes. The
header is painted above a group's first item (:class:`GroupHeaderDelegate`), so every row of the list is a result
and row 0 is the newest run's first. Items can be dragged out of the list as ``.mid`` files (into a DAW or a file
manager), written into the session's temporary folder (:mod:`gui.session_files`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QModelIndex, QRect, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QDrag, QFont, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QListWidget, QListWidgetItem, QStyledItemDelegate,
                               QStyleOptionViewItem, QWidget)

from composer.music.analysis import estimate_key
from composer.music.midi_io import write_midi
from composer.music.notes import Piece
from gui.session_files import session_dir

LABEL_BUDGET_S = 0.008   # the most time one pass of the results list's key labelling may hold the GUI thread
MAX_GROUPS = 30          # runs kept in the list; the oldest goes beyond that
HEADER_ROLE = Qt.ItemDataRole.UserRole + 1   # on a group's first item: the group's header text
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2    # on every item of a group: the group's number (1 for the first run)


@dataclass(frozen=True)
class Variation:
    """One result: a piece, how it came to be, and where its file should end."""

    piece: Piece
    label: str
    end_tick: int
    seed: int | None = None
    new_from: int = 0      # where the new music starts (after a primer); 0 when all of it is new
    chord_spans: tuple = ()  # the chords a chord model was given (ChordSpans in the piece's ticks), shown in the lane


def safe_file_name(text: str) -> str:
    """A file name made of ``text`` (letters, digits, - and _ only)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "variation"


def variation_label(variation: Variation, with_key: bool = True) -> str:
    """The results list's text for ``variation``: its label, its note count and (``with_key``) the key it sounds
    in, by :func:`composer.music.analysis.estimate_key` (a few milliseconds per piece)."""
    notes = len(variation.piece.notes)
    estimate = estimate_key(variation.piece) if with_key else None
    key = f", sounds in {estimate.key}" if estimate is not None else ""
    return f"{variation.label}  ({notes} notes{key})"


def group_title(variations: list[Variation], title: str = "") -> str:
    """A group's header: ``title`` (default: the first result's label without its number), the count, the seed,
    and the time of day (``"Variation: 8 results, seed 42, 14:03:12"``)."""
    name = title or re.sub(r"\s*\d+$", "", variations[0].label if variations else "") or "Results"
    seed = variations[0].seed if variations else None
    return (f"{name}: {len(variations)} result{'s' if len(variations) != 1 else ''}"
            + (f", seed {seed}" if seed is not None else "") + f", {time.strftime('%H:%M:%S')}")


class GroupHeaderDelegate(QStyledItemDelegate):
    """Paints a group's header (bold, on a shaded band) above the item that carries :data:`HEADER_ROLE`."""

    def _header_height(self, option: QStyleOptionViewItem) -> int:
        return option.fontMetrics.height() + 8

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802 (Qt name)
        """Taller by a header line for a group's first item."""
        size = super().sizeHint(option, index)
        if index.data(HEADER_ROLE):
            size.setHeight(size.height() + self._header_height(option))
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        """The header band (when the item has one), then the item below it."""
        header = index.data(HEADER_ROLE)
        if not header:
            super().paint(painter, option, index)
            return
        height = self._header_height(option)
        band = QRect(option.rect.left(), option.rect.top(), option.rect.width(), height)
        painter.save()
        painter.fillRect(band, option.palette.alternateBase())
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(option.palette.text().color())
        painter.drawText(band.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         header)
        painter.restore()
        item_option = QStyleOptionViewItem(option)
        item_option.rect = option.rect.adjusted(0, height, 0, 0)
        super().paint(painter, item_option, index)


class VariationList(QListWidget):
    """The results, in groups, newest first (see the module docstring). Dragging an item out gives the receiver a
    .mid file of it.

    Adding results is cheap: an item first shows the label and the note count, and the key it sounds in (an
    analysis of every note, milliseconds per result) is added afterwards, a few items per pass of the event loop
    (:data:`LABEL_BUDGET_S` at most each), so that filling the list with 16 long results never freezes the window.
    The current item is labelled at once.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setItemDelegate(GroupHeaderDelegate(self))
        self.setToolTip("Results, newest run first: click to preview in the piano roll, double-click to use it,\n"
                        "drag one out of the window to get it as a .mid file")
        self._groups = 0
        self._unlabelled: list[QListWidgetItem] = []
        self._label_timer = QTimer(self)
        self._label_timer.setInterval(0)
        self._label_timer.timeout.connect(self.label_some)
        self.currentRowChanged.connect(self._label_row)

    def _make_item(self, variation: Variation) -> QListWidgetItem:
        notes = len(variation.piece.notes)
        item = QListWidgetItem(variation_label(variation, with_key=False))
        item.setData(Qt.UserRole, variation)
        item.setToolTip(f"{variation.label}: {notes} notes, {len(variation.piece.voices)} voice(s)"
                        + (f", seed {variation.seed}" if variation.seed is not None else ""))
        self._unlabelled.append(item)
        self._label_timer.start()
        return item

    def add_variation(self, variation: Variation) -> QListWidgetItem:
        """Add a result at the end (outside any group); its key is added to its text soon after."""
        item = self._make_item(variation)
        self.addItem(item)
        return item

    def add_group(self, variations: list[Variation], title: str = "") -> int:
        """Add a run's results as a new group at the top, under a header (:func:`group_title`).

        Args:
            variations: the run's results, in order.
            title: what the run was ("Harmonization"); default the first result's label without its number.

        Returns:
            The number of results added (they are rows 0 to that number - 1).
        """
        if not variations:
            return 0
        self._groups += 1
        for row, variation in enumerate(variations):
            item = self._make_item(variation)
            item.setData(GROUP_ROLE, self._groups)
            if row == 0:
                item.setData(HEADER_ROLE, group_title(variations, title))
            self.insertItem(row, item)
        self._drop_old_groups()
        return len(variations)

    def _drop_old_groups(self) -> None:
        """Keep :data:`MAX_GROUPS` groups: remove the oldest from the bottom."""
        oldest = self._groups - MAX_GROUPS
        while self.count() and (self.item(self.count() - 1).data(GROUP_ROLE) or 0) > 0 \
                and self.item(self.count() - 1).data(GROUP_ROLE) <= oldest:
            item = self.takeItem(self.count() - 1)
            self._unlabelled = [other for other in self._unlabelled if other is not item]

    def group_count(self) -> int:
        """How many runs the list holds."""
        return len({self.item(row).data(GROUP_ROLE) for row in range(self.count())} - {None})

    def headers(self) -> list[str]:
        """The groups' headers, newest first."""
        return [text for row in range(self.count()) if (text := self.item(row).data(HEADER_ROLE))]

    def latest(self) -> list[Variation]:
        """The newest run's results (empty when the list is)."""
        if not self.count():
            return []
        group = self.item(0).data(GROUP_ROLE)
        return [self.variation(row) for row in range(self.count()) if self.item(row).data(GROUP_ROLE) == group]

    def labels_pending(self) -> int:
        """How many items still wait for their key."""
        return len(self._unlabelled)

    def label_some(self, budget_s: float = LABEL_BUDGET_S) -> None:
        """Add the key to waiting items' text, for about ``budget_s`` (at least one item)."""
        deadline = time.perf_counter() + budget_s
        while self._unlabelled:
            self._label(self._unlabelled.pop(0))
            if time.perf_counter() >= deadline:
                break
        if not self._unlabelled:
            self._label_timer.stop()

    def label_all(self) -> None:
        """Add the key to every waiting item now."""
        self.label_some(budget_s=float("inf"))

    def clear(self) -> None:
        """Remove every result, of every run."""
        self._unlabelled.clear()
        self._label_timer.stop()
        super().clear()

    def _label_row(self, row: int) -> None:
        item = self.item(row) if row >= 0 else None
        waiting = [index for index, other in enumerate(self._unlabelled) if other is item]
        if waiting:
            self._label(self._unlabelled.pop(waiting[0]))

    @staticmethod
    def _label(item: QListWidgetItem) -> None:
        item.setText(variation_label(item.data(Qt.UserRole)))

    def variation(self, row: int) -> Variation | None:
        """The result in ``row``, or None."""
        item = self.item(row)
        return item.data(Qt.UserRole) if item is not None else None

    def current_variation(self) -> Variation | None:
        """The selected result, or None."""
        return self.variation(self.currentRow()) if self.currentRow() >= 0 else None

    def variations(self) -> list[Variation]:
        """Every result in the list, newest run first."""
        return [self.variation(row) for row in range(self.count())]

    def write_midi_file(self, row: int) -> Path:
        """Write the variation in ``row`` to a .mid file (for dragging) and return its path: in the session's
        temporary folder (:func:`gui.session_files.session_dir`), removed when the app quits; the results of the second and
        later runs carry the run's number (``run2_Variation_1.mid``), so runs never write over each other."""
        variation = self.variation(row)
        group = self.item(row).data(GROUP_ROLE)
        prefix = f"run{group}_" if group and group > 1 else ""
        path = session_dir() / f"{prefix}{safe_file_name(variation.label)}.mid"
        write_midi(variation.piece, path, end_tick=max(variation.end_tick, variation.piece.end))
        return path

    def mimeData(self, items) -> QMimeData:  # noqa: N802 (Qt name)
        """The dragged items as ``.mid`` files (their URLs)."""
        data = QMimeData()
        urls = [QUrl.fromLocalFile(str(self.write_midi_file(self.row(item)))) for item in items]
        data.setUrls(urls)
        return data

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt name)
        return ["text/uri-list"]

    def startDrag(self, actions) -> None:  # noqa: N802 (Qt name)
        items = self.selectedItems()
        if not items:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData(items))
        drag.exec(Qt.CopyAction)
