"""Themes: View > Theme picks System, Light or Dark; the window's widgets and the piano roll follow it.

Light and Dark put the whole application on Qt's Fusion style with a palette of their own, and give the piano
roll (the overview above it, and its velocity and chord lanes) colours to match: dark rows on Dark, light rows
on Light. System keeps the desktop's own style and palette, with the dark roll Composer always had. The choice is
remembered (``view/theme``). The voices keep their colours in every theme (they read on light and dark rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu

from gui.settings import AppSettings

if TYPE_CHECKING:
    from gui.main_window import MainWindow


@dataclass(frozen=True)
class RollColours:
    """The piano roll's colours (``#rrggbb``, or ``#aarrggbb`` with alpha)."""

    background: str
    row_white: str          # rows without a key: white keys' pitches
    row_black: str          # ... black keys' pitches
    scale_white: str        # rows in the piece's key: white keys'
    scale_black: str        # ... black keys'
    out_of_scale: str       # rows outside the key
    octave_line: str
    bar_line: str
    beat_line: str
    ruler: str
    ruler_text: str
    key_white: str
    key_black: str
    key_line: str
    key_text: str
    key_edge: str
    hint: str
    playhead: str
    selected_edge: str
    primer_shade: str
    # the lanes around the roll (gui.velocity_lane, gui.chord_lane); their keys column is the ruler's colour
    lane_background: str    # the velocity lane's
    lane_grid: str          # its velocity lines (32, 64, 96)
    chord_background: str   # the chord lane's
    chord_fill: str         # a chord given or edited
    chord_edge: str
    chord_text: str
    estimated_fill: str     # a chord estimated from the notes (not yet edited)
    estimated_edge: str
    estimated_text: str


DARK_ROLL = RollColours(
    background="#1e1f22", row_white="#2e3035", row_black="#26282c", scale_white="#32353b", scale_black="#2a2d33",
    out_of_scale="#1a1b1e", octave_line="#44474d", bar_line="#5c6068", beat_line="#3a3d43", ruler="#2b2b2b",
    ruler_text="#9aa0a6", key_white="#e8e8e8", key_black="#1a1a1a", key_line="#9a9a9a", key_text="#333333",
    key_edge="#555555", hint="#8a9099", playhead="#ffd54f", selected_edge="#ffffff", primer_shade="#46000000",
    lane_background="#1b1c1f", lane_grid="#2f3136", chord_background="#1f2024", chord_fill="#2f3550",
    chord_edge="#7e8cc2", chord_text="#e8eaf6", estimated_fill="#26282d", estimated_edge="#4a4d55",
    estimated_text="#8a8f98")

LIGHT_ROLL = RollColours(
    background="#f7f8fa", row_white="#f7f8fa", row_black="#eceef2", scale_white="#ffffff", scale_black="#f0f2f5",
    out_of_scale="#dcdfe5", octave_line="#c3c7cf", bar_line="#9aa0aa", beat_line="#d8dce2", ruler="#e6e8ec",
    ruler_text="#4a4f57", key_white="#ffffff", key_black="#2a2a2a", key_line="#b0b0b0", key_text="#333333",
    key_edge="#9aa0aa", hint="#6b7280", playhead="#d49a00", selected_edge="#1f2328", primer_shade="#1e000000",
    lane_background="#f2f3f6", lane_grid="#e0e3e8", chord_background="#eef0f3", chord_fill="#dfe5f8",
    chord_edge="#6f7fc0", chord_text="#1f2a56", estimated_fill="#e6e8ec", estimated_edge="#b8bcc4",
    estimated_text="#6b7280")


@dataclass(frozen=True)
class Theme:
    """A theme: its name, the roll's colours, and the widgets' palette (None: the desktop's own)."""

    name: str
    roll: RollColours
    dark: bool | None      # None: the desktop's palette and style


SYSTEM = Theme("System", DARK_ROLL, None)
LIGHT = Theme("Light", LIGHT_ROLL, False)
DARK = Theme("Dark", DARK_ROLL, True)
THEMES = {theme.name: theme for theme in (SYSTEM, LIGHT, DARK)}


def dark_palette() -> QPalette:
    """Fusion's palette in dark greys, with the roll's blue for selections."""
    palette = QPalette()
    roles = {QPalette.Window: "#2b2d31", QPalette.WindowText: "#e6e6e6", QPalette.Base: "#1e1f22",
             QPalette.AlternateBase: "#26282c", QPalette.ToolTipBase: "#2b2d31", QPalette.ToolTipText: "#e6e6e6",
             QPalette.Text: "#e6e6e6", QPalette.Button: "#33363b", QPalette.ButtonText: "#e6e6e6",
             QPalette.BrightText: "#ff6b6b", QPalette.Highlight: "#4e79a7", QPalette.HighlightedText: "#ffffff",
             QPalette.Link: "#8ab4f8", QPalette.PlaceholderText: "#8a9099", QPalette.Light: "#45484e",
             QPalette.Midlight: "#3a3d42", QPalette.Mid: "#2a2c30", QPalette.Dark: "#1a1b1e",
             QPalette.Shadow: "#000000"}
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor("#7a7f87"))
    return palette


class ThemeChooser(QObject):
    """View > Theme: the three themes as exclusive actions; applies the chosen one to the application and the roll.

    Args:
        targets: widgets painted with a ``colours`` attribute (:class:`RollColours`): the roll's canvas (a new
            palette repaints every widget, so those that paint with the canvas's colours follow).
        settings: where the choice is remembered.
        parent: Qt parent.
        followers: widgets that paint with a target's colours (the roll's velocity and chord lanes read the
            canvas's): repainted on every theme change, not only when the palette happens to change.

    Signals:
        themeChanged(object): the :class:`Theme` applied.
    """

    themeChanged = Signal(object)

    def __init__(self, targets: list, settings: AppSettings | None = None, parent: QObject | None = None,
                 followers: list | None = None) -> None:
        super().__init__(parent)
        self.targets = list(targets)
        self.followers = list(followers or [])
        self.settings = settings
        self.theme = SYSTEM
        app = QApplication.instance()
        self._system = (app.style().name(), QPalette(app.palette())) if app is not None else None
        self.menu = QMenu("&Theme")
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for theme in THEMES.values():
            action = QAction(theme.name, self, checkable=True)
            action.setToolTip("The desktop's own look, with the dark piano roll" if theme is SYSTEM
                              else f"A {theme.name.lower()} window and piano roll")
            action.triggered.connect(lambda _on=False, name=theme.name: self.set_theme(name))
            self.group.addAction(action)
            self.menu.addAction(action)
            self.actions[theme.name] = action
        self.actions[SYSTEM.name].setChecked(True)
        chosen = settings.value("view/theme", SYSTEM.name, str) if settings is not None else SYSTEM.name
        if chosen != SYSTEM.name:
            self.set_theme(chosen)

    def set_theme(self, name: str) -> Theme:
        """Apply theme ``name`` (an unknown name: System) and remember it."""
        theme = THEMES.get(name, SYSTEM)
        app = QApplication.instance()
        if app is not None and (theme is not SYSTEM or self.theme is not SYSTEM):
            if theme.dark is None and self._system is not None:
                app.setStyle(self._system[0])
                app.setPalette(self._system[1])
            elif theme.dark is not None:
                app.setStyle("Fusion")
                app.setPalette(dark_palette() if theme.dark else app.style().standardPalette())
        self.theme = theme
        self.actions[theme.name].setChecked(True)
        for target in self.targets:
            target.colours = theme.roll
            target.update()
        for follower in self.followers:
            follower.update()
        if self.settings is not None:
            self.settings.set_value("view/theme", theme.name)
        self.themeChanged.emit(theme)
        return theme


def attach_theme(window: MainWindow) -> ThemeChooser:
    """The window's View > Theme chooser, applied to its piano roll (the overview and the roll's velocity and
    chord lanes paint in the roll's colours) at once when a theme other than System is remembered."""
    roll = window.piano_roll
    return ThemeChooser([window.canvas], window.settings, window, [roll.velocity_lane, roll.chord_lane])
