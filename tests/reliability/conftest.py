"""Fixtures of the reliability suite: real MIDI files to damage, a tally of fuzzed files, one torch thread.

The suite shares a busy 2-core machine with long training runs: PyTorch gets one thread, models are tiny,
and every example count is chosen so the whole folder runs in about a minute.
"""

from __future__ import annotations

import ctypes
import os
import random
import resource
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
FOLK = REPO / "midi_data" / "folk_melodies"

from tests.waiting import load_factor, scaled  # noqa: E402,F401  (re-exported: the tests import them from here)

_TALLY: Counter = Counter()


WATCHDOG_SECONDS = 240      # far above any test here on a quiet machine (the slowest takes ~25 s): only a hang
WATCHDOG_CPU_SECONDS = 240  # CPU of the test's process and its children: only a runaway loop uses that much
CHECK_EVERY_S = 1.0


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime (fields 14, 15)


def tree_cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds of a process and of all its live descendants, from /proc; for this process also its children
    already waited for (they leave /proc, their time joins RUSAGE_CHILDREN)."""
    pid = pid or os.getpid()
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += process_cpu_seconds(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in children.read_text().split())
            except OSError:
                continue
    if pid == os.getpid():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += usage.ru_utime + usage.ru_stime
    return total


def cpu_limit(seconds: float):
    """A ``preexec_fn`` giving a child ``seconds`` of CPU (RLIMIT_CPU): past it the kernel ends it (SIGXCPU,
    return code -24). Bounds a child's work in CPU time, which a busy machine does not stretch."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (int(seconds), int(seconds) + 5))

    return limit


class WatchdogTimeout(BaseException):
    """Raised inside a test that hangs or runs away (a BaseException, so Hypothesis does not retry). The thread
    API raises a class, not an instance: each timeout is a subclass whose ``why`` says what happened."""

    why = "stopped by the watchdog"

    def __str__(self) -> str:
        return f"{self.why}: a hang (the traceback shows where)"


def _watch(main: int, stop: threading.Event) -> None:
    """Raise WatchdogTimeout in the main thread when the test has used WATCHDOG_CPU_SECONDS of CPU (a runaway
    loop), or has run WATCHDOG_SECONDS of wall clock stretched by the highest load seen meanwhile (blocked)."""
    started, cpu_before, worst_load = time.monotonic(), tree_cpu_seconds(), 1.0
    while not stop.wait(CHECK_EVERY_S):
        worst_load = max(worst_load, load_factor())
        used, waited = tree_cpu_seconds() - cpu_before, time.monotonic() - started
        why = ""
        if used > WATCHDOG_CPU_SECONDS:
            why = f"used {used:.0f} s of CPU (the limit is {WATCHDOG_CPU_SECONDS} s)"
        elif waited > WATCHDOG_SECONDS * worst_load:
            why = f"still running after {waited:.0f} s ({WATCHDOG_SECONDS} s at load factor {worst_load:.1f})"
        if why:
            timeout = type("WatchdogTimeout", (WatchdogTimeout,), {"why": why})
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(main), ctypes.py_object(timeout))
            return


@pytest.fixture(autouse=True)
def _watchdog():
    """A hang or a runaway (the failures these tests look for) fails its test, showing where, instead of the run
    waiting forever: a watcher thread raises WatchdogTimeout in the main thread (delivered between bytecodes).
    Work is bounded in CPU time (this process and its children) and waiting in wall time stretched by the load,
    so a busy machine (load 16 on 2 cores) fails nothing a quiet one passes."""
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(threading.main_thread().ident, stop), daemon=True)
    watcher.start()
    yield
    stop.set()
    watcher.join()


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _real_files(folder: Path, pattern: str, count: int, seed: int) -> list[Path]:
    files = sorted(folder.glob(pattern))
    assert len(files) >= count, f"expected the bundled corpus in {folder} ({pattern}), found {len(files)} files"
    return sorted(random.Random(seed).sample(files, count))


@pytest.fixture(scope="session")
def real_midi() -> list[tuple[str, bytes]]:
    """(name, bytes) of 16 Bach chorales (4 tracks) and 32 folk melodies (1 track), a fixed sample."""
    chosen = _real_files(CHORALES, "*.mid", 16, seed=6) + _real_files(FOLK, "*/*.mid", 32, seed=6)
    return [(path.name, path.read_bytes()) for path in chosen]


@pytest.fixture(scope="session")
def fuzz_tally() -> Counter:
    """Counts of files fuzzed, by outcome (``piece``, ``error``) and by test; printed after the run."""
    return _TALLY


def pytest_terminal_summary(terminalreporter):
    if _TALLY["kills"]:
        terminalreporter.write_line(f"reliability kill -9: {_TALLY['kills']} kills of composer train survived")
    if _TALLY["piece"] + _TALLY["error"]:
        total = _TALLY["piece"] + _TALLY["error"]
        terminalreporter.write_line(
            f"reliability fuzz: {total} MIDI files read ({_TALLY['piece']} pieces, {_TALLY['error']} "
            f"MidiReadErrors, no other outcome); slowest read {_TALLY['slowest_ms'] / 1000:.3f} s of CPU")
