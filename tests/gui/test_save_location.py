"""Issue 16, defect 8: a bundled example (inside ``midi_data/``, the installation) is never saved over.

Ctrl+S on an opened example goes to Save As, and Save As (and Export WAV) start in the folder of the last
save, else the user's documents or home: never in ``midi_data/``. Driven through a real MainWindow's actions;
the file dialog is replaced by a function that records where it started.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from composer.music.midi_io import read_midi  # noqa: E402
from composer.shipped import MIDI_DATA  # noqa: E402
from gui.files import read_only_location, save_folder  # noqa: E402


class FakeSaveDialog:
    """Stands in for QFileDialog.getSaveFileName: records the offered file, answers with ``answer``."""

    def __init__(self) -> None:
        self.offered: list[Path] = []
        self.answer = ""

    def __call__(self, _parent, _caption, start, _filter, *args, **kwargs):
        self.offered.append(Path(start))
        return self.answer, ""


@pytest.fixture
def save_dialog(monkeypatch) -> FakeSaveDialog:
    fake = FakeSaveDialog()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake)
    return fake


def edit(window) -> None:
    piece = window.document.piece
    window.document.apply(piece.replace(notes=piece.notes[1:]), "Delete note")


def inside_installation(path: Path) -> bool:
    return path.resolve().is_relative_to(MIDI_DATA.resolve())


def test_ctrl_s_on_a_bundled_example_asks_where_and_never_writes_into_the_installation(window, folk_file,
                                                                                        save_dialog, tmp_path):
    assert inside_installation(folk_file) and read_only_location(folk_file)
    before = folk_file.read_bytes()
    window.files.open_file(folk_file)
    edit(window)
    window.save_action.trigger()                       # Ctrl+S; the user cancels the dialog
    assert len(save_dialog.offered) == 1
    offered = save_dialog.offered[0]
    assert not inside_installation(offered) and offered.name == folk_file.name
    assert offered.parent == save_folder(window.settings)
    assert folk_file.read_bytes() == before and window.document.dirty and window.document.path == folk_file

    save_dialog.answer = str(tmp_path / "mine.mid")
    window.save_action.trigger()
    assert window.document.path == tmp_path / "mine.mid" and not window.document.dirty
    assert folk_file.read_bytes() == before
    edit(window)
    window.save_action.trigger()                       # a file of the user's own: saved in place, no question
    assert len(save_dialog.offered) == 2 and not window.document.dirty
    assert len(read_midi(tmp_path / "mine.mid").notes) == len(window.document.piece.notes)


def test_save_as_starts_in_the_last_save_folder_not_where_the_example_was_opened(window, folk_file, chorale_file,
                                                                                 save_dialog, tmp_path):
    window.settings.set_last_folder(folk_file.parent)  # the Open dialog was last used in midi_data/
    window.files.new_piece()
    window.save_as_action.trigger()
    assert not inside_installation(save_dialog.offered[-1]) and save_dialog.offered[-1].name == "Untitled.mid"
    saved = tmp_path / "saved_here"
    saved.mkdir()
    assert window.files.save_to(saved / "first.mid")
    window.files.open_file(chorale_file)
    window.save_as_action.trigger()
    assert save_dialog.offered[-1] == saved / chorale_file.name
    assert window.settings.last_save_folder() == str(saved)


def test_export_wav_of_a_bundled_example_starts_outside_the_installation(window, folk_file, save_dialog):
    window.files.open_file(folk_file)
    window.wav_export.export_wav_dialog()
    offered = save_dialog.offered[-1]
    assert not inside_installation(offered) and offered == save_folder(window.settings) / f"{folk_file.stem}.wav"


def test_a_file_in_a_read_only_folder_is_saved_through_save_as(window, folk_file, save_dialog, tmp_path,
                                                                monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    copy = locked / "tune.mid"
    copy.write_bytes(folk_file.read_bytes())
    window.files.open_file(copy)
    edit(window)
    real_access = os.access
    # the folder is read-only (chmod does not stop root, who runs some test machines: the answer is faked)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    assert read_only_location(copy)
    window.save_action.trigger()
    assert len(save_dialog.offered) == 1 and save_dialog.offered[0].parent != locked
    assert copy.read_bytes() == folk_file.read_bytes()
