"""Regenerate docs/screenshot.png: the real window after generating variations with the shipped model.

Run from the repository root (no screen needed):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshot.py [--out docs/screenshot.png]

It opens a real folk tune from midi_data/ as the seed (File > Open Example's "Soldier's Joy", its first four
bars), generates 8 variations of 8 bars that continue it with the shipped melody model (fixed seed, so the picture
is repeatable), pins one result and previews it, and grabs the window at 1400x900. When a 4-part harmony model
is shipped (midi_data/models/chorale.pt), it then uses the previewed variation, harmonizes it (4 results, with the
Harmony group's own fixed seed) and grabs docs/screenshot_harmony.png as well. Settings and autosaves go to a
temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEventLoop, QStandardPaths, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SEED_TUNE = REPO / "midi_data" / "folk_melodies" / "ryansMammoth" / "SoldiersJoy_0000.mid"
SEED = 2024   # the melody panel's and the Harmony group's seed


def first_bars_end(piece, count: int) -> int:
    """The tick where the piece's first ``count`` whole bars end (a pickup, a short opening bar, is not counted)."""
    from gui.roll_grid import bar_lines

    bars = [tick for tick, is_bar, _number in bar_lines(piece, piece.end + 1) if is_bar] + [piece.end]
    signatures, beat = piece.time_signatures, piece.ticks_per_beat
    pickup = len(signatures) > 1 and len(bars) > 1 and signatures[1].tick == bars[1] \
        and signatures[0].ticks_per_bar(beat) < signatures[1].ticks_per_bar(beat)
    return bars[min(count + pickup, len(bars) - 1)]


def wait_for_job(window, timeout_ms: int = 120_000) -> str:
    loop = QEventLoop()
    outcome = {"result": "timeout"}

    def finished(result: str) -> None:
        outcome["result"] = result
        loop.quit()

    window.jobFinished.connect(finished)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return outcome["result"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"))
    parser.add_argument("--models", default=str(REPO / "midi_data" / "models"),
                        help="folder of model files (default: the shipped ones)")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    QStandardPaths.setTestModeEnabled(True)
    from gui.main_window import MainWindow
    from gui.settings import settings_at

    private = Path(tempfile.mkdtemp(prefix="composer-screenshot-"))
    window = MainWindow(settings=settings_at(private / "settings.ini"), autosave_dir=private / "autosave",
                        model_folders=[Path(args.models)], user_models_dir=private / "models", preload=False)
    window.ask_before_closing = False
    window.resize(1400, 900)
    window.show()
    tune = SEED_TUNE if SEED_TUNE.is_file() else sorted((REPO / "midi_data" / "folk_melodies").rglob("*.mid"))[0]
    window.examples.open_example(tune, "Soldier's Joy" if tune == SEED_TUNE else None)   # an untitled copy
    piece = window.document.piece
    four = first_bars_end(piece, 4)
    window.document.apply(piece.replace(notes=tuple(n for n in piece.notes if n.end <= four)),
                          "Keep the first four bars")
    panel = window.panel
    panel.count_spin.setValue(8)
    panel.bars_spin.setValue(8)
    panel.temperature_spin.setValue(0.9)
    panel.continue_check.setChecked(True)
    panel.random_seed_check.setChecked(False)
    panel.seed_spin.setValue(SEED)
    if not window.generate() or wait_for_job(window) != "succeeded":
        print(f"generation failed: {window.last_message}", file=sys.stderr)
        return 1
    panel.results.set_pinned([2])          # the history: Variation 3 pinned on top (with its mark), previewed
    panel.results.setCurrentRow(0)
    panel.results.scrollToTop()
    window.piano_roll.horizontalScrollBar().setValue(0)
    for _ in range(5):
        app.processEvents()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"cannot write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({window.width()}x{window.height()}); {window.last_message}")
    if window.panel.harmony_model_path():
        harmony_out = out.with_name(out.stem + "_harmony" + out.suffix)
        if not harmonize_and_grab(window, app, harmony_out):
            return 1
        print(f"wrote {harmony_out}; {window.last_message}")
    window.close()
    return 0


def harmonize_and_grab(window, app, out: Path) -> bool:
    """Use the previewed variation, harmonize it in four parts, preview the first result, grab the window."""
    window.use_selected_variation()
    harmony = window.panel.harmony_box     # the Harmony group's own count and seed (not the melody panel's)
    harmony.count_spin.setValue(4)
    harmony.random_seed_check.setChecked(False)
    harmony.seed_spin.setValue(SEED)
    if not window.harmonize() or wait_for_job(window) != "succeeded":
        print(f"harmonization failed: {window.last_message}", file=sys.stderr)
        return False
    window.panel.results.setCurrentRow(window.panel.results.newest_row())
    window.panel.results.scrollToTop()
    for _ in range(5):
        app.processEvents()
    return window.grab().save(str(out))


if __name__ == "__main__":
    sys.exit(main())
