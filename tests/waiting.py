"""Waiting in tests on a busy machine: every wall-clock limit on *waiting* stretches with the load.

A test may wait for a child process, a thread or a signal. On a quiet machine a generous fixed limit only
catches hangs; at load 16 on two cores the same work takes eight times as long, and a fixed limit would fail
a test that is merely slow. So waits are stretched by :func:`load_factor`. Work itself is bounded in CPU
time where a test bounds it (``tests/reliability``), never in wall time.
"""

from __future__ import annotations

import os


def load_factor() -> float:
    """How many times slower than on a quiet machine work runs now: the 1-minute load average per core, at
    least 1 (at load 16 on 2 cores, 8)."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


def scaled(seconds: float) -> float:
    """A wall-clock limit on waiting (a child's timeout, a hang's bound) stretched by :func:`load_factor`, so a
    busy machine does not fail what a quiet one passes. Never a bound on work: that is CPU time."""
    return seconds * load_factor()


def scaled_ms(milliseconds: int) -> int:
    """:func:`scaled` for Qt's waits, in whole milliseconds."""
    return int(milliseconds * load_factor())


QT_WAITS = ("waitSignal", "waitSignals", "waitUntil", "waitCallback", "waitExposed", "waitActive")
QT_DEFAULT_TIMEOUT_MS = 5000    # pytest-qt's own default for these waits


def stretch_qtbot_waits(qtbot) -> None:
    """Make ``qtbot``'s waits (:data:`QT_WAITS`) stretch their timeout (given, or pytest-qt's default) by the
    load at the moment of waiting."""
    for name in QT_WAITS:
        original = getattr(qtbot, name, None)
        if original is None:
            continue

        def wait(*args, _original=original, **kwargs):
            timeout = kwargs.get("timeout", QT_DEFAULT_TIMEOUT_MS)
            if timeout:                                 # 0 or None: pytest-qt's "no timeout"
                kwargs["timeout"] = scaled_ms(timeout)
            return _original(*args, **kwargs)

        setattr(qtbot, name, wait)
