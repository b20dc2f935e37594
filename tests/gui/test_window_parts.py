"""Parts of the window on their own, without a MainWindow: files (gui/files.py), the piano roll's boxes
(gui/roll_controls.py), the menu and settings helpers (gui/actions.py, gui/settings.py).

Real MIDI files from ``midi_data/``; a plain QWidget stands in for the window the dialogs belong to.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QMimeData, QUrl  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget  # noqa: E402

from composer.music.midi_io import read_midi  # noqa: E402
from gui.actions import fill_menu  # noqa: E402
from gui.autosave import Autosaver  # noqa: E402
from gui.document import Document  # noqa: E402
from gui.files import ASK, FileActions, dropped_midi  # noqa: E402
from gui.piano_roll import PianoRoll  # noqa: E402
from gui.roll_controls import RollControls  # noqa: E402
from gui.settings import AppSettings, settings_at  # noqa: E402
from fake_messages import FakeMessages  # noqa: E402


@pytest.fixture
def files(qtbot, tmp_path) -> FileActions:
    window = QWidget()
    qtbot.addWidget(window)
    document = Document(window)
    roll = PianoRoll(document, window)
    settings = AppSettings(settings_at(tmp_path / "settings.ini"))
    return FileActions(document, roll, settings, Autosaver(tmp_path / "autosave", 20, window), FakeMessages(), window)


def test_opening_asks_for_tracks_only_when_there_are_several(files, chorale_file, folk_file):
    asked = []
    files.ask_tracks = lambda piece, name: asked.append(name) or [2]
    assert files.open_file(folk_file, ASK) and asked == []
    assert files.open_file(chorale_file, ASK) and asked == [chorale_file.name]
    assert files.document.piece.voices == (read_midi(chorale_file).voices[2],)
    assert files.document.path == Path(chorale_file) and not files.document.dirty
    assert [a.text() for a in files.recent_menu.actions()] == [chorale_file.name, folk_file.name]
    assert files.messages.last_message.startswith(f"Opened {chorale_file.name}")


def test_a_broken_file_is_an_error_and_changes_nothing(files, tmp_path):
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06 not music")
    before = files.document.piece
    assert not files.open_file(broken)
    assert files.document.piece is before and files.messages.errors[0][0] == "Cannot open MIDI file"


def test_saving_names_a_mid_file_and_marks_the_piece_saved(files, folk_file, tmp_path):
    files.open_file(folk_file)
    piece = files.document.piece
    files.document.apply(piece.replace(notes=piece.notes[1:]), "Delete note")
    assert files.document.dirty
    assert files.save_to(tmp_path / "tune")
    assert files.document.path == tmp_path / "tune.mid" and not files.document.dirty
    assert read_midi(tmp_path / "tune.mid").notes == files.document.piece.notes
    files.ask_before_closing = True
    assert files.maybe_save()                    # nothing unsaved: no question


def test_only_local_midi_files_are_taken_from_a_drop(tmp_path):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/tune.mid"), QUrl.fromLocalFile(str(tmp_path / "notes.txt")),
                  QUrl.fromLocalFile(str(tmp_path / "Tune.MIDI"))])
    assert dropped_midi(mime) == str(tmp_path / "Tune.MIDI")
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    assert dropped_midi(mime) is None


def test_the_voice_box_follows_the_piece_and_the_snap_box_sets_the_grid(qtbot, chorale_file, tmp_path):
    document = Document()
    roll = PianoRoll(document)
    qtbot.addWidget(roll)
    controls = RollControls(roll.canvas, document)
    assert [controls.voice_combo.itemText(i) for i in range(controls.voice_combo.count())] == ["Melody", "New voice"]
    document.reset(read_midi(chorale_file))
    assert controls.voice_combo.count() == len(document.piece.voices) + 1
    controls.voice_combo.setCurrentIndex(2)
    assert roll.canvas.current_voice == 2
    controls.snap_combo.setCurrentText("1/8")
    assert roll.canvas.snap_beats == 0.5
    settings = AppSettings(settings_at(tmp_path / "settings.ini"))
    controls.save_settings(settings)
    controls.snap_combo.setCurrentText("Off")
    controls.restore_settings(settings)
    assert controls.snap_combo.currentText() == "1/8" and roll.canvas.snap_beats == 0.5


def test_menus_are_filled_in_order_with_separators_and_submenus(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    menu, submenu = QMenu(owner), QMenu("Recent", owner)
    first, last = QAction("First", owner), QAction("Last", owner)
    fill_menu(menu, [first, submenu, None, last])
    entries = menu.actions()
    assert entries[0] is first and entries[1].menu() is submenu and entries[2].isSeparator() and entries[3] is last


def test_the_window_layout_is_remembered(qtbot, tmp_path):
    settings = AppSettings(settings_at(tmp_path / "settings.ini"))
    window = QMainWindow()
    qtbot.addWidget(window)
    settings.restore_window(window, default_size=(640, 480))
    assert (window.width(), window.height()) == (640, 480)       # nothing remembered yet
    window.resize(700, 500)
    settings.save_window(window)
    again = QMainWindow()
    qtbot.addWidget(again)
    settings.restore_window(again)
    assert (again.width(), again.height()) == (700, 500)
