"""Issue 16, defect 9: the .mid files written when a result is dragged out go to one temporary folder per session,
removed when the app quits; folders that crashed sessions left are removed at the next start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from gui import session_files  # noqa: E402
from job_wait import run_job as _run  # noqa: E402
from tests.waiting import scaled

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_temp(tmp_path, monkeypatch):
    """The system temporary folder is ``tmp_path/tmp`` for this test, and no session folder is made yet."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(session_files.tempfile, "tempdir", str(temp))
    monkeypatch.setattr(session_files, "_session", None)
    yield temp
    session_files.remove_session_dir()


def test_dragged_results_go_to_the_sessions_folder(window, qtbot, own_temp):
    window.panel.count_spin.setValue(2)
    window.panel.bars_spin.setValue(1)
    assert _run(qtbot, window, window.generate) == "succeeded"
    results = window.panel.results
    paths = [results.write_midi_file(row) for row in range(results.count()) if results.variation(row)]
    folder = session_files.session_dir()
    assert paths and all(p.parent == folder and p.is_file() for p in paths)
    assert folder.parent == own_temp and folder.name.startswith(session_files.PREFIX)
    data = results.mimeData([results.item(row) for row in range(results.count()) if results.variation(row)])
    assert all(Path(url.toLocalFile()).parent == folder for url in data.urls())
    session_files.remove_session_dir()
    assert not folder.exists()


def test_stale_folders_of_ended_sessions_are_removed_and_live_ones_kept(own_temp):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(ended.stdout)
    dead = own_temp / f"{session_files.PREFIX}{dead_pid}-abc"
    dead.mkdir()
    (dead / "Variation_1.mid").write_bytes(b"MThd")
    reused = own_temp / f"{session_files.PREFIX}{os.getpid()}-old"   # our pid, but another process's start time
    reused.mkdir()
    (reused / session_files.MARKER).write_text(f"{os.getpid()} 1\n")
    old_drag = own_temp / f"{session_files.OLD_PREFIX}xyz"
    old_drag.mkdir()
    os.utime(old_drag, (0, 0))
    mine = session_files.session_dir()
    unrelated = own_temp / "someone-else"
    unrelated.mkdir()
    removed = session_files.clean_stale()
    assert set(removed) == {dead, reused, old_drag} or (set(removed) == {dead, old_drag}
                                                       and not Path("/proc").is_dir())
    assert mine.is_dir() and unrelated.is_dir()


@pytest.mark.slow
def test_the_app_removes_its_folder_when_it_quits(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    stale = temp / f"{session_files.PREFIX}999999999-crashed"   # no such pid
    stale.mkdir()
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from gui.app import prepare_session
        from gui.session_files import session_dir
        app = QApplication(sys.argv[:1])
        prepare_session(app)
        (session_dir() / "Variation_1.mid").write_bytes(b"MThd")
        print(session_dir(), flush=True)
        QTimer.singleShot(0, app.quit)
        app.exec()
        import gui.session_files as s
        print("after quit:", session_dir.__module__ and s._session, flush=True)
    """)
    env = dict(os.environ, TMPDIR=str(temp), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=scaled(300))
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.splitlines()[0])
    assert folder.parent == temp
    assert "after quit: None" in done.stdout            # removed by the quit, not only at interpreter exit
    assert not folder.exists() and not stale.exists()
