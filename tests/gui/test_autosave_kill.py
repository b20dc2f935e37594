"""Reliability: the open piece survives a SIGKILL of the app.

A subprocess runs the real app (offscreen, private settings and autosave folder) and keeps editing a
real MIDI file through the undo stack, autosaving after every edit. It is killed with SIGKILL in the
middle of that stream of edits and atomic autosave writes. A second run of the app with the same folders
must offer the restore, and the restored piece must be exactly one of the edited states, no older than
the last autosave reported before the kill.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from gui.autosave import piece_from_dict
from tests.waiting import scaled

DRIVER = Path(__file__).with_name("autosave_driver.py")
REPO = Path(__file__).resolve().parents[2]
CPU_SECONDS = 120      # CPU an app run may use to start and autosave (a few seconds on a quiet machine); CPU time,
                       # not the clock, so a busy machine does not fail the test
BLOCKED_SECONDS = 1800  # wall clock after which a restore run that uses no CPU is taken as stuck


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process has used, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_limit() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))


def _environment(tmp_path: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), OMP_NUM_THREADS="1",
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env


@pytest.mark.parametrize("saves_before_kill", [3])
def test_autosave_survives_sigkill(tmp_path, folk_file, saves_before_kill):
    settings, autosave = str(tmp_path / "settings.ini"), str(tmp_path / "autosave")
    env = _environment(tmp_path)
    editor_log = tmp_path / "editor.stderr"
    editor = subprocess.Popen([sys.executable, str(DRIVER), "edit", settings, autosave, str(folk_file)],
                              stdout=subprocess.PIPE, stderr=editor_log.open("w"), text=True, env=env, cwd=REPO)
    states: dict[int, dict] = {}
    last_saved = -1

    def take(line: str) -> None:
        nonlocal last_saved
        word, index, *rest = line.split(" ", 2)
        if word == "STATE":
            states[int(index)] = json.loads(rest[0])
        elif word == "SAVED":
            last_saved = max(last_saved, int(index))

    saved_before_kill = -1
    try:
        while cpu_seconds(editor.pid) < CPU_SECONDS and last_saved + 1 < saves_before_kill:
            line = editor.stdout.readline()
            assert line, f"the app exited before it was killed: {editor_log.read_text()[-2000:]}"
            take(line)
        saved_before_kill = last_saved
        assert saved_before_kill + 1 >= saves_before_kill, f"no autosave in {CPU_SECONDS} s of the app's CPU"
    finally:
        editor.send_signal(signal.SIGKILL)  # edits and autosave writes are still going on
        editor.wait()
    assert editor.returncode == -signal.SIGKILL
    # Edits made between our last read and the kill (a write may even have finished unreported).
    for line in editor.stdout.read().splitlines():
        if line.strip():
            take(line)
    assert list(Path(autosave).glob("autosave-*.json.lock"))  # the killed app could not clean up

    result = subprocess.run([sys.executable, str(DRIVER), "restore", settings, autosave], capture_output=True,
                            text=True, env=env, cwd=REPO, timeout=scaled(BLOCKED_SECONDS), preexec_fn=_cpu_limit)
    report = f"stdout: {result.stdout[-1500:]}\nstderr: {result.stderr[-2000:]}"
    assert result.returncode == 0, report
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines.get("OFFERED") == "1", report
    assert "did not close normally" in lines["OFFER"] and folk_file.name in lines["OFFER"]
    restored = piece_from_dict(json.loads(lines["RESTORED"]))
    matches = [i for i, state in states.items() if piece_from_dict(state) == restored]
    assert matches, "the restored piece is none of the edited states"
    assert matches[0] >= saved_before_kill, (matches, saved_before_kill)
    assert lines["DIRTY"] == "1"
    assert not list(Path(autosave).glob("autosave-*"))         # the orphan went, the clean exit cleared its own
