"""``composer-gui`` (gui.app): with a display it opens the window; without one it explains and runs the
command-line equivalent of the main job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from gui import app
from tests.waiting import scaled

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("env, expected", [
    ({}, False),
    ({"DISPLAY": ":0"}, True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, False),
])
def test_display_detection(monkeypatch, env, expected):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", "linux")
    ok, reason = app.has_display()
    assert ok is expected
    assert bool(reason) is not expected


def test_without_a_display_it_explains_and_generates_with_the_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", "import sys; from gui.app import main; sys.exit(main())"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=scaled(180), check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cannot open the window" in result.stdout and "no display" in result.stdout
    assert "composer generate --out generated --count 8 --bars 16" in result.stdout
    assert str(tmp_path / "generated") in result.stdout and "composer generate --help" in result.stdout
    manifest = json.loads((tmp_path / "generated" / "manifest.json").read_text())
    assert len(manifest["files"]) == 8
    assert all((tmp_path / "generated" / f["file"]).is_file() for f in manifest["files"])
    first_run = {p.name: p.read_bytes() for p in (tmp_path / "generated").iterdir()}
    again = subprocess.run([sys.executable, "-c", "import sys; from gui.app import main; sys.exit(main())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=scaled(180), check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "composer generate --out generated_2 --count 8 --bars 16" in again.stdout    # a fresh folder
    assert {p.name: p.read_bytes() for p in (tmp_path / "generated").iterdir()} == first_run
    assert len(json.loads((tmp_path / "generated_2" / "manifest.json").read_text())["files"]) == 8


def test_a_fresh_folder_is_never_one_with_files(tmp_path):
    assert app.fresh_folder(tmp_path / "out") == tmp_path / "out"
    (tmp_path / "out").mkdir()
    assert app.fresh_folder(tmp_path / "out") == tmp_path / "out"            # empty: usable
    (tmp_path / "out" / "a.mid").write_bytes(b"x")
    (tmp_path / "out_2").write_text("a file, not a folder")
    assert app.fresh_folder(tmp_path / "out") == tmp_path / "out_3"


def test_build_window_opens_the_file_and_uses_the_given_settings(qtbot, tmp_path, folk_file):
    args = app.parse_args(["--settings", str(tmp_path / "s.ini"), "--autosave-dir", str(tmp_path / "auto"),
                           str(folk_file)])
    window = app.build_window(args)
    window.ask_before_closing = False
    qtbot.addWidget(window)
    assert window.document.path == folk_file
    assert window.settings.store.fileName() == str(tmp_path / "s.ini")
    assert not window.models.ready                                    # the model files load in the background
    with qtbot.waitSignal(window.models.modelsReady, timeout=120_000):
        pass
    assert window.panel.model_path().endswith("melody.pt")            # the shipped default model
    window.close()
    assert (tmp_path / "s.ini").is_file()


def test_model_arguments_are_added_once_the_models_are_read(qtbot, tmp_path, tiny_chord_model):
    args = app.parse_args(["--settings", str(tmp_path / "s.ini"), "--autosave-dir", str(tmp_path / "auto"),
                           "--model", str(tiny_chord_model)])
    window = app.build_window(args)
    window.ask_before_closing = False
    qtbot.addWidget(window)
    assert window.panel.model_path() is None                          # "Loading models..."
    with qtbot.waitSignal(window.models.modelsReady, timeout=120_000):
        pass
    assert window.panel.model_path() == str(Path(tiny_chord_model).resolve())   # added and selected
    assert str(Path(tiny_chord_model).resolve()) in window.settings.extra_models()
    window.close()


def test_a_display_qt_cannot_use_is_detected(monkeypatch):
    """DISPLAY names an X server that is not there (or Qt's X11 libraries are missing): Qt would abort the
    process, so composer-gui tries Qt in a child process first, and then falls back to the CLI."""
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":417")
    ok, reason = app.qt_can_open_windows()
    assert not ok
    assert reason.startswith("Qt cannot open a window on this display (") and len(reason) > 50
