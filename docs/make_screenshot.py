"""Regenerate docs/screenshot.png: the real window after generating variations with the shipped model.

Run from the repository root (no screen needed):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshot.py [--out docs/screenshot.png]

It opens a real folk tune from midi_data/ as the seed (its first four bars), generates 8 variations of
8 bars that continue it with the shipped melody model (fixed seed, so the picture is repeatable), selects
one to preview, and grabs the window at 1400x900. When a 4-part harmony model is shipped
(midi_data/models/chorale.pt), it then uses that variation, harmonizes it and grabs
docs/screenshot_harmony.png as well. Settings and autosaves go to a temporary folder.
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

SEED_TUNE = REPO / "midi_data" / "folk_melodies" / "oneills1850" / "oneills1850_0101.mid"


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
    window.open_file(tune)
    piece = window.document.piece
    window.document.apply(piece.replace(notes=tuple(n for n in piece.notes if n.end <= 4 * piece.ticks_per_bar)),
                          "Keep the first four bars")
    panel = window.panel
    panel.count_spin.setValue(8)
    panel.bars_spin.setValue(8)
    panel.temperature_spin.setValue(0.9)
    panel.continue_check.setChecked(True)
    panel.random_seed_check.setChecked(False)
    panel.seed_spin.setValue(2024)
    if not window.generate() or wait_for_job(window) != "succeeded":
        print(f"generation failed: {window.last_message}", file=sys.stderr)
        return 1
    panel.results.setCurrentRow(2)
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
    window.panel.count_spin.setValue(4)
    if not window.harmonize() or wait_for_job(window) != "succeeded":
        print(f"harmonization failed: {window.last_message}", file=sys.stderr)
        return False
    window.panel.results.setCurrentRow(0)
    for _ in range(5):
        app.processEvents()
    return window.grab().save(str(out))


if __name__ == "__main__":
    sys.exit(main())
