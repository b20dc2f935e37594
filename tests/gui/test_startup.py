"""Issue 16, target "window on screen within 2 s of launch (models load in the background)": the structure, not the
timing (``benchmarks/gui_startup.py`` measures that).

``composer-gui`` builds its window with ``background_models=True``: the model pickers start in a "Loading models..."
state with Generate and the harmony jobs off, every model file is read on a background thread
(:mod:`gui.model_loader`), and the pickers fill when it reports; a model file that cannot be used is listed,
greyed out with its reason, instead of stopping the start-up or silently vanishing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from gui.model_picker import LOADING_TEXT, UNUSABLE
from tests.waiting import scaled

REPO = Path(__file__).resolve().parents[2]
READY_MS = 120_000   # a safety net for a hung loader; nothing is timed


def combo_items(combo) -> list[tuple[str, bool]]:
    """(text, enabled) of each entry of a QComboBox."""
    return [(combo.itemText(i), combo.model().item(i).isEnabled()) for i in range(combo.count())]


@pytest.fixture
def file_reads(monkeypatch) -> list[tuple[str, str]]:
    """(file name, thread name) of every model file read from disk (composer.core.modelfile.load_checkpoint)."""
    from composer.core import modelfile

    reads: list[tuple[str, str]] = []
    real = modelfile.load_checkpoint

    def spy(path, *args, **kwargs):
        reads.append((Path(path).name, threading.current_thread().name))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(modelfile, "load_checkpoint", spy)
    return reads


def test_the_pickers_start_loading_and_fill_when_the_background_load_reports(window_factory, qtbot,
                                                                              tiny_melody_model, file_reads):
    window = window_factory(background_models=True)
    panel = window.panel
    # the window is built and shown, and nothing was listed yet: the files are read on the loader's thread
    assert combo_items(panel.model_combo) == [(LOADING_TEXT, False), ("Add model file...", True)]
    assert panel.model_path() is None and not window.models.ready
    assert not panel.generate_button.isEnabled() and not window.generate_action.isEnabled()
    assert not panel.harmonize_button.isEnabled() and not window.harmonize_action.isEnabled()
    assert panel.harmony_combo.placeholderText() == LOADING_TEXT
    with qtbot.waitSignal(window.models.modelsReady, timeout=READY_MS):
        pass
    assert window.models.ready
    assert combo_items(panel.model_combo) == [("tiny_melody", True), ("Add model file...", True)]
    assert panel.model_path() == str(tiny_melody_model.path.resolve())
    assert panel.generate_button.isEnabled() and window.generate_action.isEnabled()
    assert window.harmonize_action.isEnabled()          # given back (it says when there is no harmony model)
    assert ("tiny_melody.pt", "composer-model-loader") in file_reads
    assert all(thread != threading.main_thread().name for _name, thread in file_reads)   # never on the GUI thread


def test_the_background_load_preloads_the_selected_melody_model(window_factory, qtbot, tiny_melody_model,
                                                                monkeypatch):
    from gui.models import ModelStore

    loads = []
    real = ModelStore.melody

    def spy(self, path):
        loads.append((str(path), threading.current_thread().name))
        return real(self, path)

    monkeypatch.setattr(ModelStore, "melody", spy)
    window = window_factory(background_models=True)
    with qtbot.waitSignal(window.models.modelsReady, timeout=READY_MS):
        pass
    # loaded on the loader's thread, so the first Generate starts at once
    assert loads == [(str(tiny_melody_model.path.resolve()), "composer-model-loader")]


def test_a_broken_model_file_is_listed_with_its_reason_and_the_others_still_load(window_factory, qtbot, tmp_path,
                                                                                 tiny_melody_model):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copyfile(tiny_melody_model.path, folder / "good.pt")
    (folder / "broken.pt").write_bytes(b"PK\x03\x04 this is no zip archive at all")
    (folder / "notes.pt").write_text("my notes about models\n")
    window = window_factory(model_folders=[folder], background_models=True)
    with qtbot.waitSignal(window.models.modelsReady, timeout=READY_MS):
        pass
    combo = window.panel.model_combo
    assert combo_items(combo) == [("good", True), ("broken" + UNUSABLE, False), ("notes" + UNUSABLE, False),
                                  ("Add model file...", True)]
    assert window.panel.model_path() == str((folder / "good.pt").resolve())
    assert window.panel.generate_button.isEnabled()
    for index in (1, 2):
        tip = combo.itemData(index, 3)   # Qt.ToolTipRole
        assert tip.startswith(str(folder.resolve())) and ": " in tip and len(tip.split(": ", 1)[1]) > 5
    assert [Path(p.path).name for p in window.models.problems] == ["broken.pt", "notes.pt"]
    assert "2 model file(s) cannot be used" in window.last_message
    assert window.generate()                          # the good model still generates
    qtbot.waitUntil(lambda: window.worker is None, timeout=READY_MS)


def test_a_model_folder_with_only_broken_files_leaves_nothing_to_generate_with(window_factory, qtbot, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "empty.pt").write_bytes(b"")
    window = window_factory(model_folders=[folder], background_models=True)
    with qtbot.waitSignal(window.models.modelsReady, timeout=READY_MS):
        pass
    assert combo_items(window.panel.model_combo) == [("empty" + UNUSABLE, False), ("Add model file...", True)]
    assert window.panel.model_path() is None
    assert not window.generate() and "no melody model" in window.last_message
    window.error_box.close()


def test_a_loader_that_cannot_list_the_files_still_ends_the_loading_state(window_factory, qtbot, monkeypatch):
    from gui import model_loader

    def fail(*_args):
        raise OSError("the disk went away")

    monkeypatch.setattr(model_loader, "find_models", fail)
    window = window_factory(background_models=True)
    with qtbot.waitSignal(window.models.modelsReady, timeout=READY_MS):
        pass
    items = combo_items(window.panel.model_combo)
    assert items == [("models" + UNUSABLE, False), ("Add model file...", True)]
    assert "the disk went away" in window.panel.model_combo.itemData(0, 3)
    assert window.panel.generate_button.isEnabled() and window.panel.model_path() is None


def test_the_reading_at_once_path_lists_broken_files_too(window_factory, tmp_path, tiny_melody_model):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copyfile(tiny_melody_model.path, folder / "good.pt")
    (folder / "broken.pt").write_bytes(b"not a model")
    window = window_factory(model_folders=[folder])            # background_models=False: read before returning
    assert window.models.ready
    assert combo_items(window.panel.model_combo) == [("good", True), ("broken" + UNUSABLE, False),
                                                     ("Add model file...", True)]


def test_a_model_added_while_loading_is_kept(window_factory, qtbot, tiny_chord_model):
    window = window_factory(background_models=True)
    assert window.add_model(tiny_chord_model)                  # before the background load has reported
    with qtbot.waitSignal(window.models.modelsReady, timeout=READY_MS):
        pass
    labels = [text for text, _enabled in combo_items(window.panel.model_combo)]
    assert labels == ["tiny_melody", "tiny_chords", "Add model file..."]
    assert window.panel.model_path() == str(Path(tiny_chord_model).resolve())


def test_the_constants_written_out_to_keep_torch_away_match_the_library():
    from composer.core import modelfile
    from composer.melody.generate import GenerationRequest
    from gui import generate_panel, models

    assert (models.MELODY_KIND, models.HARMONY_KIND) == (modelfile.MELODY_KIND, modelfile.HARMONY_KIND)
    assert generate_panel.DEFAULT_TEMPERATURE == GenerationRequest.temperature
    assert generate_panel.DEFAULT_TOP_P == GenerationRequest.top_p


APP_SCRIPT = """
import sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow

importers = []


class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            importers.append(threading.current_thread().name)
        return None


sys.meta_path.insert(0, Spy())
real_show = QMainWindow.show


def spy_show(self):
    real_show(self)
    print("AT-SHOW", threading.main_thread().name in importers, flush=True)
    print("SYNTH-AT-SHOW", "fluidsynth" in sys.modules, flush=True)
    self.models.modelsReady.connect(self.close)


QMainWindow.show = spy_show
from gui import app
sys.exit(app.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_the_app_shows_its_window_before_the_gui_thread_imports_torch(tmp_path):
    """composer-gui, offscreen: when the window is shown, the GUI thread has not imported torch (the model loader's
    thread does; jobs import it on their worker thread or in their child process)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", APP_SCRIPT, "--settings", str(tmp_path / "s.ini"), "--autosave-dir",
                           str(tmp_path / "autosave"), "--no-restore"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=scaled(240), check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "AT-SHOW False" in done.stdout.splitlines()
    # the SoundFont synthesizer's library is loaded before the window (where it can be: loading it holds the
    # interpreter, and on the first Play it stalled the window)
    assert f"SYNTH-AT-SHOW {synthesizer_loads()}" in done.stdout.splitlines()


def synthesizer_loads() -> bool:
    from composer.audio.soundfont import SoundFontError, fluidsynth_module

    try:
        fluidsynth_module()
    except SoundFontError:
        return False
    return True


def test_the_start_up_modules_do_not_import_torch():
    """The splash, the app's entry point, the model picker's modules and the window's come up without PyTorch: the
    model files (and with them torch) are read on the loader's thread."""
    modules = ("gui.app", "gui.splash", "gui.models", "gui.model_loader", "gui.model_picker", "gui.main_window")
    code = f"import sys\nfor name in {modules!r}:\n    __import__(name)\nprint('torch' in sys.modules)\n"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=scaled(240),
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
