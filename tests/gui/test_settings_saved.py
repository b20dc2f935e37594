"""Issue 16, defect 6: the settings reach the disk as they change, not only on a clean exit.

A crash never runs ``closeEvent``; so each test changes a choice in a real MainWindow, leaves the window open,
and reads a copy of the settings file (a fresh QSettings on a copy: another process would see just that).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDockWidget  # noqa: E402

from gui.settings import AppSettings, settings_at  # noqa: E402

WAIT_MS = 10_000  # a busy machine may be slow; the save itself comes half a second after the change


def on_disk(window, tmp_path: Path) -> AppSettings:
    """The settings as the file on disk holds them now, read through a fresh QSettings on a copy."""
    copy = tmp_path / "read_back" / "settings.ini"
    copy.parent.mkdir(exist_ok=True)
    source = Path(window.settings.store.fileName())
    if source.is_file():
        shutil.copyfile(source, copy)
    else:
        copy.write_text("")
    return AppSettings(settings_at(copy))


def test_generation_and_playback_choices_are_on_disk_without_closing(window, qtbot, tmp_path):
    window.panel.count_spin.setValue(5)
    window.panel.key_combo.setCurrentText("Dm")
    window.tempo_spin.setValue(80)
    window.loop_action.setChecked(True)
    qtbot.waitUntil(lambda: on_disk(window, tmp_path).value("generate/count", 0, int) == 5, timeout=WAIT_MS)
    saved = on_disk(window, tmp_path)
    assert saved.value("generate/key", "", str) == "Dm"
    assert saved.value("play/tempo_percent", 0, int) == 80 and saved.value("play/loop", False, bool)
    assert window.isVisible()  # never closed


def test_the_model_choice_is_on_disk_without_closing(window_factory, qtbot, tmp_path, tiny_melody_model):
    second = tmp_path / "more_models"
    second.mkdir()
    shutil.copyfile(tiny_melody_model.path, second / "second_melody.pt")
    window = window_factory(model_folders=[tiny_melody_model.folder, second])
    index = window.panel.model_combo.findData(str(second / "second_melody.pt"))
    if index < 0:  # the picker may list resolved paths
        index = window.panel.model_combo.findData(str((second / "second_melody.pt").resolve()))
    assert index >= 0 and index != window.panel.model_combo.currentIndex()
    window.panel.model_combo.setCurrentIndex(index)  # what picking it in the list does
    chosen = window.panel.model_path()
    assert chosen.endswith("second_melody.pt")
    qtbot.waitUntil(lambda: on_disk(window, tmp_path).last_model() == chosen, timeout=WAIT_MS)


def test_an_added_model_is_the_remembered_choice_at_once(window, tiny_melody_model, tmp_path):
    added = tmp_path / "added.pt"
    shutil.copyfile(tiny_melody_model.path, added)
    assert window.add_model(added)
    assert on_disk(window, tmp_path).last_model() == str(added.resolve())  # no wait: synced by add_model


def test_the_layout_is_on_disk_without_closing(window, qtbot, tmp_path):
    window.settings_saver.save_now()  # start from the layout as shown
    before = on_disk(window, tmp_path).store.value("window/state")
    dock = window.findChild(QDockWidget, "compose_dock")
    window.removeDockWidget(dock)
    window.addDockWidget(Qt.LeftDockWidgetArea, dock)
    dock.show()
    qtbot.waitUntil(lambda: on_disk(window, tmp_path).store.value("window/state") not in (None, before),
                    timeout=WAIT_MS)
    window.resize(window.width() + 40, window.height() + 30)
    qtbot.waitUntil(lambda: on_disk(window, tmp_path).store.value("window/geometry") == window.saveGeometry(),
                    timeout=WAIT_MS)
