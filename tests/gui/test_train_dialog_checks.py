"""Issue 16, defect 7: the training dialog's model-file field, its Resume offer and its corpus check.

- The model file is named after the MIDI folder only when the folder is browsed to or typed in full
  (editing finished), never per keystroke, and never over a model file the user chose.
- Resume is not offered for a run that finished (all epochs, or an early stop), only for an interrupted one.
- A folder with fewer than 5 validation files (by the trainer's own split of file paths) is flagged at once.

Real model files (the session's tiny model, conftest.py) and real MIDI files from ``midi_data``; no training runs.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402

from composer.core.corpus_files import count_splits, find_midi_files, split_of  # noqa: E402
from composer.core.modelfile import load_checkpoint, save_checkpoint  # noqa: E402
from gui import train_dialog  # noqa: E402
from gui.train_dialog import MIN_VALID_FILES, TrainDialog  # noqa: E402

FOLK = Path(__file__).resolve().parents[2] / "midi_data" / "folk_melodies"


def make_dialog(qtbot, models_dir: Path, folder: Path | None = None) -> TrainDialog:
    dialog = TrainDialog(default_folder=str(folder) if folder else None, models_dir=str(models_dir))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def corpus_with_validation_files(root: Path, valid: int, train: int) -> Path:
    """A folder of real folk tunes named so that exactly ``valid`` of them fall in the validation split."""
    root.mkdir()
    sources = find_midi_files(FOLK)
    wanted = {"valid": valid, "train": train}
    index = 0
    while any(wanted.values()):
        name = f"tune_{index:04d}.mid"
        split = split_of(name, 0.1, 0.05)
        if wanted.get(split):
            shutil.copyfile(sources[index % len(sources)], root / name)
            wanted[split] -= 1
        index += 1
    return root


# -- the model-file field ----------------------------------------------------------------------------------
def test_typing_the_folder_does_not_fill_the_model_file_until_editing_finishes(qtbot, tmp_path):
    corpus = tmp_path / "my_tunes"
    corpus.mkdir()
    dialog = make_dialog(qtbot, tmp_path / "models")
    qtbot.keyClicks(dialog.folder_edit, str(corpus)[:-3])  # half typed: "/.../my_tu"
    assert dialog.output_edit.text() == ""
    qtbot.keyClicks(dialog.folder_edit, str(corpus)[-3:])
    assert dialog.output_edit.text() == ""                 # still typing: no name yet
    dialog.folder_edit.editingFinished.emit()              # Enter, or leaving the field
    assert dialog.output_edit.text() == str(tmp_path / "models" / "my_tunes.pt")


def test_a_model_file_the_user_typed_is_kept_and_an_emptied_one_is_named_again(qtbot, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    dialog = make_dialog(qtbot, tmp_path / "models", first)
    assert dialog.output_edit.text() == str(tmp_path / "models" / "first.pt")
    dialog.output_edit.clear()
    qtbot.keyClicks(dialog.output_edit, "mine")
    dialog.set_folder(second)                                # browsing to another folder
    assert dialog.output_edit.text() == "mine"
    assert dialog.output_path() == str(tmp_path / "models" / "mine.pt")  # a bare name goes in the models folder
    qtbot.keyClick(dialog.output_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog.output_edit, Qt.Key.Key_Backspace)
    assert dialog.output_edit.text() == ""
    dialog.set_folder(first)
    assert dialog.output_edit.text() == str(tmp_path / "models" / "first.pt")


def test_a_folder_that_does_not_exist_names_no_model_file(qtbot, tmp_path):
    dialog = make_dialog(qtbot, tmp_path / "models")
    dialog.folder_edit.setText(str(tmp_path / "no such folder"))
    dialog.folder_edit.editingFinished.emit()
    assert dialog.output_edit.text() == "" and "is not a folder" in dialog.corpus_label.text()


# -- Resume ------------------------------------------------------------------------------------------------
def test_resume_is_offered_only_for_a_run_that_did_not_finish(qtbot, tmp_path, tiny_melody_model):
    dialog = make_dialog(qtbot, tmp_path)
    finished = tmp_path / "finished.pt"
    shutil.copyfile(tiny_melody_model.path, finished)       # all its 2 epochs done
    dialog.set_output(finished)
    assert not dialog.resume_check.isEnabled() and "its run has finished" in dialog.resume_check.text()
    assert "2 of 2" not in dialog.resume_check.text()

    checkpoint = load_checkpoint(finished)
    checkpoint["epoch"], checkpoint["recipe"]["config"]["epochs"] = 1, 8
    checkpoint["recipe"]["stop_reason"] = "early stop: no better validation loss in 5 epochs"
    early = tmp_path / "early.pt"
    save_checkpoint(checkpoint, early)
    dialog.set_output(early)
    assert not dialog.resume_check.isEnabled()

    del checkpoint["recipe"]["stop_reason"]                # what a cancelled run leaves
    interrupted = tmp_path / "interrupted.pt"
    save_checkpoint(checkpoint, interrupted)
    dialog.set_output(interrupted)
    assert dialog.resume_check.isEnabled() and "1 of 8 epochs done" in dialog.resume_check.text()


# -- the corpus check --------------------------------------------------------------------------------------
def test_a_one_file_validation_set_is_flagged_when_the_folder_is_chosen(qtbot, tmp_path):
    small = corpus_with_validation_files(tmp_path / "small", valid=1, train=20)
    dialog = make_dialog(qtbot, tmp_path / "models", small)
    text = dialog.corpus_label.text()
    assert dialog.corpus_label.isVisible() and dialog.corpus_label.styleSheet() == train_dialog.WARNING_STYLE
    assert "21 MIDI files, only 1 of them for validation" in text and f"fewer than {MIN_VALID_FILES}" in text

    dialog.set_folder(FOLK)
    counts = Counter(split_of(p.relative_to(FOLK).as_posix(), 0.1, 0.05) for p in find_midi_files(FOLK))
    assert dialog.corpus_label.text() == (f"{sum(counts.values())} MIDI files, {counts['valid']} of them for "
                                          "validation.")
    assert dialog.corpus_label.styleSheet() == ""


def test_an_empty_folder_is_flagged_and_counting_is_bounded(qtbot, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no music here")
    dialog = make_dialog(qtbot, tmp_path / "models", empty)
    assert "No MIDI files" in dialog.corpus_label.text()
    assert count_splits(FOLK, 0.1, 0.05, limit=10) is None
    assert count_splits(empty, 0.1, 0.05) == {"train": 0, "valid": 0, "test": 0}
