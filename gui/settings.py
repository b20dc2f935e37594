"""What the app remembers between runs (QSettings): recent files, models, generation choices, layout.

Everything goes through :class:`AppSettings`, which wraps one ``QSettings``. Tests pass their own
``QSettings(path, QSettings.IniFormat)`` so the user's real settings are never touched.

Choices are written to disk as they change, not only on a clean exit (a crash would lose them): the window
hands its ``save_settings`` to :meth:`AppSettings.save_on_change`, whose :class:`SettingsSaver` calls it a
moment after any box, check box, checkable action, dock, tool bar or the window's size changes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths, QTimer
from PySide6.QtWidgets import (QAbstractButton, QComboBox, QDockWidget, QDoubleSpinBox, QSlider, QSpinBox,
                               QSplitter, QToolBar, QWidget)

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QMainWindow

MAX_RECENT = 10
SAVE_DELAY_MS = 500  # quiet time after a change before the settings are written


def documents_folder() -> str:
    """The user's documents folder (home when the platform has none): where new files are saved first."""
    folder = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def settings_at(path: str | os.PathLike) -> QSettings:
    """An INI-file settings object at ``path`` (for tests and ``--settings``)."""
    return QSettings(str(path), QSettings.IniFormat)


def default_settings() -> QSettings:
    """The user's settings, stored where the platform keeps them."""
    return QSettings("Composer", "Composer")


class AppSettings:
    """Typed access to the stored settings.

    Args:
        settings: the store; default the user's own.
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self.store = settings if settings is not None else default_settings()

    # -- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are left out."""
        return [p for p in self._list("recent_files") if Path(p).is_file()]

    def add_recent_file(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self._list("recent_files") if p != path]
        self.store.setValue("recent_files", files[:MAX_RECENT])
        self.store.sync()
        return self.recent_files()

    def clear_recent_files(self) -> None:
        self.store.setValue("recent_files", [])

    def last_folder(self) -> str:
        """The folder file dialogs open in: the last one a MIDI file was opened from, else home."""
        return self.value("files/last_folder", str(Path.home()), str)

    def set_last_folder(self, folder: str | os.PathLike) -> None:
        self.set_value("files/last_folder", str(folder))

    def last_save_folder(self) -> str | None:
        """The folder a piece was last saved to (None before the first save)."""
        return self.value("files/last_save_folder", None, str)

    def set_last_save_folder(self, folder: str | os.PathLike) -> None:
        self.set_value("files/last_save_folder", str(folder))

    # -- models ---------------------------------------------------------------------------------
    def extra_models(self) -> list[str]:
        """Model files the user added or trained (beyond the shipped ones) that still exist."""
        return [p for p in self._list("models/extra") if Path(p).is_file()]

    def add_model(self, path: str | os.PathLike) -> None:
        path = str(Path(path).resolve())
        models = [p for p in self._list("models/extra") if p != path] + [path]
        self.store.setValue("models/extra", models)
        self.store.sync()

    def last_model(self) -> str | None:
        value = self.store.value("models/last")
        return str(value) if value else None

    def set_last_model(self, path: str | os.PathLike) -> None:
        self.store.setValue("models/last", str(path))

    # -- the window's size and layout -----------------------------------------------------------
    def restore_window(self, window: QMainWindow, default_size: tuple[int, int] = (1400, 900)) -> None:
        """Give ``window`` its remembered size, position and dock/toolbar layout (``default_size`` the first time)."""
        geometry = self.store.value("window/geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        else:
            window.resize(*default_size)
        state = self.store.value("window/state")
        if state is not None:
            window.restoreState(state)

    def save_window(self, window: QMainWindow) -> None:
        """Remember ``window``'s size, position and dock/toolbar layout."""
        self.set_value("window/geometry", window.saveGeometry())
        self.set_value("window/state", window.saveState())

    # -- plain values ---------------------------------------------------------------------------
    def value(self, key: str, default, kind: type):
        """A stored value converted to ``kind`` (``default`` when absent or unreadable)."""
        raw = self.store.value(key)
        if raw is None:
            return default
        try:
            if kind is bool:
                return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            return kind(raw)
        except (TypeError, ValueError):
            return default

    def set_value(self, key: str, value) -> None:
        self.store.setValue(key, value)

    def sync(self) -> None:
        self.store.sync()

    def save_on_change(self, window: QWidget, save: Callable[[], None],
                       delay_ms: int = SAVE_DELAY_MS) -> SettingsSaver:
        """Call ``save`` (which should end with :meth:`sync`) shortly after any choice in ``window`` changes."""
        return SettingsSaver(window, save, delay_ms)

    def _list(self, key: str) -> list[str]:
        value = self.store.value(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]


class SettingsSaver(QObject):
    """Saves the settings a moment after a choice changes, so that a crash loses neither choices nor layout.

    Watches every combo box, spin box, slider, checkable button and checkable action under ``window`` (those
    that exist when it is made), its dock widgets, tool bars and splitters, and the window's own size,
    position and state. A change (re)starts a single-shot timer; when it runs out ``save`` is called once.

    Args:
        window: the window whose widgets are watched (also the saver's parent).
        save: writes the settings and syncs them to disk (the window's ``save_settings``).
        delay_ms: quiet time before saving, so that dragging a spin box or the window saves once.
    """

    WINDOW_EVENTS = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.WindowStateChange)

    def __init__(self, window: QWidget, save: Callable[[], None], delay_ms: int = SAVE_DELAY_MS) -> None:
        super().__init__(window)
        self._save = save
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.save_now)
        self.watch(window)
        window.installEventFilter(self)

    def watch(self, root: QWidget) -> None:
        """Save after any change of the choices, docks and tool bars under ``root``."""
        signals = []
        for box in root.findChildren(QComboBox):
            signals.append(box.currentIndexChanged)
        for spin in root.findChildren(QSpinBox) + root.findChildren(QDoubleSpinBox) + root.findChildren(QSlider):
            signals.append(spin.valueChanged)
        signals += [button.toggled for button in root.findChildren(QAbstractButton) if button.isCheckable()]
        signals += [action.toggled for action in root.actions() if action.isCheckable()]
        for dock in root.findChildren(QDockWidget):
            signals += [dock.dockLocationChanged, dock.topLevelChanged, dock.visibilityChanged]
            dock.installEventFilter(self)  # resized by the splitter beside it
        for bar in root.findChildren(QToolBar):
            signals += [bar.topLevelChanged, bar.orientationChanged, bar.visibilityChanged]
        signals += [splitter.splitterMoved for splitter in root.findChildren(QSplitter)]
        for signal in signals:
            signal.connect(self.changed)

    def changed(self, *_args) -> None:
        """A choice changed: save when things have been quiet for the delay."""
        self.timer.start()

    def pending(self) -> bool:
        """True while a change waits to be saved."""
        return self.timer.isActive()

    def save_now(self) -> None:
        """Save at once (a pending save is done now, not later)."""
        self.timer.stop()
        self._save()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        """The window (or a dock) moved, was resized or maximized: save soon. Never swallows the event."""
        if event.type() in self.WINDOW_EVENTS:
            self.changed()
        return False
