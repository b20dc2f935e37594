"""What the app remembers between runs (QSettings): recent files, models, generation choices, layout.

Everything goes through :class:`AppSettings`, which wraps one ``QSettings``. Tests pass their own
``QSettings(path, QSettings.IniFormat)`` so the user's real settings are never touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

MAX_RECENT = 10


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

    def _list(self, key: str) -> list[str]:
        value = self.store.value(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]
