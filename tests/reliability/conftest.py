"""Fixtures of the reliability suite: real MIDI files to damage, a tally of fuzzed files, one torch thread.

The suite shares a busy 2-core machine with long training runs: PyTorch gets one thread, models are tiny,
and every example count is chosen so the whole folder runs in about a minute.
"""

from __future__ import annotations

import ctypes
import random
import threading
from collections import Counter
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
FOLK = REPO / "midi_data" / "folk_melodies"

_TALLY: Counter = Counter()


WATCHDOG_SECONDS = 240  # far above any test here (the slowest takes ~25 s): only a hang gets there


class WatchdogTimeout(BaseException):
    """Raised inside a test that runs past WATCHDOG_SECONDS (a BaseException, so Hypothesis does not retry)."""

    def __str__(self) -> str:
        return f"still running after {WATCHDOG_SECONDS} s: a hang (the traceback shows where)"


@pytest.fixture(autouse=True)
def _watchdog():
    """A hang (the failure these tests look for) fails its test, showing where it hung, instead of the
    run waiting forever: a timer raises WatchdogTimeout in the main thread (delivered between bytecodes)."""
    main = threading.main_thread().ident

    def interrupt() -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(main), ctypes.py_object(WatchdogTimeout))

    timer = threading.Timer(WATCHDOG_SECONDS, interrupt)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


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
