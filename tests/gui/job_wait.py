"""Waiting for a window's background job in GUI tests (shared by the window test files)."""

from __future__ import annotations

JOB_TIMEOUT_MS = 60_000


def run_job(qtbot, window, start) -> str:
    """Start a job with ``start()`` and wait for the window's ``jobFinished``; returns how it ended."""
    with qtbot.waitSignal(window.jobFinished, timeout=JOB_TIMEOUT_MS) as blocker:
        assert start() is True
    return blocker.args[0]


class Recorder:
    """Every signal of a job worker (the thread :class:`gui.jobs.worker.Worker` or the child-process
    :class:`gui.jobs.process.ProcessWorker`: they emit the same signals), in order."""

    def __init__(self, worker) -> None:
        self.events: list[tuple] = []
        worker.progress.connect(lambda done, total: self.events.append(("progress", done, total)))
        worker.report.connect(lambda payload: self.events.append(("report", payload)))
        worker.succeeded.connect(lambda result: self.events.append(("succeeded", result)))
        worker.failed.connect(lambda message: self.events.append(("failed", message)))
        worker.cancelled.connect(lambda: self.events.append(("cancelled",)))
        worker.finished.connect(lambda: self.events.append(("finished",)))

    def kinds(self) -> list[str]:
        return [event[0] for event in self.events]
