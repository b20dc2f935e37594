"""Small factories for the window's actions and toolbar boxes, so every part builds them the same way."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QComboBox, QMenu, QToolBar

Shortcut = str | QKeySequence.StandardKey | list[str] | None


def make_action(parent: QObject, text: str, slot: Callable, shortcut: Shortcut = None, tip: str = "",
                checkable: bool = False) -> QAction:
    """A menu/toolbar action.

    Args:
        parent: owns the action (add it to a widget for its shortcut to work).
        text: the menu text ("&" marks the mnemonic).
        slot: called on ``triggered``, or on ``toggled(bool)`` for a checkable action.
        shortcut: a key sequence, a standard key, or a list of key sequences.
        tip: tooltip and status tip (default: the text).
        checkable: an on/off action.

    Returns:
        The action.
    """
    action = QAction(text, parent)
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setToolTip(tip or text)
    action.setStatusTip(tip or text)
    action.setCheckable(checkable)
    (action.toggled if checkable else action.triggered).connect(slot)
    return action


def fill_menu(menu: QMenu, entries: list[QAction | QMenu | None]) -> None:
    """Add actions and submenus to ``menu`` in order; None adds a separator."""
    for entry in entries:
        if entry is None:
            menu.addSeparator()
        elif isinstance(entry, QMenu):
            menu.addMenu(entry)
        else:
            menu.addAction(entry)


def make_combo(items: list[str], tip: str) -> QComboBox:
    """A drop-down with ``items`` and a tooltip."""
    combo = QComboBox()
    combo.addItems(items)
    combo.setToolTip(tip)
    return combo


def set_checked_quietly(action: QAction, on: bool) -> None:
    """Tick or untick a checkable action without running its slot (the state changed elsewhere)."""
    action.blockSignals(True)
    action.setChecked(on)
    action.blockSignals(False)


def make_undo_actions(stack: QUndoStack, parent: QObject) -> tuple[QAction, QAction]:
    """The Edit menu's Undo and Redo, which name the step ("Undo Move note")."""
    undo = stack.createUndoAction(parent, "&Undo")
    undo.setShortcuts([QKeySequence.Undo])
    undo.setToolTip("Undo the last edit (Ctrl+Z)")
    redo = stack.createRedoAction(parent, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    redo.setToolTip("Redo (Ctrl+Shift+Z or Ctrl+Y)")
    return undo, redo


def add_short_undo_redo(bar: QToolBar, stack: QUndoStack) -> None:
    """Toolbar Undo and Redo with short labels, enabled while there is something to undo or redo."""
    for text, tip, slot, signal in (("Undo", "Undo the last edit (Ctrl+Z)", stack.undo, stack.canUndoChanged),
                                    ("Redo", "Redo (Ctrl+Shift+Z)", stack.redo, stack.canRedoChanged)):
        action = bar.addAction(text, slot)
        action.setToolTip(tip)
        action.setEnabled(False)
        signal.connect(action.setEnabled)


def make_harmony_actions(parent: QObject, harmonize: Callable, regenerate: Callable,
                         chorale: Callable) -> tuple[QAction, QAction, QAction]:
    """The Compose menu's 4-part actions, side by side: Harmonize melody, Regenerate selection, New chorale.

    Args:
        parent: owns the actions (add them to the window for their shortcuts to work).
        harmonize, regenerate, chorale: the harmony jobs' entry points.

    Returns:
        (harmonize, regenerate, chorale) actions.
    """
    return (make_action(parent, "&Harmonize melody", harmonize, "Ctrl+H",
                        "Write a 4-part harmony under the melody (Ctrl+H)"),
            make_action(parent, "&Regenerate selection", regenerate, "Ctrl+R",
                        "Write the selected region again in the ticked voices (Ctrl+R)"),
            make_action(parent, "New &chorale", chorale, "Ctrl+Shift+H",
                        "Write a 4-part chorale from scratch, with the Harmony group's settings (Ctrl+Shift+H)"))
