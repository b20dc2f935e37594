"""Waits in tests stretch with the machine's load (tests/waiting.py), qtbot's included."""

from __future__ import annotations

import os

from tests import waiting


class FakeBot:
    """Records the timeout each wait is given."""

    def __init__(self) -> None:
        self.timeouts: list = []

    def waitSignal(self, signal, timeout=5000, raising=True):   # noqa: N802 (pytest-qt's names)
        self.timeouts.append(timeout)

    def waitUntil(self, callback, timeout=5000):               # noqa: N802
        self.timeouts.append(timeout)


def test_qtbot_waits_stretch_with_the_load_given_or_default(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (16.0, 16.0, 16.0))
    bot = FakeBot()
    waiting.stretch_qtbot_waits(bot)
    bot.waitSignal("signal", timeout=60_000)
    bot.waitUntil(lambda: True)                                 # pytest-qt's default, 5 s
    bot.waitSignal("signal", timeout=0)                         # no timeout stays none
    assert bot.timeouts == [480_000, 40_000, 0]
    monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 0.3, 0.3))
    bot.waitUntil(lambda: True, timeout=2000)                   # a quiet machine waits as written
    assert bot.timeouts[-1] == 2000 and waiting.scaled(30) == 30


def test_the_suites_qtbot_is_the_stretched_one(qtbot):
    assert qtbot.waitSignal.__qualname__.endswith("stretch_qtbot_waits.<locals>.wait")
