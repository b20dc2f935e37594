"""Issue 16, defect 9: start-up shows something at once. composer-gui shows a splash with a line of progress
before it imports its music libraries (PyTorch) or reads a model file, and closes it when the window appears; the
model files are read after that, in the background (tests/gui/test_startup.py)."""

from __future__ import annotations

import json
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
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QSplashScreen
    from gui import splash

    seen = {}
    real_show = QSplashScreen.show

    def spy_show(self):
        seen["heavy_at_splash"] = sorted(m for m in ("torch", "composer.core.modelfile", "gui.main_window")
                                         if m in sys.modules)
        real_show(self)

    QSplashScreen.show = spy_show
    real_finish = splash.Splash.finish

    def spy_finish(self, window):
        seen["window_shown_at_finish"] = window.isVisible()
        seen["message"] = self.last_message
        seen["picker_at_finish"] = window.panel.model_combo.itemText(0)   # the model files are read afterwards
        real_finish(self, window)

    splash.Splash.finish = spy_finish

    def done():
        windows = [w for w in QApplication.topLevelWidgets() if w.__class__.__name__ == "MainWindow"]
        if not windows or not windows[0].isVisible():
            QTimer.singleShot(100, done)   # not built yet
            return
        window = windows[0]
        seen["splash_visible_after"] = any(isinstance(w, QSplashScreen) and w.isVisible()
                                           for w in QApplication.topLevelWidgets())
        print("SEEN", json.dumps(seen), flush=True)
        window.close()

    qt_app = QApplication(sys.argv[:1])
    QTimer.singleShot(300, done)
    from gui import app
    sys.exit(app.main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_the_splash_shows_before_the_heavy_imports_and_goes_with_the_window(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), TMPDIR=str(tmp_path),
               OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT, "--settings", str(tmp_path / "s.ini"), "--autosave-dir",
                           str(tmp_path / "autosave"), "--no-restore"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=scaled(BOUND_S), check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(next(line[5:] for line in done.stdout.splitlines() if line.startswith("SEEN ")))
    assert seen["heavy_at_splash"] == []                  # shown before torch, the model files and the window
    assert seen["window_shown_at_finish"] and seen["message"] == "Opening the window..."
    assert seen["picker_at_finish"] == "Loading models..."
    assert not seen["splash_visible_after"]


def test_the_splash_says_what_it_is_doing(qtbot):
    from gui.splash import FIRST_LINE, show_splash

    splash = show_splash()
    qtbot.addWidget(splash)
    assert splash.isVisible() and splash.last_message == FIRST_LINE and splash.message() == FIRST_LINE
    splash.say("Opening the window...")
    assert splash.message() == "Opening the window..."
