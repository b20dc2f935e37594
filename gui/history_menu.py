"""The results history's actions and context menu: pin, rename, compare, export, clear.

Right-click a result (or several: Ctrl/Shift+click) for the menu. The actions work on the selected results; the
work is done by methods that do not ask (:meth:`HistoryActions.export_all_to`, :meth:`HistoryActions.export_to`,
:meth:`VariationList.set_pinned`, :meth:`VariationList.rename`, :meth:`ResultsView.compare`), and the folder
dialog is a thin wrapper, so tests drive the real thing without modal dialogs. None of these is an edit of the
piece: they are not on the undo stack.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from gui.actions import make_action
from gui.files import read_only_location, save_folder
from gui.history_compare import A, B, BOTH
from gui.messages import Messages
from gui.results import ResultsView
from gui.results_list import VariationList
from gui.settings import AppSettings

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class HistoryActions(QObject):
    """The history's actions (shortcuts work while the results list has the focus) and its context menu.

    Args:
        results: the results list.
        view: the window's :class:`~gui.results.ResultsView` (preview, use, audition, compare).
        settings: where export folders are remembered (the last save folder).
        messages: where messages go.
        parent: Qt parent.

    Attributes:
        pin_action, rename_action, compare_action, export_selected_action, export_all_action, clear_action.
    """

    def __init__(self, results: VariationList, view: ResultsView, settings: AppSettings, messages: Messages,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results, self.view, self.settings, self.messages = results, view, settings, messages
        self.pin_action = make_action(results, "&Pin", self.toggle_pin, "Ctrl+P",
                                      "Pin the selected results: they stay on top, through Clear and New (Ctrl+P)")
        self.rename_action = make_action(results, "&Rename...", self.rename_current, "F2",
                                         "Rename the result: its name is its file name when dragged out or exported")
        self.compare_action = make_action(results, "&Compare the two selected", self.compare_selected, None,
                                          "Show the two selected results overlaid, A and B in their own colours; "
                                          "switch between hearing A, B or both")
        self.export_selected_action = make_action(results, "&Export selected to folder...",
                                                  self.export_selected_dialog, None,
                                                  "Write the selected results into a folder as .mid files")
        self.export_all_action = make_action(results, "Export &all to folder...", self.export_all_dialog, None,
                                             "Write every result in the list into a folder as .mid files "
                                             "(an existing file is never replaced: a new name gets a number)")
        self.clear_action = make_action(results, "C&lear (keep pinned)", view.clear, None,
                                        "Remove every result except the pinned ones")
        for action in (self.pin_action, self.rename_action):
            action.setShortcutContext(Qt.WidgetShortcut)
            results.addAction(action)
        results.setContextMenuPolicy(Qt.CustomContextMenu)
        results.customContextMenuRequested.connect(self.show_menu)

    # -- the menu ----------------------------------------------------------------------------------
    def menu(self) -> QMenu:
        """The context menu for the current selection (built afresh: its entries depend on it)."""
        results = self.results
        rows = results.selected_rows()
        menu = QMenu(results)
        use = menu.addAction("&Use this one", self.view.use_selected_variation)
        use.setEnabled(results.currentRow() >= 0)
        audition = menu.addAction("Au&dition", self.view.audition)
        audition.setEnabled(results.currentRow() >= 0 or self.view.comparing is not None)
        menu.addSeparator()
        pinned = bool(rows) and all(results.is_pinned(row) for row in rows)
        self.pin_action.setText("Un&pin" if pinned else "&Pin")
        self.pin_action.setEnabled(bool(rows))
        self.rename_action.setEnabled(results.currentRow() >= 0)
        self.compare_action.setEnabled(len(rows) == 2)
        self.export_selected_action.setEnabled(bool(rows))
        self.export_all_action.setEnabled(results.count() > 0)
        self.clear_action.setEnabled(results.count() > results.pinned_count())
        menu.addActions([self.pin_action, self.rename_action, self.compare_action])
        if self.view.comparing is not None:
            hear = menu.addMenu("&Hear")
            for which, text in ((A, "A only"), (B, "B only"), (BOTH, "Both")):
                action: QAction = hear.addAction(text, lambda which=which: self.view.hear(which))
                action.setCheckable(True)
                action.setChecked(self.view.ab is not None and self.view.ab.hearing == which)
        menu.addSeparator()
        menu.addActions([self.export_selected_action, self.export_all_action])
        menu.addSeparator()
        menu.addAction(self.clear_action)
        return menu

    def show_menu(self, point: QPoint) -> QMenu:
        """Pop the context menu up at ``point`` (in the list's viewport); it is deleted once closed."""
        menu = self.menu()
        menu.setAttribute(Qt.WA_DeleteOnClose)
        menu.popup(self.results.viewport().mapToGlobal(point))
        return menu

    # -- the work ----------------------------------------------------------------------------------
    def toggle_pin(self) -> None:
        """Pin the selected results, or unpin them when all of them are pinned."""
        rows = self.results.selected_rows()
        if rows:
            pin = not all(self.results.is_pinned(row) for row in rows)
            self.results.set_pinned(rows, pin)
            self.messages.show_message(f"{'Pinned' if pin else 'Unpinned'} {len(rows)} result(s)")

    def rename_current(self) -> None:
        """Edit the current result's name in place."""
        if self.results.currentRow() >= 0:
            self.results.start_rename(self.results.currentRow())

    def compare_selected(self) -> bool:
        return self.view.compare(self.results.selected_rows())

    def export_to(self, rows: list[int], folder: str | os.PathLike) -> list[Path]:
        """Write the results in ``rows`` into ``folder`` (an existing file is never replaced: the new name gets a
        number); says where in the status bar. Returns the files written (none when the folder cannot be)."""
        folder = Path(folder)
        if not rows:
            return []
        if read_only_location(folder / "untitled.mid"):
            self.messages.show_message(f"Cannot export into {folder}: choose a folder of your own")
            return []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = self.results.export_rows(rows, folder)
        except OSError as error:
            self.messages.show_message(f"Cannot export into {folder}: {error.strerror or error}")
            return []
        self.settings.set_last_save_folder(folder)
        self.messages.show_message(f"Exported {len(written)} result(s) to {folder}")
        return written

    def export_all_to(self, folder: str | os.PathLike) -> list[Path]:
        """Write every result in the list into ``folder`` (see :meth:`export_to`)."""
        return self.export_to(list(range(self.results.count())), folder)

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self.results.window(), "Export results to folder",
                                                str(save_folder(self.settings)))

    def export_selected_dialog(self) -> None:
        rows = self.results.selected_rows()
        if rows and (folder := self._ask_folder()):
            self.export_to(rows, folder)

    def export_all_dialog(self) -> None:
        if self.results.count() and (folder := self._ask_folder()):
            self.export_all_to(folder)


def attach_history(window: MainWindow) -> HistoryActions:
    """Give the window's results list its history actions and menu, and A/B switching its voice mix.

    Args:
        window: a :class:`~gui.main_window.MainWindow` whose ``panel``, ``results``, ``settings`` and
            ``voice_legend`` exist.

    Returns:
        The actions (the window keeps them as ``history``).
    """
    window.results.set_voice_mix(window.voice_legend.mix)
    return HistoryActions(window.panel.results, window.results, window.settings, window, window)

