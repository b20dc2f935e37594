"""One background job at a time for the window: the Compose panel's progress bar and Cancel, the errors.

The job modules (:mod:`gui.jobs.generate`, :mod:`gui.jobs.harmony`) hand :meth:`JobRunner.start` a
job function, a label and what to do with the result; the runner runs it on a
:class:`~gui.jobs.worker.Worker` (a thread), and on the GUI thread shows how it ended. :meth:`JobRunner.start_process`
runs a named job in a child process instead (:class:`~gui.jobs.process.ProcessWorker`; Export WAV), with the same
progress bar, Cancel and messages.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from gui.generate_panel import GeneratePanel
from gui.jobs.process import DEFAULT_DESCRIBE, KILL_GRACE_MS, ProcessWorker
from gui.jobs.worker import CANCELLED, FAILED, SUCCEEDED, Job, Worker
from gui.messages import Messages

AnyWorker = Worker | ProcessWorker

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
        self.worker: AnyWorker | None = None
        self._on_success: Callable[[Any], None] | None = None

    def start(self, job: Job, label: str, on_success: Callable[[Any], None]) -> bool:
        """Run ``job`` on a worker; ``on_success(result)`` runs on the GUI thread when it returns.

        Returns:
            False (with a message) while another job is still running.
        """
        if self._refuse_second_job():
            return False
        return self._run(Worker(job, label, self), label, on_success)

    def start_process(self, target: str, args: tuple, label: str, on_success: Callable[[Any], None],
                      describe_error: str = DEFAULT_DESCRIBE, cancel_kills: bool = False,
                      on_ended: Callable[[ProcessWorker], None] | None = None) -> bool:
        """Run the job named ``target`` in a child process (see :class:`~gui.jobs.process.ProcessWorker` for the
        arguments); ``on_success(result)`` runs on the GUI thread when it returns.

        Returns:
            False (with a message) while another job is still running, or when the process cannot start.
        """
        if self._refuse_second_job():
            return False
        worker = ProcessWorker(target, args, label, self, describe_error, cancel_kills, on_ended)
        return self._run(worker, label, on_success)

    def _refuse_second_job(self) -> bool:
        if self.worker is None:
            return False
        self.messages.show_message("Another job is still running; cancel it first")
        return True

    def _run(self, worker: AnyWorker, label: str, on_success: Callable[[Any], None]) -> bool:
        worker.progress.connect(self.panel.set_progress)
        worker.finished.connect(self._job_ended)
        try:
            worker.start()
        except OSError as error:
            self.messages.show_error(f"Cannot start {label}", str(error))
            return False
        self.worker, self._on_success = worker, on_success
        self.panel.set_busy(True, f"{label}...")
        self.busyChanged.emit(True)
        return True

    def cancel(self) -> None:
        """Ask the running job (if any) to stop."""
        if self.worker is not None:
            self.worker.cancel()
            self.panel.progress_bar.setFormat("Cancelling...")

    def shut_down(self) -> None:
        """Cancel the running job and wait for it a while (the window is closing)."""
        worker = self.worker
        if worker is None:
            return
        worker.cancel()
        if isinstance(worker, ProcessWorker):
            if not worker.wait(JOB_WAIT_ON_CLOSE_MS):
                worker.kill()
                worker.wait(KILL_GRACE_MS + 2000)
            worker.finish_now()  # its clean-up (a partial file) and the end of the job, before the loop stops
        else:
            worker.wait(JOB_WAIT_ON_CLOSE_MS)

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
