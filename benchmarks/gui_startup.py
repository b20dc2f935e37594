"""GUI start-up benchmark: how long ``composer-gui`` takes to show its window, and to have its models ready
(a benchmark, not a test).

Launches the real app in a fresh interpreter (private settings, autosave and temporary folders; ``--no-restore``),
``--runs`` times, and prints per run and as medians:

- shown: from starting the process to the main window being shown (the first turn of the event loop after
  ``window.show()``: menus, roll and the empty document are usable from then on);
- ready: from starting the process to the model pickers being filled and the selected melody model loaded (the
  first Generate starts at once);
- torch on GUI thread: whether the GUI (main) thread had started importing PyTorch when the window was shown (the
  model loader's thread importing it meanwhile does not count: it does not hold up the window).

    python benchmarks/gui_startup.py [--runs 5] [MIDI_FILE]      # offscreen
    xvfb-run -a python benchmarks/gui_startup.py                 # a real X11 display (Xvfb)

The app runs offscreen unless ``QT_QPA_PLATFORM`` says otherwise or there is a display (``DISPLAY`` or
``WAYLAND_DISPLAY``); on a display, start-up includes ``composer-gui``'s check that Qt can open windows there (a
child process) and the window system's round trips.

The child drives ``gui.app.main`` unchanged: a small script around it notes when the window's ``show`` returns and
polls (every 10 ms, on the GUI thread) for the models, through the window's public parts, so the same file measures
an older checkout too (run it from that checkout's folder). The first run pays for a cold disk cache; the median
does not show that cost, the max does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300

CHILD = textwrap.dedent("""
    import sys, threading, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMainWindow

    importers = []

    class TorchSpy:   # notes which thread imports torch (first), and imports nothing itself
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                importers.append(threading.current_thread() is threading.main_thread())
            return None

    sys.meta_path.insert(0, TorchSpy())

    def mark(name, **extra):
        print("MARK", name, repr(time.time()), *(f"{k}={v}" for k, v in extra.items()), flush=True)

    def models_ready(window):
        picker = window.models
        ready = getattr(picker, "ready", None)       # the background loader (gui.model_loader)
        if ready is not None:
            return bool(ready)
        # an older checkout: the pickers are filled before show; ready once the preloaded melody model is in
        return bool(window.panel.model_path()) and bool(getattr(window.store, "_melody", {}))

    real_show = QMainWindow.show
    watched = []

    def spy_show(self):
        real_show(self)
        if watched:
            return
        watched.append(self)
        torch = any(importers)
        QTimer.singleShot(0, lambda: mark("window-shown", torch=torch))

        def poll():
            if models_ready(self):
                mark("models-ready")
                self.ask_before_closing = False
                self.close()
            else:
                QTimer.singleShot(10, poll)

        QTimer.singleShot(0, poll)

    QMainWindow.show = spy_show
    from gui import app
    sys.exit(app.main(sys.argv[1:]))
""")


def one_run(extra: list[str]) -> dict:
    """Launch the app once; the seconds from launch to each mark, and whether torch was in before show."""
    with tempfile.TemporaryDirectory(prefix="composer_startup_") as folder:
        base = Path(folder)
        env = dict(os.environ, TMPDIR=str(base), PYTHONPATH=str(REPO))
        if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        argv = [sys.executable, "-c", CHILD, "--settings", str(base / "s.ini"), "--autosave-dir",
                str(base / "autosave"), "--no-restore", *extra]
        start = time.time()
        done = subprocess.run(argv, check=False, cwd=base, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        ended = time.time() - start
    marks: dict = {"exit": ended}
    for line in done.stdout.splitlines():
        if line.startswith("MARK "):
            _, name, stamp, *rest = line.split()
            marks[name] = float(stamp) - start
            for item in rest:
                key, value = item.split("=", 1)
                marks[key] = value == "True"
    if "models-ready" not in marks:
        raise SystemExit(f"the app did not get ready (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return marks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("midi_file", nargs="?", help="a MIDI file to open at start-up")
    args = parser.parse_args(argv)
    extra = [str(Path(args.midi_file).resolve())] if args.midi_file else []
    runs = []
    print(f"{'run':>4} {'shown s':>8} {'ready s':>8} {'torch on GUI thread':>20}")
    for number in range(1, args.runs + 1):
        marks = one_run(extra)
        runs.append(marks)
        print(f"{number:>4} {marks['window-shown']:8.2f} {marks['models-ready']:8.2f} {marks['torch']!s:>20}",
              flush=True)
    shown = [m["window-shown"] for m in runs]
    ready = [m["models-ready"] for m in runs]
    print(f"median shown {statistics.median(shown):.2f} s (max {max(shown):.2f}), "
          f"median ready {statistics.median(ready):.2f} s (max {max(ready):.2f}), {len(runs)} runs, "
          f"{os.environ.get('QT_QPA_PLATFORM') or ('xcb' if os.environ.get('DISPLAY') else 'offscreen')}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
