"""Issue 16, defect 9: Quit ends the app promptly. The process used to live on for 3-7 s after Quit: the interpreter
waited for the model pre-loading thread (not a daemon) and then unloaded torch and Qt. Now, once the window has
closed (settings synced, autosave ended, jobs stopped), the exit handlers run and the process ends
(gui.app.exit_now)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.waiting import scaled

pytest.importorskip("PySide6")

REPO = Path(__file__).resolve().parents[2]
BOUND_S = 240   # a safety net for a hung child; nothing is timed

SCRIPT = textwrap.dedent("""
    import sys, threading
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from gui import app, model_picker, session_files

    never = threading.Event()
    # a model load that has not finished when the user quits (a slow disk, a busy machine)
    model_picker.ModelPicker._quiet_load = lambda self, path: never.wait()

    def quit_from_the_menu():
        windows = [w for w in QApplication.topLevelWidgets() if w.__class__.__name__ == "MainWindow"]
        if not windows or not windows[0].isVisible():
            QTimer.singleShot(100, quit_from_the_menu)   # not built yet (the splash runs the event loop)
            return
        window = windows[0]
        window.panel.count_spin.setValue(5)
        print("TEMP", session_files.session_dir(), flush=True)
        window.quit_action.trigger()

    qt_app = QApplication(sys.argv[:1])   # main() uses this one
    QTimer.singleShot(500, quit_from_the_menu)
    sys.exit(app.main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_quit_ends_the_process_even_while_a_model_is_still_loading(tmp_path):
    settings, autosave, temp = tmp_path / "settings.ini", tmp_path / "autosave", tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), TMPDIR=str(temp), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT, "--settings", str(settings), "--autosave-dir",
                           str(autosave), "--no-restore"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=scaled(BOUND_S))
    assert done.returncode == 0, done.stderr[-2000:]
    folder = Path(next(line[5:] for line in done.stdout.splitlines() if line.startswith("TEMP ")))
    assert folder.parent == temp and not folder.exists()            # the exit handlers ran
    assert "count=5" in settings.read_text()                        # the settings reached the disk
    assert not [p for p in autosave.glob("*") if p.suffix == ".mid"]   # a clean exit leaves no autosave
