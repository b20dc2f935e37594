"""Job functions for the process-worker tests, run in a child process by name ("process_tasks:NAME"). No Qt."""

from __future__ import annotations

import os
import time


def count_up(control, total: int) -> str:
    """Report progress and a payload per step; return where it ran."""
    for done in range(1, total + 1):
        control(done, total)
        control.report({"step": done})
    return f"counted in {os.getpid()}"


def until_stopped(control) -> int:
    """Step until asked to stop; return the steps taken."""
    steps = 0
    while not control.should_stop():
        steps += 1
        control(steps, 0)
        time.sleep(0.01)
    return steps


def sleep_forever(control) -> None:
    """Ignore the stop request (a job with no safe point, like rendering)."""
    control(0, 1)
    while True:
        time.sleep(0.1)


def fail_on_two_lines(control) -> None:
    raise ValueError("the first line\nthe second line")


def fail_with_a_bug(control) -> None:
    raise KeyError("x")


def die(control, code: int) -> None:
    control(1, 2)
    os._exit(code)
