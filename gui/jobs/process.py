"""Long work in a child process: a :class:`ProcessWorker` runs one job function in a process of its own.

Training and Export WAV run here rather than on a thread: a thread running Python (the trainer's loop, the
synthesizer's numpy calls) holds the interpreter for long stretches, and the window then freezes for as long;
a process shares nothing with the GUI thread, so the window never waits for it. The child is started with the
``spawn`` method (a fresh interpreter: no fork of a process holding Qt's and torch's threads), imports only what
its job needs (no Qt), and the job is named, not pickled: ``"gui.jobs.tasks:train_model"``. As with every
``spawn`` child, the program's main script is imported again in the child (as ``__mp_main__``), so a script that
starts jobs keeps its work under ``if __name__ == "__main__":`` (``composer-gui``'s entry point does).

The child sends its progress, reports, result or error back through a one-way pipe (:mod:`gui.jobs.child`);
a QTimer on the GUI thread reads what has arrived every :data:`POLL_MS`, for at most :data:`POLL_BUDGET_S` at a
time, and emits the same signals as the thread :class:`~gui.jobs.worker.Worker`, so that the job runner and the
training dialog take either. The parent holds no write end of the pipe, so a child that dies, however it dies,
ends the pipe and the worker finishes.

Stopping: :meth:`ProcessWorker.cancel` sets an Event the job polls (the trainer then saves a resumable model file
at the end of its current step); with ``cancel_kills`` (a job that has no safe point to stop at, like rendering)
it kills the child at once instead. :meth:`ProcessWorker.kill` ends the child and its process group with SIGTERM,
then SIGKILL after :data:`KILL_GRACE_MS`. Killing never damages a model file: the trainer writes it atomically, so
it holds either the last complete save or what was there before.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import time
import traceback
import weakref
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from gui.jobs.child import child_main
from gui.jobs.worker import CANCELLED, FAILED, SUCCEEDED

POLL_MS = 25              # how often the GUI thread looks at the pipe
POLL_BUDGET_S = 0.010     # the most time one look may take (messages left wait for the next one)
KILL_GRACE_MS = 3000      # after SIGTERM, how long the child has before SIGKILL
DEFAULT_DESCRIBE = "gui.jobs.errors:user_message"
EXIT_GRACE_S = 2.0        # at interpreter exit, how long a child still running has to stop before it is killed

_LIVE: weakref.WeakSet[ProcessWorker] = weakref.WeakSet()   # workers whose child may still run


def _stop_leftover_children() -> None:
    """At interpreter exit: stop every child still running (multiprocessing would otherwise wait for it).

    Registered after multiprocessing's own exit handler, so it runs first. Each child is asked to stop, given
    :data:`EXIT_GRACE_S` in all, then killed with its process group.
    """
    workers = [worker for worker in list(_LIVE) if worker.is_running()]
    for worker in workers:
        worker._stop_event.set()
    deadline = time.monotonic() + EXIT_GRACE_S
    for worker in workers:
        worker._process.join(max(0.0, deadline - time.monotonic()))
        if worker.is_running():
            worker._signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
            worker._process.join(1.0)


atexit.register(_stop_leftover_children)


class ProcessWorker(QObject):
    """Runs ``target(control, *args)`` in a child process; see the module docstring.

    Args:
        target: the job function, ``"module:function"``, importable without Qt (see :mod:`gui.jobs.tasks`).
        args: its arguments after the control; they must pickle.
        label: the job's name for messages ("Training", "Export WAV").
        parent: Qt parent.
        describe_error: the name of the function that makes the message for an error of the job; it runs in the
            child. Default :func:`gui.jobs.errors.user_message`.
        cancel_kills: :meth:`cancel` kills the child rather than asking the job to stop.
        on_ended: called on the GUI thread once the child has ended, before ``finished`` (e.g. to delete a file
            a killed child left half-written), with the worker.

    Signals:
        progress(int, int): (done, total) as reported by the job.
        report(object): any other progress payload the job passed to ``control.report``.
        succeeded(object): the job's return value (also after a cancel, when it returned).
        failed(str): a one-line message for the user.
        cancelled(): the job ended after :meth:`cancel` was called.
        finished(): always last, once the child has ended in any way.
    """

    progress = Signal(int, int)
    report = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, target: str, args: tuple, label: str, parent: QObject | None = None,
                 describe_error: str = DEFAULT_DESCRIBE, cancel_kills: bool = False,
                 on_ended: Callable[[ProcessWorker], None] | None = None) -> None:
        super().__init__(parent)
        self.target, self.args, self.label = target, args, label
        self.describe_error = describe_error
        self.cancel_kills = cancel_kills
        self.on_ended = on_ended
        self.outcome: str | None = None   # SUCCEEDED, FAILED or CANCELLED once finished
        self.result: Any = None
        self.error = ""
        self.killed = False
        self._has_result = False
        self._cancel_requested = False
        self._pipe_closed = False
        self._ended = False
        self._pending: list[tuple] = []
        self._context = multiprocessing.get_context("spawn")
        self._stop_event = self._context.Event()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pid: int | None = None
        self._exitcode: int | None = None   # kept once the process object is closed
        self._closed = False
        self._reader = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.setInterval(KILL_GRACE_MS)
        self._kill_timer.timeout.connect(self._kill_hard)

    # -- control (GUI thread) ------------------------------------------------------------------
    def start(self) -> None:
        """Start the child process and begin listening to it.

        Raises:
            OSError: the process cannot be started.
        """
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=child_main, name=f"composer-{self.label.lower().replace(' ', '-')}",
            args=(self.target, self.args, writer, self._stop_event, self.label, self.describe_error))
        try:
            process.start()
        finally:
            writer.close()  # the child's copy is the only write end: its death ends the pipe
        self._process, self._reader, self._pid = process, reader, process.pid
        _LIVE.add(self)
        self._timer.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report (or ``should_stop`` check); kill it with
        ``cancel_kills``."""
        self._cancel_requested = True
        self._stop_event.set()
        if self.cancel_kills:
            self.kill()

    def kill(self) -> None:
        """End the child (and the processes it started) now: SIGTERM, then SIGKILL after :data:`KILL_GRACE_MS`."""
        self._cancel_requested = True
        self._stop_event.set()
        if not self.is_running():
            return
        self.killed = True
        self._signal(signal.SIGTERM)
        self._kill_timer.start()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    @property
    def pid(self) -> int | None:
        """The child's process id (None before :meth:`start`)."""
        return self._pid

    @property
    def exitcode(self) -> int | None:
        """The child's exit code once it has ended (negative: killed by that signal), else None."""
        if self._exitcode is None and self._process is not None:
            self._exitcode = self._process.exitcode
        return self._exitcode

    def is_running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self.exitcode is None

    def is_finished(self) -> bool:
        """True once the child process has ended."""
        return self._process is not None and self.exitcode is not None

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the child has ended (at most ``timeout_ms``), reading its messages meanwhile so that it never
        waits on a full pipe; they are delivered by the next :meth:`poll`. Returns True when it has ended."""
        if self._process is None:
            return True
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        while self.is_running():
            self._read(budget_s=0.05, deliver=False)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._process.join(0.05 if remaining is None else min(0.05, remaining))
        return True

    def finish_now(self, limit_s: float = 2.0) -> bool:
        """Once the child has ended, deliver what it sent and finish (``finished`` emitted) now, rather than on the
        timer: for shutting down, when the event loop may not run again. Returns True when finished."""
        deadline = time.monotonic() + limit_s
        while not self._ended and self.is_finished() and time.monotonic() < deadline:
            self.poll()
        return self._ended

    def dispose(self) -> None:
        """After ``finished``: release the pipe and the process object."""
        self._timer.stop()
        self._kill_timer.stop()
        if self._reader is not None:
            self._reader.close()
        if self._process is not None and self.exitcode is None:
            self._process.join(1)
        if self.exitcode is not None and not self._closed:
            self._process.close()
            self._closed = True

    # -- listening (GUI thread, on the timer) --------------------------------------------------
    def poll(self) -> None:
        """Deliver what the child sent since the last look; finish once it has ended and its pipe is empty."""
        if self._ended:
            return
        self._read(budget_s=POLL_BUDGET_S, deliver=True)
        if self._pipe_closed and not self._pending and not self.is_running():
            self._finish()   # (a pipe closed by a child still exiting is looked at again next time)

    def _read(self, budget_s: float, deliver: bool) -> None:
        """Take messages from the pipe for at most ``budget_s``, delivering them (in order) or keeping them."""
        deadline = time.perf_counter() + budget_s
        while self._pending and deliver and time.perf_counter() < deadline:
            self._handle(self._pending.pop(0))
        while not self._pipe_closed and time.perf_counter() < deadline:
            try:
                if not self._reader.poll():
                    break
                message = self._reader.recv()
            except (EOFError, OSError):
                self._pipe_closed = True
                break
            if deliver and not self._pending:
                self._handle(message)
            else:
                self._pending.append(message)

    def _handle(self, message: tuple) -> None:
        kind = message[0]
        if kind == "progress":
            self.progress.emit(message[1], message[2])
        elif kind == "report":
            self.report.emit(message[1])
        elif kind == "result":
            self.result, self._has_result = message[1], True
        elif kind == "error":
            self.error = message[1]

    def _finish(self) -> None:
        self._ended = True
        self._timer.stop()
        self._kill_timer.stop()
        code = self.exitcode
        if self.on_ended is not None:
            try:
                self.on_ended(self)
            except Exception:  # noqa: BLE001 (finished must come whatever the clean-up does)
                traceback.print_exc()
        if self.error:
            self.outcome = FAILED
            self.failed.emit(self.error)
        elif self._has_result or self._cancel_requested:
            self.outcome = CANCELLED if self._cancel_requested else SUCCEEDED
            if self.outcome == CANCELLED:
                self.cancelled.emit()
            if self._has_result:
                self.succeeded.emit(self.result)
        else:
            self.outcome = FAILED
            self.error = f"{self.label} stopped unexpectedly: its process ended with exit code {code}"
            self.failed.emit(self.error)
        self.finished.emit()

    # -- killing -------------------------------------------------------------------------------
    def _kill_hard(self) -> None:
        if self.is_running():
            self._signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)

    def _signal(self, number: int) -> None:
        """Send ``number`` to the child's process group (the child leads one, POSIX), else to the child alone."""
        pid = self._pid
        if hasattr(os, "killpg"):
            try:
                os.killpg(pid, number)
                return
            except (ProcessLookupError, PermissionError):
                pass  # not (yet) the leader of its own group: the child alone
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass
