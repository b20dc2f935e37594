"""The suite's hang watchdog (conftest.py) under load (issue 17, "the test suite under load").

It once failed any test past 240 s of wall clock, which a busy machine (load 16 on 2 cores) reaches with tests that
take 25 s on a quiet one. It now bounds work in CPU time (the test's process and its children) and waiting in
wall time stretched by the load seen; these tests shrink its limits to show each still catches what it is for.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")


def copies() -> list:
    """The loaded copies of conftest.py (pytest imports it as ``reliability.conftest``; another import of it by
    another name would be a second module object): the watchdog reads the one pytest runs."""
    return [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(CONFTEST)]


def patch(monkeypatch, name: str, value) -> None:
    for module in copies():
        monkeypatch.setattr(module, name, value)


class Stopped:
    """The watchdog's timeout (of whichever copy), caught as a BaseException."""

    def __init__(self) -> None:
        self.text = ""

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        assert kind is not None and "WatchdogTimeout" in [k.__name__ for k in kind.__mro__], kind
        self.text = str(value)
        return True


def test_a_runaway_loop_is_stopped_by_its_cpu_time(monkeypatch):
    patch(monkeypatch, "WATCHDOG_CPU_SECONDS", 2)
    with Stopped() as caught:
        while True:
            pass
    assert "s of CPU (the limit is 2 s)" in caught.text


def test_a_runaway_child_counts_too(monkeypatch):
    patch(monkeypatch, "WATCHDOG_CPU_SECONDS", 2)
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with Stopped() as caught:
            while child.poll() is None:
                time.sleep(0.05)
        assert "s of CPU" in caught.text
    finally:
        child.kill()
        child.wait()


def test_a_blocked_test_is_stopped_after_the_load_stretched_wall_time(monkeypatch):
    patch(monkeypatch, "WATCHDOG_SECONDS", 2)
    patch(monkeypatch, "load_factor", lambda: 1.5)
    started = time.monotonic()
    with Stopped() as caught:
        while True:
            time.sleep(0.05)
    assert "at load factor 1.5" in caught.text
    assert time.monotonic() - started >= 3          # 2 s stretched by the load: the clock, only for waiting


def test_scaled_waits_stretch_with_the_load(monkeypatch):
    conftest = copies()[0]
    monkeypatch.setattr(conftest.os, "getloadavg", lambda: (16.0, 16.0, 16.0))
    monkeypatch.setattr(conftest.os, "cpu_count", lambda: 2)
    assert conftest.load_factor() == 8.0 and conftest.scaled(30) == 240
    monkeypatch.setattr(conftest.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert conftest.scaled(30) == 30
