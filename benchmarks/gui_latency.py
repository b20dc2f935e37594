"""GUI latency benchmark: the longest stall of the window's GUI thread while a job runs (a benchmark, not a test).

Drives the real window (offscreen unless ``QT_QPA_PLATFORM`` says otherwise) with the shipped models through each
job, while a precise QTimer ticks every ``--tick-ms`` on the GUI thread and records the gaps between its ticks; a
stall is how much longer than one tick a gap was. It prints one row per job: the longest stall of each run
(median and max over the runs), how many stalls were over 50 ms and over 100 ms in all, the most CPU time the
GUI thread itself spent within one gap ("busy": work done on the GUI thread, as opposed to a gap in which it
waited, for the CPU on a loaded machine or for the interpreter lock held by another thread), and the job's time.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [--jobs generate,export,train] [--runs N]
        [--count 16] [--bars 32] [--train-files 60] [--train-epochs 2] [--recipe small] [--tick-ms 5]

- generate: ``--count`` variations of ``--bars`` bars with the shipped melody model, until the results list is
  filled and labelled (the model is loaded by the first run).
- export: Export WAV of the first variation (``--bars`` at its tempo) made the piece.
- train: the training dialog's Small recipe (``--recipe tiny``: Tiny) for ``--train-epochs`` epochs on
  ``--train-files`` folk tunes, from pressing Start to the model file written.

The script only uses the window's public entry points (``generate``, ``export_wav_to``, the training dialog's
``start``), so the same file measures an older checkout too: run it from that checkout's folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STALL_MS = (50, 100)
JOB_TIMEOUT_S = 600


@dataclass
class Run:
    """One run of a job: its stalls (ms over one tick, in order), the GUI thread's CPU ms in each gap, its time."""

    stalls: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def longest(self) -> float:
        return max(self.stalls, default=0.0)

    @property
    def busiest(self) -> float:
        return max(self.busy, default=0.0)


class StallMeter:
    """A precise QTimer on the GUI thread; records by how much each gap between ticks exceeded one tick.

    Args:
        tick_ms: the timer's interval.
    """

    def __init__(self, tick_ms: int) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.tick_ms = tick_ms
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self._tick)
        self.stalls: list[float] = []
        self.busy: list[float] = []
        self._last = self._last_cpu = 0.0

    def start(self) -> None:
        self.stalls, self.busy = [], []
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self.timer.start()

    def stop(self) -> tuple[list[float], list[float]]:
        """Stop ticking; the stalls and the GUI thread's CPU ms of each gap."""
        self.timer.stop()
        self._tick()
        return self.stalls, self.busy

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.stalls.append(max(0.0, (now - self._last) * 1000 - self.tick_ms))
        self.busy.append((cpu - self._last_cpu) * 1000)
        self._last, self._last_cpu = now, cpu


def spin_until(app, done: Callable[[], bool], timeout_s: float = JOB_TIMEOUT_S) -> None:
    """Run the event loop (as the app would) until ``done()``.

    Raises:
        TimeoutError: not done within ``timeout_s``.
    """
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the job did not end in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


def settle(app, seconds: float = 0.3) -> None:
    """Let the event loop run idle for a moment (pending repaints and deferred work)."""
    end = time.monotonic() + seconds
    spin_until(app, lambda: time.monotonic() > end)


def measure(app, meter: StallMeter, start: Callable[[], object], done: Callable[[], bool]) -> Run:
    """Start a job with the meter ticking, run the event loop until it is done and settled, and return the run."""
    settle(app, 0.2)
    meter.start()
    began = time.perf_counter()
    start()
    spin_until(app, done)
    seconds = time.perf_counter() - began
    settle(app, 0.3)
    stalls, busy = meter.stop()
    return Run(stalls, busy, seconds)


def make_window(folder: Path):
    from gui.main_window import MainWindow
    from gui.settings import settings_at

    window = MainWindow(settings=settings_at(folder / "settings.ini"), autosave_dir=folder / "autosave",
                        user_models_dir=folder / "models", preload=False)
    window.ask_before_closing = False
    window.show()
    return window


def job_idle(window) -> bool:
    """No job running, and the results list (when it labels items later) has finished."""
    results = window.panel.results
    pending = results.labels_pending() if hasattr(results, "labels_pending") else 0
    return window.worker is None and pending == 0


def bench_generate(app, meter: StallMeter, window, args) -> Run:
    window.panel.count_spin.setValue(args.count)
    window.panel.bars_spin.setValue(args.bars)
    return measure(app, meter, window.generate, lambda: job_idle(window))


def bench_export(app, meter: StallMeter, window, args, folder: Path) -> Run:
    if window.panel.results.count() == 0:
        bench_generate(app, meter, window, args)
    window.use_variation(0)
    settle(app)
    out = folder / "export.wav"
    out.unlink(missing_ok=True)
    return measure(app, meter, lambda: window.export_wav_to(out), lambda: job_idle(window) and out.exists())


def train_corpus(folder: Path, files: int) -> Path:
    from composer.core.corpus_files import find_midi_files

    corpus = folder / "tunes"
    corpus.mkdir(exist_ok=True)
    sources = find_midi_files(REPO / "midi_data" / "folk_melodies")
    for index, source in enumerate(sources[:: max(1, len(sources) // files)][:files]):
        shutil.copyfile(source, corpus / f"{index:04d}_{source.name}")
    return corpus


def bench_train(app, meter: StallMeter, window, args, folder: Path, index: int) -> Run:
    from gui import train_dialog

    dialog = train_dialog.TrainDialog(window, default_folder=str(train_corpus(folder, args.train_files)),
                                      models_dir=str(folder / "models"))
    labels = [label.lower() for label in train_dialog.PRESETS]
    dialog.preset_combo.setCurrentIndex(next(i for i, label in enumerate(labels) if label.startswith(args.recipe)))
    dialog.epochs_spin.setValue(args.train_epochs)
    dialog.set_output(folder / "models" / f"bench_{index}.pt")
    dialog.show()
    run = measure(app, meter, dialog.start, lambda: not dialog.is_running())
    if dialog.last_error:
        raise RuntimeError(f"training failed: {dialog.last_error}")
    dialog.close()
    dialog.deleteLater()
    return run


def load_average() -> str:
    """The machine's 1-minute load average (other work competes with the GUI thread for the CPU)."""
    try:
        return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def summary(name: str, runs: list[Run]) -> str:
    longest = [run.longest for run in runs]
    over = [sum(1 for run in runs for stall in run.stalls if stall > limit) for limit in STALL_MS]
    seconds = statistics.median(run.seconds for run in runs)
    busiest = max(run.busiest for run in runs)
    return (f"| {name:<9} | {len(runs):>4} | {statistics.median(longest):>10.1f} | {max(longest):>8.1f} | "
            f"{over[0]:>7} | {over[1]:>8} | {busiest:>9.1f} | {seconds:>8.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", default="generate,export,train", help="comma-separated: generate, export, train")
    parser.add_argument("--runs", type=int, default=3, help="runs of each job")
    parser.add_argument("--count", type=int, default=16, help="variations per generation")
    parser.add_argument("--bars", type=int, default=32, help="bars per variation")
    parser.add_argument("--train-files", type=int, default=60, help="folk tunes to train on")
    parser.add_argument("--train-epochs", type=int, default=2, help="epochs of the training recipe")
    parser.add_argument("--recipe", choices=("tiny", "small"), default="small", help="the training dialog's recipe")
    parser.add_argument("--tick-ms", type=int, default=5, help="the GUI-thread timer's interval")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    load_before = load_average()
    meter = StallMeter(args.tick_ms)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gui-latency-") as temp:
        folder = Path(temp)
        window = make_window(folder)
        settle(app, 1.0)
        for job in [name.strip() for name in args.jobs.split(",") if name.strip()]:
            runs = []
            for index in range(args.runs):
                if job == "generate":
                    runs.append(bench_generate(app, meter, window, args))
                elif job == "export":
                    runs.append(bench_export(app, meter, window, args, folder))
                elif job == "train":
                    runs.append(bench_train(app, meter, window, args, folder, index))
                else:
                    parser.error(f"unknown job {job!r}")
                print(f"{job} run {index + 1}: longest stall {runs[-1].longest:.1f} ms, most GUI-thread CPU in "
                      f"one gap {runs[-1].busiest:.1f} ms, {runs[-1].seconds:.2f} s", flush=True)
            rows.append(summary(job, runs))
        window.close()
    print(f"\nGUI-thread stalls (ms beyond a {args.tick_ms} ms tick), {args.runs} runs per job; "
          f"{args.count} variations x {args.bars} bars; training: {args.recipe}, {args.train_epochs} epochs, "
          f"{args.train_files} files")
    print(f"load average before: {load_before}, after: {load_average()}")
    print("| job       | runs | median max | max (ms) | > 50 ms | > 100 ms | busy (ms) | time (s) |")
    print("|-----------|------|------------|----------|---------|----------|-----------|----------|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
