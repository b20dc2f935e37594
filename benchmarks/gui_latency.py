"""GUI latency benchmark: the longest stall of the window's GUI thread while a job runs (a benchmark, not a test).

Drives the real window (offscreen unless ``QT_QPA_PLATFORM`` says otherwise) with the shipped models through each
job, while a precise QTimer ticks every ``--tick-ms`` on the GUI thread and records the gaps between its ticks; a
stall is how much longer than one tick a gap was. It prints one row per job: the longest stall of each run
(median and max over the runs), how many stalls were over 50 ms and over 100 ms in all, the most CPU time the
GUI thread itself spent within one gap ("busy": work done on the GUI thread, as opposed to a gap in which it
waited, for the CPU on a loaded machine or for the interpreter lock held by another thread), and the job's time.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [--jobs generate,export,...] [--runs N]
        [--count 16] [--bars 32] [--harmony-count 4] [--chorale-bars 8] [--play-seconds 10]
        [--play-output machine|take] [--train-files 60] [--train-epochs 2] [--recipe small] [--tick-ms 5]

- generate: ``--count`` variations of ``--bars`` bars with the shipped melody model, until the results list is
  filled and labelled (the model is loaded by the first run).
- export: Export WAV of the first variation (``--bars`` at its tempo) made the piece.
- harmonize: a one-voice folk tune (84 notes, 32 s) opened and harmonized in four parts, ``--harmony-count``
  results, with the shipped chorale model (loaded by the first run of a harmony job).
- regenerate: a Bach chorale (4 parts, 15 bars, 30 s) opened, the alto and tenor notes of bars 5-8 selected and
  their boxes ticked, and the region regenerated (``--harmony-count`` results).
- chorale: New chorale, ``--harmony-count`` chorales of ``--chorale-bars`` bars.
- playback: the same chorale played from its start (the Play action, as Space) for ``--play-seconds``, then
  stopped, through the window's real Player: with ``--play-output machine`` as the app plays on this machine
  (with no audio device, as on a headless machine, the playhead moves silently on a timer and nothing is
  rendered); with ``take``, a stand-in sound card that takes the WAV file the Player renders on its thread and
  plays it on the wall clock, so the render and the playhead following the output are measured without a device.
- train: the training dialog's Small recipe (``--recipe tiny``: Tiny) for ``--train-epochs`` epochs on
  ``--train-files`` folk tunes, from pressing Start to the model file written.

A harmony job that does not start (the window refuses it) or does not succeed stops the script: a refused job
is not a run without stalls. The script only uses the window's public entry points (``generate``,
``export_wav_to``, ``open_file``, the roll's ``select``, ``harmonize``, ``regenerate_selection``,
``new_chorale``, the Play action, the training dialog's ``start``), so the same file measures an older checkout
too: run it from that checkout's folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STALL_MS = (50, 100)
JOB_TIMEOUT_S = 600
JOBS = ("generate", "export", "harmonize", "regenerate", "chorale", "playback", "train")
MELODY = REPO / "midi_data" / "folk_melodies" / "airdsAirs" / "book1_0000.mid"   # one voice, 84 notes, 32 s
CHORALE = REPO / "midi_data" / "bach_chorales_satb" / "bwv113.8.mid"            # 4 parts, 15 bars, 30 s


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


class ClockOutput:
    """A stand-in sound card (``--play-output take``): takes the WAV file the Player rendered and "plays" it on the
    wall clock (its position and end), as a device would report them."""

    def __init__(self) -> None:
        self.began: float | None = None
        self.length, self.loop = 0.0, False

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, wav_path: str, start_seconds: float, loop: bool) -> str | None:
        with wave.open(wav_path, "rb") as handle:
            self.length = handle.getnframes() / handle.getframerate()
        self.began, self.loop = time.monotonic() - start_seconds, loop
        return None

    def position(self) -> float | None:
        if self.began is None:
            return None
        seconds = time.monotonic() - self.began
        return seconds % self.length if self.loop and self.length else min(seconds, self.length)

    def finished(self) -> bool:
        return self.began is not None and not self.loop and time.monotonic() - self.began >= self.length

    def error(self) -> str | None:
        return None

    def stop(self) -> None:
        self.began = None


def make_window(folder: Path, play_output: str = "machine"):
    from gui.app import load_synthesizer
    from gui.main_window import MainWindow
    from gui.settings import settings_at

    load_synthesizer()    # as composer-gui does before its window shows

    player = None
    if play_output == "take":
        from gui.playback import Player

        player = Player(output=ClockOutput(), visual_fallback=True)
    window = MainWindow(settings=settings_at(folder / "settings.ini"), autosave_dir=folder / "autosave",
                        user_models_dir=folder / "models", preload=False, player=player)
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


def run_job(app, meter: StallMeter, window, start: Callable[[], bool]) -> Run:
    """Measure a window job from ``start()`` (an entry point that returns False when the window refuses) until it
    has ended and its results are listed.

    Raises:
        RuntimeError: the job did not start, or did not succeed.
    """
    ended: list[str] = []

    def on_end(outcome: str) -> None:
        ended.append(outcome)

    def begin() -> None:
        if not start():
            raise RuntimeError(f"the job did not start: {window.last_message}")

    window.jobFinished.connect(on_end)
    try:
        run = measure(app, meter, begin, lambda: bool(ended) and job_idle(window))
    finally:
        window.jobFinished.disconnect(on_end)
    if ended != ["succeeded"]:
        raise RuntimeError(f"the job ended {ended}: {window.last_message}")
    return run


def open_piece(app, window, path: Path) -> None:
    if not window.open_file(path):
        raise RuntimeError(f"cannot open {path}: {window.last_message}")
    settle(app)


def bench_harmonize(app, meter: StallMeter, window, args) -> Run:
    open_piece(app, window, MELODY)
    window.panel.harmony_box.count_spin.setValue(args.harmony_count)
    return run_job(app, meter, window, window.harmonize)


def bench_regenerate(app, meter: StallMeter, window, args) -> Run:
    open_piece(app, window, CHORALE)
    piece = window.document.piece
    bar = piece.ticks_per_bar
    window.canvas.select({n for n in piece.notes if n.voice in (1, 2) and 4 * bar <= n.start and n.end <= 8 * bar})
    window.panel.set_selected_voices([1, 2])   # alto and tenor ticked (the selection ticks them too)
    window.panel.harmony_box.count_spin.setValue(args.harmony_count)
    return run_job(app, meter, window, window.regenerate_selection)


def bench_chorale(app, meter: StallMeter, window, args) -> Run:
    window.panel.harmony_box.count_spin.setValue(args.harmony_count)
    window.panel.harmony_box.bars_spin.setValue(args.chorale_bars)
    return run_job(app, meter, window, window.new_chorale)


def bench_playback(app, meter: StallMeter, window, args, heard: list[tuple[bool, int]]) -> Run:
    """Play CHORALE for ``--play-seconds`` (Play, then Play again to stop); ``heard`` gets (whether audio went out,
    the bar the playhead reached)."""
    open_piece(app, window, CHORALE)
    until: list[float] = []

    def start() -> None:
        window.play_action.trigger()
        if not window.player.is_playing():
            raise RuntimeError(f"playback did not start: {window.last_message}")
        until.append(time.monotonic() + args.play_seconds)

    def done() -> bool:
        if window.player.is_playing() and time.monotonic() < until[0]:
            return False
        bar = (window.canvas.playhead or 0) // window.document.piece.ticks_per_bar + 1
        heard.append((window.player.is_audible(), bar))
        if window.play_action.isChecked():
            window.play_action.trigger()
        return True

    return measure(app, meter, start, done)


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
    return (f"| {name:<10} | {len(runs):>4} | {statistics.median(longest):>10.1f} | {max(longest):>8.1f} | "
            f"{over[0]:>7} | {over[1]:>8} | {busiest:>9.1f} | {seconds:>8.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", default=",".join(JOBS), help=f"comma-separated, of: {', '.join(JOBS)} (default all)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each job")
    parser.add_argument("--count", type=int, default=16, help="variations per generation")
    parser.add_argument("--bars", type=int, default=32, help="bars per variation")
    parser.add_argument("--harmony-count", type=int, default=4, help="results per harmonize, regenerate, chorale")
    parser.add_argument("--chorale-bars", type=int, default=8, help="bars of each new chorale")
    parser.add_argument("--play-seconds", type=float, default=10.0, help="how long each playback run plays")
    parser.add_argument("--play-output", choices=("machine", "take"), default="machine",
                        help="playback through this machine's audio (or none), or a stand-in sound card")
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
        window = make_window(folder, args.play_output)
        settle(app, 1.0)
        heard: list[tuple[bool, int]] = []
        benches = {"generate": lambda i: bench_generate(app, meter, window, args),
                   "export": lambda i: bench_export(app, meter, window, args, folder),
                   "harmonize": lambda i: bench_harmonize(app, meter, window, args),
                   "regenerate": lambda i: bench_regenerate(app, meter, window, args),
                   "chorale": lambda i: bench_chorale(app, meter, window, args),
                   "playback": lambda i: bench_playback(app, meter, window, args, heard),
                   "train": lambda i: bench_train(app, meter, window, args, folder, i)}
        jobs = [name.strip() for name in args.jobs.split(",") if name.strip()]
        for job in jobs:
            if job not in benches:
                parser.error(f"unknown job {job!r}")
        for job in jobs:
            runs = []
            for index in range(args.runs):
                runs.append(benches[job](index))
                print(f"{job} run {index + 1}: longest stall {runs[-1].longest:.1f} ms, most GUI-thread CPU in "
                      f"one gap {runs[-1].busiest:.1f} ms, {runs[-1].seconds:.2f} s", flush=True)
            rows.append(summary(job, runs))
        window.close()
    print(f"\nGUI-thread stalls (ms beyond a {args.tick_ms} ms tick), {args.runs} runs per job; "
          f"{args.count} variations x {args.bars} bars; training: {args.recipe}, {args.train_epochs} epochs, "
          f"{args.train_files} files; harmony: {args.harmony_count} results, chorales of {args.chorale_bars} bars")
    if heard:
        how = {"take": "to the stand-in sound card", "machine": "to this machine's audio device"}[args.play_output]
        how = how if all(audible for audible, _ in heard) else "silently (no audio device: the playhead on a timer)"
        print(f"playback: {args.play_seconds:g} s of {CHORALE.name} per run, played {how}; the playhead reached bar "
              f"{', '.join(str(bar) for _, bar in heard)} (of 15)")
    print(f"load average before: {load_before}, after: {load_average()}")
    print("| job        | runs | median max | max (ms) | > 50 ms | > 100 ms | busy (ms) | time (s) |")
    print("|------------|------|------------|----------|---------|----------|-----------|----------|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
