"""One autosave per window (issue 17, item 5).

Two app windows or instances once shared one autosave file and one pid lock: the second overwrote the first's
autosave and lock, and its clean exit deleted them, so a crashed window's work was lost. Each window now has
a slot of its own (its autosave and an flock held from start to exit); a clean exit removes only its own slot,
and a starting window offers every orphaned slot (its lock free: the window was killed) and never touches a
slot a live window holds. Real windows under pytest-qt, and real child processes holding slots, one of them
killed with SIGKILL.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox

from composer.core import locks
from composer.music.midi_io import read_midi
from gui.autosave import Autosaver, read_autosave
from gui.commands import with_notes_removed
from tests.reliability.conftest import scaled

REPO = Path(__file__).resolve().parents[2]
TUNES = sorted((REPO / "midi_data" / "folk_melodies" / "airdsAirs").glob("*.mid"))[:4]

CHILD = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QCoreApplication
    app = QCoreApplication(sys.argv[:1])
    from composer.music.midi_io import read_midi
    from gui.autosave import Autosaver
    saver = Autosaver(sys.argv[1])
    saver.start_session()
    saver.schedule(read_midi(sys.argv[2]), sys.argv[2])
    saver.flush()
    print("READY", saver.path, flush=True)
    time.sleep(600)
""")


@pytest.fixture(autouse=True, scope="module")
def _qt_test_mode():
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def windows(qtbot, tmp_path):
    """Builds real MainWindows sharing one autosave folder (no models, private settings)."""
    from gui.main_window import MainWindow
    from gui.settings import settings_at

    def make() -> MainWindow:
        window = MainWindow(settings=settings_at(tmp_path / "settings.ini"), autosave_dir=tmp_path / "autosave",
                            model_folders=[], user_models_dir=tmp_path / "models", autosave_delay_ms=20,
                            preload=False)
        window.ask_before_closing = False
        qtbot.addWidget(window)
        return window

    return make


@pytest.fixture
def children(tmp_path):
    """Starts child processes that each hold an autosave slot of ``tmp_path/autosave`` with a tune in it;
    every child still running is killed at the end."""
    started: list[subprocess.Popen] = []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")

    def start(tune: Path) -> tuple[subprocess.Popen, Path]:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "autosave"), str(tune)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        started.append(child)
        line = child.stdout.readline()
        assert line.startswith("READY"), child.stderr.read()[-2000:]
        return child, Path(line.split(" ", 1)[1].strip())

    yield start
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait()


def kill_9(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL


def edit(window, qtbot, tune: Path):
    """Open ``tune`` in ``window`` and delete its first note; returns the edited piece, once autosaved."""
    window.open_file(tune)
    edited = with_notes_removed(window.document.piece, [window.document.piece.notes[0]])
    with qtbot.waitSignal(window.autosaver.saved, timeout=int(scaled(60_000))):
        window.document.apply(edited, "Delete note")
    return edited


def test_two_windows_keep_their_own_autosaves_and_a_clean_exit_removes_only_its_own(windows, qtbot):
    first, second = windows(), windows()
    first_piece = edit(first, qtbot, TUNES[0])
    second_piece = edit(second, qtbot, TUNES[1])
    assert first.autosaver.path != second.autosaver.path
    assert read_autosave(first.autosaver.path)["piece"] == first_piece     # not overwritten by the second
    assert read_autosave(second.autosaver.path)["piece"] == second_piece
    second.close()                                                          # a clean exit of the second
    assert not second.autosaver.path.exists()
    assert read_autosave(first.autosaver.path)["piece"] == first_piece     # the first's work is still there
    assert first.autosaver.lock_path.exists()
    third = windows()                                                       # the first is alive: not offered
    assert third.recovery.pending_restores == []
    assert read_autosave(first.autosaver.path)["piece"] == first_piece


def test_a_killed_instance_is_offered_and_live_ones_are_untouched(windows, children, qtbot):
    live_window = windows()
    live_piece = edit(live_window, qtbot, TUNES[0])
    killed, killed_slot = children(TUNES[1])
    alive, alive_slot = children(TUNES[2])
    kill_9(killed)
    untouched = {path: path.read_bytes() for path in (live_window.autosaver.path, alive_slot)}

    window = windows()
    assert window.pending_restore is not None and window.pending_restore["source"] == str(TUNES[1])
    assert [record["slot"] for record in window.recovery.pending_restores] == [killed_slot]
    assert window.restore_autosave()
    assert window.document.piece == read_midi(TUNES[1]) and window.document.dirty
    assert not killed_slot.exists() and not locks.lock_path(killed_slot).exists()
    assert read_autosave(window.autosaver.path)["piece"] == read_midi(TUNES[1])   # now in the window's own slot
    assert {path: path.read_bytes() for path in untouched} == untouched
    window.close()
    assert not window.autosaver.path.exists()
    assert {path: path.read_bytes() for path in untouched} == untouched
    assert read_autosave(live_window.autosaver.path)["piece"] == live_piece
    assert alive.poll() is None


def test_every_orphaned_slot_is_offered_once(windows, children, qtbot, monkeypatch):
    for tune in TUNES[1:3]:
        child, _slot = children(tune)
        kill_9(child)
    window = windows()
    later = windows()                          # starting at the same time: the orphans are the first's
    assert sorted(record["source"] for record in window.recovery.pending_restores) == sorted(map(str, TUNES[1:3]))
    assert later.recovery.pending_restores == []
    questions: list[str] = []

    def answer_yes(_parent, _title, text, *_args):
        questions.append(text)
        return QMessageBox.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    elsewhere: list[dict] = []
    window.recovery.open_elsewhere = lambda record: elsewhere.append(later.recovery.restore_autosave(record))
    window.offer_restore()
    assert len(questions) == 2 and all("did not close normally" in text for text in questions)
    assert window.recovery.pending_restores == [] and elsewhere == [True]
    assert {window.document.piece, later.document.piece} == {read_midi(tune) for tune in TUNES[1:3]}
    assert sorted(p.name for p in window.autosaver.folder.glob("autosave-*.json")) == sorted(
        [window.autosaver.path.name, later.autosaver.path.name])


def test_a_declined_orphan_is_deleted_and_a_new_start_offers_nothing(windows, children):
    child, slot = children(TUNES[1])
    kill_9(child)
    window = windows()
    assert window.pending_restore["slot"] == slot
    window.decline_restore()
    assert window.pending_restore is None and not slot.exists()
    assert windows().recovery.pending_restores == []


def test_an_orphan_not_answered_is_let_go_at_a_clean_exit(windows, children):
    child, slot = children(TUNES[1])
    kill_9(child)
    window = windows()
    assert window.pending_restore["slot"] == slot
    assert windows().recovery.pending_restores == []    # claimed by the first window while it runs
    window.close()                             # without answering: offered again next time
    assert slot.exists()
    assert [record["slot"] for record in windows().recovery.pending_restores] == [slot]


def test_an_autosave_of_an_earlier_version_is_offered_once_its_app_is_gone(tmp_path, qapp):
    folder = tmp_path / "autosave"
    writer = Autosaver(folder)
    writer.schedule(read_midi(TUNES[0]), str(TUNES[0]))
    writer.flush()
    writer.path.rename(folder / "autosave.json")
    (folder / "session.lock").write_text(str(os.getpid() + 1_000_000))   # no such process
    writer.end_session()
    saver = Autosaver(folder)
    saver.start_session()
    [record] = saver.orphans()
    assert record["piece"] == read_midi(TUNES[0])
    saver.discard_orphan(record)
    assert not (folder / "autosave.json").exists() and not (folder / "session.lock").exists()
    saver.end_session()
    assert list(folder.iterdir()) == []


def test_damaged_orphans_and_stale_lock_files(tmp_path, qapp):
    folder = tmp_path / "autosave"
    folder.mkdir()
    (folder / "autosave-1-dead.json").write_text("{damaged")
    (folder / "autosave-2-dead.json.lock").write_text("2\n")     # a window killed before its first autosave
    saver = Autosaver(folder)
    saver.start_session()
    assert saver.orphans() == []
    assert (folder / "autosave-1-dead.json").exists()            # unreadable: left as it is, not offered
    assert not (folder / "autosave-2-dead.json.lock").exists()    # stale: tidied
    saver.end_session()


def test_claim_refuses_a_lock_held_in_this_process(tmp_path):
    path = tmp_path / "slot.json"
    assert locks.hold(path)
    try:
        assert not locks.claim(path)
    finally:
        locks.release(path)
    assert locks.claim(path)
    locks.release(path)
    assert not locks.lock_path(path).exists()


def test_a_second_restored_piece_opens_in_a_window_of_its_own(tmp_path, children, qtbot, monkeypatch):
    from gui import app
    from gui.model_picker import ModelPicker

    monkeypatch.setattr(ModelPicker, "preload_default_model", lambda self: None)
    for tune in TUNES[1:3]:
        child, _slot = children(tune)
        kill_9(child)
    args = app.parse_args(["--settings", str(tmp_path / "settings.ini"), "--autosave-dir", str(tmp_path / "autosave")])
    window = app.build_window(args)
    qtbot.addWidget(window)
    window.ask_before_closing = False
    window.recovery.open_elsewhere = lambda record: app.open_restored_window(args, record)   # as app.main does
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: QMessageBox.Yes)
    try:
        window.offer_restore()
        [other] = app._RESTORED_WINDOWS
        qtbot.addWidget(other)
        other.ask_before_closing = False
        assert other.isVisible() and other.document.dirty
        assert {window.document.piece, other.document.piece} == {read_midi(tune) for tune in TUNES[1:3]}
        slots = sorted(p.name for p in (tmp_path / "autosave").glob("autosave-*.json"))
        assert slots == sorted([window.autosaver.path.name, other.autosaver.path.name])
    finally:
        app._RESTORED_WINDOWS.clear()
