"""The inside of a job's child process (see :mod:`gui.jobs.process`). No Qt here: the child never imports it.

:func:`child_main` is what the spawned process runs. It looks the job function up by name
(``"gui.jobs.tasks:train_model"``), calls it with a :class:`ChildControl` and the job's arguments, and sends
everything back through the one-way pipe it was given, as small tuples::

    ("progress", done, total)    ("report", payload)    ("result", value)    ("error", message)

An exception of the job becomes ``("error", message)``, the message made by the job's ``describe_error`` function
(also looked up by name, so that it runs in the child, where the exception is) and folded into one line.

The child is the leader of a process group of its own (POSIX), so that the parent can stop it together with any
processes it started (the trainer's corpus workers). It watches its parent: when the parent is gone (the app was
killed), it asks the job to stop as if the user had cancelled, and exits soon after even if the job does not.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Callable

PARENT_CHECK_S = 1.0     # how often the child looks whether its parent is still there
ORPHAN_GRACE_S = 30.0    # an orphaned child whose job has not stopped by then exits anyway


def resolve(name: str) -> Callable:
    """The function named ``"package.module:function"``.

    Raises:
        ValueError: the name has no ``:``.
        ImportError, AttributeError: no such module or function.
    """
    module_name, sep, attribute = name.partition(":")
    if not sep:
        raise ValueError(f"a job function is named 'module:function', not {name!r}")
    return getattr(importlib.import_module(module_name), attribute)


def one_line(text: str) -> str:
    """``text`` on one line: its lines joined with "; ", blank ones dropped."""
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


class ChildControl:
    """What a job in the child gets, with the same contract as :class:`gui.jobs.worker.JobControl`.

    Args:
        send: sends one message tuple to the parent.
        stop_requested: True once the parent asked the job to stop.
    """

    def __init__(self, send: Callable[[tuple], None], stop_requested: Callable[[], bool]) -> None:
        self._send = send
        self._stop_requested = stop_requested

    def __call__(self, done: int, total: int) -> bool:
        """Report (done, total). Returns True once cancel was asked (the library's ``on_step`` contract)."""
        self._send(("progress", int(done), int(total)))
        return self._stop_requested()

    def report(self, payload: object) -> None:
        """Pass any progress payload (e.g. a trainer event dict) to the parent."""
        self._send(("report", payload))

    def should_stop(self) -> bool:
        """True once cancel was asked (or the parent is gone)."""
        return self._stop_requested()


def _watch_parent(orphaned: threading.Event) -> None:
    """Set ``orphaned`` when the parent process is gone; exit the process if the job ignores it for long."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    orphaned.set()
    time.sleep(ORPHAN_GRACE_S)
    os._exit(3)


def child_main(target: str, args: tuple, connection: Connection, stop_event: Any, label: str,
               describe_error: str) -> None:
    """Run the job ``target(control, *args)`` and send how it went to the parent (see the module docstring).

    Args:
        target: the job function's name, ``"module:function"``; it runs in this (child) process.
        args: its arguments after the control (they came pickled from the parent).
        connection: the write end of the pipe to the parent.
        stop_event: a multiprocessing Event the parent sets to ask the job to stop.
        label: the job's name for messages ("Training").
        describe_error: the name of a function ``(error, label) -> message`` for the job's exceptions.
    """
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    orphaned = threading.Event()
    threading.Thread(target=_watch_parent, args=(orphaned,), name="parent-watch", daemon=True).start()
    lock = threading.Lock()

    def send(message: tuple) -> None:
        with lock:
            connection.send(message)

    control = ChildControl(send, lambda: stop_event.is_set() or orphaned.is_set())
    try:
        try:
            result = resolve(target)(control, *args)
        except Exception as error:  # every error becomes a message for the parent
            send(("error", _describe(describe_error, error, label)))
        else:
            send(("result", result))
    except (BrokenPipeError, EOFError, OSError):
        pass  # the parent is gone: nobody to tell
    finally:
        connection.close()


def _describe(describe_error: str, error: Exception, label: str) -> str:
    """The one-line message for ``error``; a message even when describing it fails."""
    try:
        return one_line(resolve(describe_error)(error, label))
    except Exception as failure:  # noqa: BLE001 (the message must come back whatever happens)
        return one_line(f"{label} failed: {type(error).__name__}: {error} ({failure})")
