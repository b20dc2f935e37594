"""Waiting for a window's background job in GUI tests (shared by the window test files)."""

from __future__ import annotations

JOB_TIMEOUT_MS = 60_000


def run_job(qtbot, window, start) -> str:
    """Start a job with ``start()`` and wait for the window's ``jobFinished``; returns how it ended."""
    with qtbot.waitSignal(window.jobFinished, timeout=JOB_TIMEOUT_MS) as blocker:
        assert start() is True
    return blocker.args[0]
