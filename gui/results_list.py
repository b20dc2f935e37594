"""The results list: every job's results, kept across runs so they can be compared, newest first.

Each job adds a group (:meth:`VariationList.add_group`) at the top of the list, below the pinned results: a header
line naming the run (what it was, how many results, the seed, the time), then its results. Earlier groups stay
below until the list is cleared (the Results box's Clear button, or File > New); beyond :data:`MAX_GROUPS` groups
the oldest goes. The header is painted above a group's first item (:class:`GroupHeaderDelegate`), so every row of
the list is a result.

The history (issue 16): a result can be **pinned** (:meth:`VariationList.set_pinned`): pinned results sit on top,
under a "Pinned" header and with a pin mark, and neither Clear, File > New nor the :data:`MAX_GROUPS` limit removes
them. A result can be **renamed** (:meth:`VariationList.rename`, F2 edits the name in place): the name is its label
everywhere (the preview banner, "Use", the piece's name) and the file name it is dragged out or exported under
(:meth:`VariationList.file_stem`). Several results can be selected (Ctrl/Shift+click): they are dragged out
together, exported together (:meth:`VariationList.export_rows`, never over an existing file: a new name gets a
number), or, two of them, compared (:mod:`gui.history_compare`). Items are dragged out as ``.mid`` files (into a
DAW or a file manager), written into the session's temporary folder (:mod:`gui.session_files`).
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QModelIndex, QPointF, QRect, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QListWidget, QListWidgetItem, QStyledItemDelegate,
                               QStyleOptionViewItem, QWidget)

from composer.music.analysis import estimate_key
from composer.music.midi_io import write_midi
from composer.music.notes import Piece
from gui.session_files import session_dir

LABEL_BUDGET_S = 0.008   # the most time one pass of the results list's key labelling may hold the GUI thread
MAX_GROUPS = 30          # runs kept in the list; the oldest goes beyond that
HEADER_ROLE = Qt.ItemDataRole.UserRole + 1   # on a group's first item: the group's header text
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2    # on every item of a group: the group's number (1 for the first run)
ORDER_ROLE = Qt.ItemDataRole.UserRole + 3    # on every item of a group: its place in the group (0 for the first)
PINNED_ROLE = Qt.ItemDataRole.UserRole + 4   # True on a pinned result
RENAMED_ROLE = Qt.ItemDataRole.UserRole + 5  # True on a result the user named (its file name is the name alone)
PIN_COLOUR = QColor("#d9534f")               # the pin mark; reads on light and dark themes


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


def free_path(folder: Path, stem: str, taken: set[Path] | frozenset = frozenset()) -> Path:
    """``folder/stem.mid``, or, when that file exists (or is in ``taken``), the first free ``stem_2.mid``,
    ``stem_3.mid``...: an existing file is never written over."""
    path, number = folder / f"{stem}.mid", 1
    while path.exists() or path in taken:
        number += 1
        path = folder / f"{stem}_{number}.mid"
    return path


def pin_icon(size: int = 14) -> QIcon:
    """The pin mark of a pinned result: a drawn push-pin (a head and a needle), not an emoji the fonts may lack."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(QPen(PIN_COLOUR.darker(130), 1.6))
    painter.drawLine(QPointF(size * 0.45, size * 0.55), QPointF(size * 0.12, size * 0.9))   # the needle
    painter.setBrush(PIN_COLOUR)
    painter.setPen(QPen(PIN_COLOUR.darker(150), 1.0))
    painter.drawEllipse(QPointF(size * 0.62, size * 0.38), size * 0.3, size * 0.3)            # the head
    painter.end()
    return QIcon(pixmap)


class GroupHeaderDelegate(QStyledItemDelegate):
    """Paints a group's header (bold, on a shaded band) above the item that carries :data:`HEADER_ROLE`, and edits
    a result's name in place (F2): the editor holds the name alone, and the list renames the result."""

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

    # -- renaming in place -------------------------------------------------------------------------
    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802 (Qt name)
        """The editor starts with the result's name (its label), without the note count and key."""
        variation = index.data(Qt.UserRole)
        if isinstance(editor, QLineEdit) and variation is not None:
            editor.setText(variation.label)
            editor.selectAll()
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:  # noqa: N802 (Qt name)
        """Rename the result (through the list, which relabels it) rather than writing the editor's text."""
        view = self.parent()
        if isinstance(editor, QLineEdit) and isinstance(view, VariationList):
            view.rename(index.row(), editor.text())
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,  # noqa: N802 (Qt name)
                             index: QModelIndex) -> None:
        """The editor covers the item's line, below its header band."""
        rect = option.rect
        if index.data(HEADER_ROLE):
            rect = rect.adjusted(0, self._header_height(option), 0, 0)
        editor.setGeometry(rect)


class VariationList(QListWidget):
    """The results, in groups, newest first, pinned ones on top (see the module docstring). Dragging items out
    gives the receiver a .mid file of each.

    Adding results is cheap: an item first shows the label and the note count, and the key it sounds in (an
    analysis of every note, milliseconds per result) is added afterwards, a few items per pass of the event loop
    (:data:`LABEL_BUDGET_S` at most each), so that filling the list with 16 long results never freezes the window.
    The current item is labelled at once.

    Signals (QListWidget's): ``currentRowChanged`` previews a result; reordering (a pin) keeps the current item
    and does not signal.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setEditTriggers(QAbstractItemView.EditKeyPressed)   # F2 renames; a double-click still uses
        self.setItemDelegate(GroupHeaderDelegate(self))
        self.setToolTip("Results, newest run first, pinned ones on top: click to preview in the piano roll,\n"
                        "double-click to use it, F2 to rename, Ctrl+click a second one to compare (right-click);\n"
                        "drag results out of the window to get them as .mid files")
        self._groups = 0
        self._titles: dict[int, str] = {}   # group number -> its header
        self._unlabelled: list[QListWidgetItem] = []
        self._label_timer = QTimer(self)
        self._label_timer.setInterval(0)
        self._label_timer.timeout.connect(self.label_some)
        self.currentRowChanged.connect(self._label_row)

    def _make_item(self, variation: Variation) -> QListWidgetItem:
        notes = len(variation.piece.notes)
        item = QListWidgetItem(variation_label(variation, with_key=False))
        item.setFlags(item.flags() | Qt.ItemIsEditable)
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
        """Add a run's results as a new group at the top, below the pinned results, under a header
        (:func:`group_title`).

        Args:
            variations: the run's results, in order.
            title: what the run was ("Harmonization"); default the first result's label without its number.

        Returns:
            The number of results added (they are rows :meth:`newest_row` onwards).
        """
        if not variations:
            return 0
        self._groups += 1
        self._titles[self._groups] = group_title(variations, title)
        top = self.pinned_count()
        for row, variation in enumerate(variations):
            item = self._make_item(variation)
            item.setData(GROUP_ROLE, self._groups)
            item.setData(ORDER_ROLE, row)
            self.insertItem(top + row, item)
        self._drop_old_groups()
        self._set_headers()
        return len(variations)

    def _drop_old_groups(self) -> None:
        """Keep :data:`MAX_GROUPS` groups: remove the oldest unpinned results from the bottom."""
        oldest = self._groups - MAX_GROUPS
        while self.count() and not self._pinned(self.item(self.count() - 1)) \
                and 0 < (self.item(self.count() - 1).data(GROUP_ROLE) or 0) <= oldest:
            self._forget(self.takeItem(self.count() - 1))

    def _forget(self, item: QListWidgetItem) -> None:
        self._unlabelled = [other for other in self._unlabelled if other is not item]

    @staticmethod
    def _pinned(item: QListWidgetItem) -> bool:
        return bool(item.data(PINNED_ROLE))

    def group_count(self) -> int:
        """How many runs the list holds."""
        return len({self.item(row).data(GROUP_ROLE) for row in range(self.count())} - {None})

    def headers(self) -> list[str]:
        """The headers, top to bottom: "Pinned" (when a result is), then the groups', newest first."""
        return [text for row in range(self.count()) if (text := self.item(row).data(HEADER_ROLE))]

    def latest(self) -> list[Variation]:
        """The newest run's results, in their order, pinned ones among them (empty when the list is)."""
        groups = [group for row in range(self.count()) if (group := self.item(row).data(GROUP_ROLE))]
        if not groups:
            return []
        newest = max(groups)
        items = [self.item(row) for row in range(self.count()) if self.item(row).data(GROUP_ROLE) == newest]
        return [item.data(Qt.UserRole) for item in sorted(items, key=lambda item: item.data(ORDER_ROLE) or 0)]

    def newest_row(self) -> int:
        """The row of the newest run's first unpinned result (below the pinned ones), or -1."""
        top = self.pinned_count()
        return top if top < self.count() else -1

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
        """Remove every run's results except the pinned ones."""
        pinned = [self.item(row) for row in range(self.count()) if self._pinned(self.item(row))]
        if not pinned:
            self._unlabelled.clear()
            self._label_timer.stop()
            super().clear()
            return
        for row in reversed(range(self.count())):
            if not self._pinned(self.item(row)):
                self._forget(self.takeItem(row))
        self._set_headers()

    def clear_all(self) -> None:
        """Remove every result, pinned ones too."""
        for row in range(self.count()):
            self.item(row).setData(PINNED_ROLE, False)
        self.clear()

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

    def setCurrentRow(self, row: int, command=None) -> None:  # noqa: N802 (Qt name)
        """Make ``row`` the current result and the only one selected (-1: none), unless ``command`` says
        otherwise (QListWidget's own keeps an earlier selection in this multi-selection list)."""
        super().setCurrentRow(row, QItemSelectionModel.ClearAndSelect if command is None else command)

    def current_variation(self) -> Variation | None:
        """The selected result, or None."""
        return self.variation(self.currentRow()) if self.currentRow() >= 0 else None

    def variations(self) -> list[Variation]:
        """Every result in the list, top to bottom (pinned ones, then the newest run first)."""
        return [self.variation(row) for row in range(self.count())]

    def selected_rows(self) -> list[int]:
        """The selected results' rows, top to bottom."""
        return sorted(self.row(item) for item in self.selectedItems())

    # -- pin ---------------------------------------------------------------------------------------
    def is_pinned(self, row: int) -> bool:
        item = self.item(row)
        return item is not None and self._pinned(item)

    def pinned_count(self) -> int:
        """How many results are pinned (they are rows 0 to that number - 1)."""
        return sum(1 for row in range(self.count()) if self._pinned(self.item(row)))

    def set_pinned(self, rows: list[int], pinned: bool = True) -> None:
        """Pin (or unpin) the results in ``rows``: pinned ones move to the top with a pin mark and stay through
        Clear, New and the :data:`MAX_GROUPS` limit; an unpinned one goes back to its run's place, under its run's
        header (also when the rest of that run was cleared). The current and selected results stay so."""
        items = [self.item(row) for row in rows if self.item(row) is not None]
        for item in items:
            item.setData(PINNED_ROLE, pinned)
            item.setIcon(pin_icon() if pinned else QIcon())
            item.setToolTip(re.sub(r"^Pinned: ", "", item.toolTip()) if not pinned else f"Pinned: {item.toolTip()}")
        self._arrange()

    def _arrange(self) -> None:
        """Put the pinned results on top, then the runs newest first, each in its order; then set the headers."""
        def place(item: QListWidgetItem) -> tuple:
            return (not self._pinned(item), -(item.data(GROUP_ROLE) or 0), item.data(ORDER_ROLE) or 0)

        items = [self.item(row) for row in range(self.count())]
        wanted = sorted(items, key=place)
        if wanted != items:
            current, selected = self.currentItem(), self.selectedItems()
            self.blockSignals(True)
            try:
                for _ in range(self.count()):
                    self.takeItem(0)
                for item in wanted:
                    self.addItem(item)
                if current is not None:
                    self.setCurrentItem(current, QItemSelectionModel.NoUpdate)
                for item in selected:
                    item.setSelected(True)
            finally:
                self.blockSignals(False)
        self._set_headers()

    def _set_headers(self) -> None:
        """A "Pinned" header over the pinned results, the group's over each run's first result below them."""
        pinned = self.pinned_count()
        seen: set = set()
        for row in range(self.count()):
            item = self.item(row)
            header = None
            if row == 0 and pinned:
                header = f"Pinned: {pinned} result{'s' if pinned != 1 else ''}"
            elif row >= pinned and (group := item.data(GROUP_ROLE)) and group not in seen:
                seen.add(group)
                header = self._titles.get(group)
            if item.data(HEADER_ROLE) != header:
                item.setData(HEADER_ROLE, header)

    # -- rename ------------------------------------------------------------------------------------
    def rename(self, row: int, name: str) -> bool:
        """Give the result in ``row`` the name ``name``: its label (the list, the preview banner, "Use") and its
        piece's name (the title of a piece it becomes), and the file name it is dragged out or exported under.

        Returns:
            False for an empty name or no such row (nothing changes).
        """
        item, name = self.item(row), " ".join(name.split())
        if item is None or not name:
            return False
        variation = item.data(Qt.UserRole)
        if name == variation.label:
            return True
        renamed = dataclasses.replace(variation, label=name, piece=variation.piece.replace(name=name))
        item.setData(Qt.UserRole, renamed)
        item.setData(RENAMED_ROLE, True)
        self._forget(item)
        self._label(item)
        item.setToolTip(re.sub(r"^(Pinned: )?[^:]*:", lambda m: f"{m.group(1) or ''}{name}:", item.toolTip(), count=1))
        if row == self.currentRow():
            self.currentRowChanged.emit(row)   # the preview's banner names it anew
        return True

    def start_rename(self, row: int) -> None:
        """Edit the name of the result in ``row`` in place (as F2 does)."""
        item = self.item(row)
        if item is not None:
            self.setCurrentRow(row)
            self.editItem(item)

    # -- files -------------------------------------------------------------------------------------
    def file_stem(self, row: int) -> str:
        """The file name (without ``.mid``) the result in ``row`` is dragged out or exported under: a name the user
        gave, else its label, prefixed with its run from the second run on (``run2_Variation_1``), so runs never
        write over each other."""
        item = self.item(row)
        variation = item.data(Qt.UserRole)
        if item.data(RENAMED_ROLE):
            return safe_file_name(variation.label)
        group = item.data(GROUP_ROLE)
        prefix = f"run{group}_" if group and group > 1 else ""
        return f"{prefix}{safe_file_name(variation.label)}"

    def write_midi_file(self, row: int, folder: Path | None = None, taken: set[Path] | None = None) -> Path:
        """Write the variation in ``row`` to a .mid file named by :meth:`file_stem` and return its path.

        Args:
            row: the result.
            folder: where; default the session's temporary folder (:func:`gui.session_files.session_dir`, removed
                when the app quits; a drag's file there is written again by the next drag).
            taken: paths not to use either (other files of the same drag); with a ``folder`` an existing file is
                never written over: the name gets a number (:func:`free_path`).
        """
        variation = self.variation(row)
        stem = self.file_stem(row)
        if folder is None:
            path = session_dir() / f"{stem}.mid"
            if taken and path in taken:
                path = free_path(session_dir(), stem, taken)
        else:
            path = free_path(Path(folder), stem, taken or set())
        write_midi(variation.piece, path, end_tick=max(variation.end_tick, variation.piece.end))
        return path

    def export_rows(self, rows: list[int], folder: str | Path) -> list[Path]:
        """Write the results in ``rows`` into ``folder`` as .mid files (:meth:`file_stem` names; an existing file
        is never written over, the new one gets a number) and return their paths, in order."""
        written: list[Path] = []
        for row in rows:
            written.append(self.write_midi_file(row, Path(folder), set(written)))
        return written

    def mimeData(self, items) -> QMimeData:  # noqa: N802 (Qt name)
        """The dragged items as ``.mid`` files (their URLs), one file each."""
        data = QMimeData()
        paths: list[Path] = []
        for item in items:
            paths.append(self.write_midi_file(self.row(item), taken=set(paths)))
        data.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
        return data

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt name)
        return ["text/uri-list"]

    def startDrag(self, actions) -> None:  # noqa: N802 (Qt name)
        """Drag the selected results out (the one pressed is among them: pressing selects it)."""
        items = sorted(self.selectedItems(), key=self.row)
        if not items:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData(items))
        drag.exec(Qt.CopyAction)
