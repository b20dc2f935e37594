"""``composer-gui``: open Composer's window, or, on a machine without a screen, say so and do the main job
with the command line instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")
CLI_OUT = "generated"
OPENING = "Opening the window..."   # the splash's last line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="composer-gui", description="Composer's desktop app.")
    parser.add_argument("midi_file", nargs="?", help="a MIDI file to open")
    parser.add_argument("--settings", help="keep settings in this INI file instead of the user's settings")
    parser.add_argument("--autosave-dir", help="folder for autosaves (default: the app-data folder)")
    parser.add_argument("--model", action="append", default=[], help="another model file to offer (repeatable)")
    parser.add_argument("--no-restore", action="store_true", help="do not offer to restore an autosave")
    return parser.parse_args(argv)


def _headless_platform() -> bool:
    """QT_QPA_PLATFORM names a platform that needs no screen (offscreen, vnc...)."""
    return os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower() in HEADLESS_PLATFORMS


def has_display() -> tuple[bool, str]:
    """Whether a window can be shown here, and why not.

    On Linux a window needs an X11 or Wayland display, unless ``QT_QPA_PLATFORM`` names a platform that
    needs none (offscreen, vnc...). macOS and Windows always have one.
    """
    if not sys.platform.startswith("linux"):
        return True, ""
    if _headless_platform():
        return True, ""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return True, ""
    return False, "there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set)"


def qt_can_open_windows() -> tuple[bool, str]:
    """Try to start Qt's window system in a child process (a failing platform plugin aborts the process).

    On Linux, a display may be set while Qt still cannot use it: the X server is gone, or libraries the
    xcb plugin needs (libxcb-cursor0, libxcb-icccm4, ...) are not installed. Qt then aborts, which no
    Python code can catch, so the check runs in a child.

    Returns:
        (True, "") when a QApplication starts; else (False, Qt's own explanation).
    """
    code = "import sys\nfrom PySide6.QtWidgets import QApplication\nQApplication(sys.argv[:1])\n"
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return True, ""  # cannot tell: let the real start say
    if result.returncode == 0:
        return True, ""
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip() and "Traceback" not in line]
    useful = [line for line in lines if "plugin" in line.lower() or "display" in line.lower()
              or "needed" in line.lower() or "error" in line.lower()] or lines
    return False, "Qt cannot open a window on this display (" + " ".join(useful[:4])[:600] + ")"


def fresh_folder(base: str | Path) -> Path:
    """``base`` if it does not exist or is an empty folder, else the first of ``base_2``, ``base_3``... that is
    (an earlier run's melodies are never written over)."""
    base = Path(base)
    candidate, number = base, 1
    while candidate.exists() and not (candidate.is_dir() and not any(candidate.iterdir())):
        number += 1
        candidate = base.with_name(f"{base.name}_{number}")
    return candidate


def run_without_display(reason: str, out: str | Path = CLI_OUT) -> int:
    """Explain that no window can open, then generate melodies with the command line instead, into a fresh
    folder (``generated``, else ``generated_2``...)."""
    from composer.cli.main import main as cli_main

    out = fresh_folder(out)

    print(f"composer-gui: cannot open the window: {reason}.\n"
          "Composer's command line does the same work without a screen. Doing its main job now:\n"
          f"  composer generate --out {out} --count 8 --bars 16\n", flush=True)
    if "xcb" in reason:
        print("(On Debian or Ubuntu, Qt's X11 support needs: sudo apt-get install libxcb-cursor0 libxcb-icccm4 "
              "libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0)\n", flush=True)
    code = cli_main(["generate", "--out", str(out), "--count", "8", "--bars", "16"])
    if code not in (0, None):
        return int(code)
    print(f"\nThe melodies are in {out.resolve()} (variation_01.mid ... and manifest.json).\n"
          "More with the command line:\n"
          "  composer generate --help        all the generation options (key, temperature, primer, seed...)\n"
          "  composer train FOLDER --out my_model.pt    train on your own MIDI files\n"
          "  composer info MODEL.pt          a model's recipe and scores\n"
          "To use the desktop app, run composer-gui on a machine with a screen (or over X forwarding, or\n"
          "under Xvfb: xvfb-run composer-gui).")
    return 0


def build_window(args: argparse.Namespace):
    """The main window for ``args`` (a QApplication must exist).

    The model files are read on a background thread (:mod:`gui.model_loader`): the window can show at once, and its
    model pickers fill when they are read (``window.models.modelsReady``). The ``--model`` files are added then (a
    file that cannot be used gets its message box then).
    """
    from PySide6.QtCore import Qt

    from gui.main_window import MainWindow
    from gui.settings import settings_at

    settings = settings_at(args.settings) if args.settings else None
    window = MainWindow(settings=settings, autosave_dir=args.autosave_dir, background_models=True)
    if args.model:
        def add_models() -> None:
            for model in args.model:
                window.add_model(model)

        window.models.modelsReady.connect(add_models, Qt.ConnectionType.SingleShotConnection)
    if args.midi_file:
        window.open_file(args.midi_file, "ask")
    return window


_RESTORED_WINDOWS: list = []   # windows opened for further restored pieces, kept alive while the app runs


def open_restored_window(args: argparse.Namespace, record: dict):
    """A new window (same settings and autosave folder, no file) holding an orphaned autosave's piece: the
    second and later pieces accepted at start-up, when the first window already holds one.

    Args:
        args: the app's arguments.
        record: the orphan (see :meth:`gui.recovery.CrashRecovery.restore_autosave`).

    Returns:
        The window, shown.
    """
    window = build_window(argparse.Namespace(**{**vars(args), "midi_file": None}))
    _RESTORED_WINDOWS.append(window)
    window.show()
    window.recovery.restore_autosave(record)
    return window


def prepare_session(app) -> None:
    """Temporary files for this session: remove those crashed sessions left, and this session's own when the app
    quits (:mod:`gui.session_files`).

    Args:
        app: the QApplication.
    """
    from gui.session_files import clean_stale, remove_session_dir

    clean_stale()
    app.aboutToQuit.connect(remove_session_dir)


def exit_now(code: int) -> None:
    """End the process at once, once the app has quit: run the exit handlers (child processes stopped, the
    session's temporary folder removed), flush the output, and skip the interpreter's teardown.

    Quit used to take seconds (3-7 s were reported): after the window had closed and everything was saved, the
    interpreter still waited for the model pre-loading thread (a non-daemon thread, so that a model load is never
    cut off mid-way by the interpreter's finalization, which aborts in torch) and then unloaded torch and Qt
    (1.0-1.1 s measured on the 2-core test machine). Nothing left at this point needs either: the settings are synced, the autosave is ended, the
    jobs are stopped (a training run saved) by the window's close.

    Args:
        code: the exit status.
    """
    import atexit

    atexit._run_exitfuncs()  # noqa: SLF001 the handlers registered by the app and its libraries, in order
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def load_synthesizer() -> None:
    """Load the SoundFont synthesizer's library now, before the window shows: loading it holds the interpreter
    for tens of milliseconds, which on the first Play (on the render thread) stalled the window once (54 ms,
    benchmarks/gui_latency.py). Without it the app plays through the additive synth; nothing to say here."""
    from composer.audio.soundfont import SoundFontError, fluidsynth_module

    try:
        fluidsynth_module()
    except SoundFontError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``composer-gui``; with a window, the process ends when the app quits (:func:`exit_now`)."""
    args = parse_args(argv)
    ok, reason = has_display()
    if ok and sys.platform.startswith("linux") and not _headless_platform():
        ok, reason = qt_can_open_windows()
    if not ok:
        return run_without_display(reason)
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
    except ImportError as error:  # e.g. a server without the OpenGL or X11 client libraries Qt links to
        return run_without_display(f"Qt cannot be loaded here ({error})")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Composer")
    app.setOrganizationName("Composer")
    prepare_session(app)
    from gui.splash import show_splash

    splash = show_splash()  # at once: the imports below take seconds on a cold start
    import gui.main_window  # noqa: F401 the window's code and the music libraries, while the splash says so

    load_synthesizer()
    splash.say(OPENING)
    window = build_window(args)   # the model files load in the background, after the window shows
    window.recovery.open_elsewhere = lambda record: open_restored_window(args, record)
    window.show()
    splash.finish(window)
    if not args.no_restore:
        QTimer.singleShot(0, window.offer_restore)
    code = app.exec()
    exit_now(code)
    return code  # not reached


if __name__ == "__main__":
    sys.exit(main())
