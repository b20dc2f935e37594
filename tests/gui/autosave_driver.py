"""Runs the real app (offscreen) for the autosave kill test. Not a test itself.

    autosave_driver.py edit SETTINGS AUTOSAVE_DIR MIDI_FILE
        Opens MIDI_FILE in the window that ``composer-gui`` builds, then keeps editing it through the undo
        stack (each edit deletes the first note). Prints ``STATE i <json piece>`` before it applies edit i,
        and ``SAVED i`` each time the autosave of state i has been written. Runs until killed.

    autosave_driver.py restore SETTINGS AUTOSAVE_DIR
        Starts the app with the same folders and prints ``OFFERED 1`` (or 0). When it offers, the app's own
        question box is answered Yes like a user would (its text is printed as ``OFFER <text>``); then it
        prints ``RESTORED <json piece>`` and ``DIRTY 1|0`` and closes cleanly.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from gui.app import build_window, parse_args  # noqa: E402
from gui.autosave import piece_to_dict  # noqa: E402
from gui.commands import with_notes_removed  # noqa: E402


def say(*parts) -> None:
    print(*parts, flush=True)


def edit(app: QApplication, settings: str, autosave_dir: str, midi_file: str) -> None:
    window = build_window(parse_args(["--settings", settings, "--autosave-dir", autosave_dir, midi_file]))
    window.ask_before_closing = False
    window.autosaver.set_delay(0)
    state = {"index": -1}
    window.autosaver.saved.connect(lambda _path: say("SAVED", state["index"]))

    def next_edit() -> None:
        piece = window.document.piece
        if len(piece.notes) < 2:
            return
        edited = with_notes_removed(piece, [piece.notes[0]])
        state["index"] += 1
        say("STATE", state["index"], json.dumps(piece_to_dict(edited)))
        window.document.apply(edited, "Delete note")

    timer = QTimer()
    timer.timeout.connect(next_edit)
    timer.start(15)
    app.exec()


def restore(app: QApplication, settings: str, autosave_dir: str) -> None:
    window = build_window(parse_args(["--settings", settings, "--autosave-dir", autosave_dir]))
    window.ask_before_closing = False
    window.show()

    def answer_yes() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            say("OFFER", box.text().replace("\n", " "))
            box.button(QMessageBox.Yes).click()
        else:
            QTimer.singleShot(50, answer_yes)

    offered = window.pending_restore is not None
    say("OFFERED", int(offered))
    if offered:
        QTimer.singleShot(50, answer_yes)
        window.offer_restore()            # the app's own question, answered Yes by the user above
        say("RESTORED", json.dumps(piece_to_dict(window.document.piece)))
        say("DIRTY", int(window.document.dirty))
    window.close()


def main() -> None:
    app = QApplication(sys.argv[:1])
    mode, *args = sys.argv[1:]
    {"edit": edit, "restore": restore}[mode](app, *args)


if __name__ == "__main__":
    main()
