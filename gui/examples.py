"""File > Open Example: a few of the MIDI files bundled in ``midi_data/``, opened as untitled copies.

The list (:data:`EXAMPLES`) is a handful of well-known pieces from the two bundled corpora: folk tunes from Ryan's
Mammoth Collection (one melody each) and Bach chorales (four parts, Soprano to Bass); see
``midi_data/*/PROVENANCE.txt`` for where they come from. "Browse all examples..." opens any file of those folders
the same way.

An example opens as a **copy**: an untitled piece named after the example, with no file of its own. So Ctrl+S asks
where to save it (Save As, which starts in the user's folder, never in the installation: :mod:`gui.files`), and the
bundled file is never written; it is not added to the recent files either. In an installed wheel, which carries no
corpora, the menu says so and offers nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu

from composer.music.midi_io import MidiReadError, read_midi
from composer.shipped import CHORALES, FOLK_MELODIES
from gui.files import MIDI_FILTER, FileActions

if TYPE_CHECKING:
    from gui.main_window import MainWindow


@dataclass(frozen=True)
class Example:
    """A bundled piece offered in the menu: its title (the copy's name) and its file."""

    title: str
    path: Path
    kind: str   # "folk" or "chorale": the menu's section


_FOLK = FOLK_MELODIES / "ryansMammoth"
EXAMPLES: tuple[Example, ...] = (
    Example("Soldier's Joy", _FOLK / "SoldiersJoy_0000.mid", "folk"),
    Example("Fisher's Hornpipe", _FOLK / "FishersHornpipe_0000.mid", "folk"),
    Example("The Irish Washerwoman", _FOLK / "IrishWashWomanJig_0000.mid", "folk"),
    Example("Haste to the Wedding", _FOLK / "HasteToTheWeddingJig_0000.mid", "folk"),
    Example("The Girl I Left Behind Me", _FOLK / "GirlILeftBehindMe_0000.mid", "folk"),
    Example("Arkansas Traveller", _FOLK / "ArkansasTravellerReel_0000.mid", "folk"),
    Example("Aus meines Herzens Grunde (BWV 269)", CHORALES / "bwv269.mid", "chorale"),
    Example("Ein feste Burg ist unser Gott (BWV 80.8)", CHORALES / "bwv80.8.mid", "chorale"),
    Example("Wenn ich einmal soll scheiden (BWV 244.62)", CHORALES / "bwv244.62.mid", "chorale"),
    Example("Nun danket alle Gott (BWV 252)", CHORALES / "bwv252.mid", "chorale"),
)
SECTIONS = (("folk", "Folk tunes (melody)"), ("chorale", "Bach chorales (4 parts)"))


def available_examples() -> list[Example]:
    """The examples whose files are here (all in a source checkout; none in a wheel, which has no corpora)."""
    return [example for example in EXAMPLES if example.path.is_file()]


class ExampleFiles(QObject):
    """The Open Example submenu and the opening of an example as an untitled copy.

    Args:
        files: the window's file actions (unsaved changes are dealt with first; the piano roll is fitted).
        parent: the window (owns the menu).

    Attributes:
        menu: File > Open Example.
    """

    def __init__(self, files: FileActions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.files = files
        self.menu = QMenu("Open E&xample", files.window)
        self.menu.setToolTipsVisible(True)
        self._fill_menu()

    def _fill_menu(self) -> None:
        examples = available_examples()
        for kind, heading in SECTIONS:
            chosen = [example for example in examples if example.kind == kind]
            if chosen:
                self.menu.addSection(heading)
            for example in chosen:
                action = self.menu.addAction(example.title)
                action.setToolTip(f"Open a copy of {example.path.name} (bundled in {example.path.parent.name}/)")
                action.triggered.connect(lambda _checked=False, e=example: self.open_checked(e.path, e.title))
        self.menu.addSeparator()
        browse = self.menu.addAction("&Browse all examples...", self.browse_dialog)
        browse.setEnabled(any(folder.is_dir() for folder in (FOLK_MELODIES, CHORALES)))
        if not examples:
            self.menu.addAction("(no examples in this installation)").setEnabled(False)

    # -- the work ----------------------------------------------------------------------------------
    def open_example(self, path: str | os.PathLike, title: str | None = None) -> bool:
        """Open ``path`` as an untitled copy named ``title`` (default: the file's name without ``.mid``).

        Returns:
            True when opened; False for a file that cannot be read (the error is shown, nothing changes).
        """
        path = Path(path)
        try:
            piece = read_midi(path)
        except MidiReadError as error:
            self.files.messages.show_error("Cannot open example", str(error))
            return False
        name = title or path.stem
        self.files.document.reset(piece.replace(name=name))   # no path: Save asks where (Save As)
        roll = self.files.piano_roll
        roll.canvas.set_preview(None)
        roll.show_pitch_range(piece)
        roll.fit_width(piece.end)
        self.files.messages.show_message(f"Opened a copy of the example {path.name}: {len(piece.notes)} notes, "
                                         f"{len(piece.voices)} voice(s); Save asks where to keep it")
        return True

    def open_checked(self, path: str | os.PathLike, title: str | None = None) -> bool:
        """Open an example once unsaved changes are dealt with."""
        return self.files.maybe_save() and self.open_example(path, title)

    def browse_dialog(self) -> None:
        """Pick any bundled file (starting in the folk tunes or chorales folder) and open a copy of it."""
        start = next((folder for folder in (FOLK_MELODIES, CHORALES) if folder.is_dir()), FOLK_MELODIES)
        if not self.files.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self.files.window, "Open a copy of an example", str(start.parent),
                                              MIDI_FILTER)
        if path:
            self.open_example(path)


def attach_examples(window: MainWindow) -> ExampleFiles:
    """The window's Open Example submenu (the window puts ``menu`` in its File menu)."""
    return ExampleFiles(window.files, window)
