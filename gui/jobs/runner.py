"""One background job at a time for the window: the Compose panel's progress bar and Cancel, the errors.

The job modules (:mod:`gui.jobs.generate`, :mod:`gui.jobs.harmony`) hand :meth:`JobRunner.start` a
job function, a label and what to do with the result; the runner runs it on a
:class:`~gui.jobs.worker.Worker`, and on the GUI thread shows how it ended.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from gui.generate_panel import GeneratePanel
from gui.jobs.worker import CANCELLED, FAILED, SUCCEEDED, Job, Worker
from gui.messages import Messages

JOB_WAIT_ON_CLOSE_MS = 10_000


class JobRunner(QObject):
    """Runs the window's jobs one at a time.

    Args:
        panel: the Compose panel (busy state, progress bar, Cancel).
        messages: where messages and errors go (the window).
        parent: Qt parent.

    Signals:
        jobFinished(str): a job ended: "succeeded", "failed" or "cancelled".
        busyChanged(bool): a job started (True) or ended (False).
    """

    jobFinished = Signal(str)  # noqa: N815 (Qt naming)
    busyChanged = Signal(bool)  # noqa: N815

    def __init__(self, panel: GeneratePanel, messages: Messages, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.messages = messages
        self.worker: Worker | None = None
        self._on_success: Callable[[Any], None] | None = None

    def start(self, job: Job, label: str, on_success: Callable[[Any], None]) -> bool:
        """Run ``job`` on a worker; ``on_success(result)`` runs on the GUI thread when it returns.

        Returns:
            False (with a message) while another job is still running.
        """
        if self.worker is not None:
            self.messages.show_message("Another job is still running; cancel it first")
            return False
        worker = Worker(job, label, self)
        worker.progress.connect(self.panel.set_progress)
        worker.finished.connect(self._job_ended)
        self.worker, self._on_success = worker, on_success
        self.panel.set_busy(True, f"{label}...")
        self.busyChanged.emit(True)
        worker.start()
        return True

    def cancel(self) -> None:
        """Ask the running job (if any) to stop."""
        if self.worker is not None:
            self.worker.cancel()
            self.panel.progress_bar.setFormat("Cancelling...")

    def shut_down(self) -> None:
        """Cancel the running job and wait for it a while (the window is closing)."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(JOB_WAIT_ON_CLOSE_MS)

    def _job_ended(self) -> None:
        worker, on_success = self.worker, self._on_success
        if worker is None:
            return
        worker.dispose()
        self.worker, self._on_success = None, None
        self.busyChanged.emit(False)
        if worker.outcome == FAILED:
            outcome = FAILED
            self.panel.set_busy(False, "Failed")
            self.messages.show_error(f"{worker.label} failed", worker.error)
        elif worker.cancel_requested:
            outcome = CANCELLED
            self.panel.set_busy(False, "Cancelled")
            self.messages.show_message(f"{worker.label} cancelled")
        else:
            outcome = SUCCEEDED
            self.panel.set_busy(False, f"{worker.label} done")
            on_success(worker.result)
        self.jobFinished.emit(outcome)
