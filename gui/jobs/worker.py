"""Long work off the GUI thread: a :class:`Worker` runs one function on its own QThread and only emits signals.

The jobs that run torch with little Python in between (generation, harmony) run on this class; training and
Export WAV run in a child process instead (:class:`gui.jobs.process.ProcessWorker`, the same signals), because
their Python code would hold the interpreter and freeze the window. The function receives a :class:`JobControl`:

- called as ``control(done, total)`` it reports progress and returns True once the user asked to cancel,
  which is what the library's ``on_step`` callbacks want;
- ``control.report(payload)`` passes any other progress (the trainer's event dicts) to the GUI thread;
- ``control.should_stop()`` says whether cancel was asked (the trainer's ``should_stop``).

The result comes back through ``succeeded``, an error as a user-facing message through ``failed``, and
``finished`` always comes last, once the job has ended in any way. By then ``outcome``, ``result`` and
``error`` hold how it ended, so a receiver of ``finished`` alone knows everything.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.jobs.errors import user_message

Progress = Callable[[int, int], bool]

SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"

__all__ = ["CANCELLED", "FAILED", "SUCCEEDED", "Job", "JobControl", "Progress", "Worker",
           "user_message"]


class JobControl:
    """What a job gets to talk to the GUI thread: progress, free-form reports and the cancel flag.

    Args:
        emit_progress: called with (done, total) on every progress report.
        emit_report: called with any other progress payload.
        cancel_flag: set once the user asked to cancel.
    """

    def __init__(self, emit_progress: Callable[[int, int], None], emit_report: Callable[[object], None],
                 cancel_flag: threading.Event) -> None:
        self._emit_progress = emit_progress
        self._emit_report = emit_report
        self._cancel_flag = cancel_flag

    def __call__(self, done: int, total: int) -> bool:
        """Report (done, total). Returns True once cancel was asked (the library's ``on_step`` contract)."""
        self._emit_progress(int(done), int(total))
        return self._cancel_flag.is_set()

    def report(self, payload: object) -> None:
        """Pass any progress payload (e.g. a trainer event dict) to the GUI thread."""
        self._emit_report(payload)

    def should_stop(self) -> bool:
        """True once cancel was asked."""
        return self._cancel_flag.is_set()


Job = Callable[[JobControl], Any]


class Worker(QObject):
    """Runs ``job(control)`` on a QThread of its own; see the module docstring.

    Args:
        job: the function to run; it gets a :class:`JobControl` and returns the result.
        label: the job's name for messages ("Generation", "Training"...).
        parent: Qt parent of the thread (the worker itself has none: it lives on its thread).
        describe_error: turns an exception of the job into the user's message; default
            :func:`user_message`.

    Signals:
        progress(int, int): (done, total) as reported by the job.
        report(object): any other progress payload the job passed to ``control.report``.
        succeeded(object): the job's return value (also after a cancel, when it returned partial results).
        failed(str): a message for the user.
        cancelled(): the job returned after :meth:`cancel` was called (``succeeded`` follows).
        finished(): always last, once the job has ended in any way.
    """

    progress = Signal(int, int)
    report = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, job: Job, label: str, parent: QObject | None = None,
                 describe_error: Callable[[Exception, str], str] = user_message) -> None:
        super().__init__()
        self.job = job
        self.label = label
        self.describe_error = describe_error
        self.outcome: str | None = None   # SUCCEEDED, FAILED or CANCELLED once finished
        self.result: Any = None
        self.error = ""
        self._cancel = threading.Event()
        self._home = QThread.currentThread()
        self._thread = QThread(parent)
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    # -- control (GUI thread) ------------------------------------------------------------------
    def start(self) -> None:
        """Start the job on the worker's thread."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report (or ``should_stop`` check)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def is_finished(self) -> bool:
        """True once the job has ended and its thread has stopped."""
        return self._thread.isFinished()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the thread has stopped (at most ``timeout_ms``). Returns True when it has."""
        return self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)

    def dispose(self) -> None:
        """After ``finished``: wait for the thread to stop, then let Qt delete it."""
        self._thread.wait()
        self._thread.deleteLater()

    # -- the job (worker thread) ---------------------------------------------------------------
    @Slot()
    def _run(self) -> None:
        control = JobControl(self.progress.emit, self.report.emit, self._cancel)
        try:
            self.result = self.job(control)
        except Exception as error:  # every error becomes a message: the thread must not die silently
            self.outcome, self.error = FAILED, self.describe_error(error, self.label)
            self.failed.emit(self.error)
        else:
            self.outcome = CANCELLED if self._cancel.is_set() else SUCCEEDED
            if self.outcome == CANCELLED:
                self.cancelled.emit()
            self.succeeded.emit(self.result)
        finally:
            self.moveToThread(self._home)  # back home first, so whoever receives finished may delete it
            self.finished.emit()
            self._thread.quit()  # thread-safe; the thread's event loop then returns at once
