"""The training dialog (gui/train_dialog.py) and its live plot (gui/loss_plot.py), driven like a user would.

Real training runs: a tiny recipe (hidden size 16) on ten real folk tunes from ``midi_data/folk_melodies``
plus one corrupt file, through the dialog's buttons, on the trainer's worker thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from composer.melody.model import load_melody_model
from composer.core.modelfile import load_checkpoint  # noqa: E402
from composer.core.corpus_files import find_midi_files
from gui import train_dialog  # noqa: E402
from gui.loss_plot import TRAIN_COLOR, VALID_COLOR, LossPlot  # noqa: E402
from gui.train_dialog import TrainDialog  # noqa: E402

FOLK = Path(__file__).resolve().parents[2] / "midi_data" / "folk_melodies"
RUN_TIMEOUT_MS = 90_000  # a tiny run takes a few seconds; a busy shared machine may take far longer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Ten real folk tunes spread over the bundled collections, and one corrupt file."""
    folder = tmp_path_factory.mktemp("tunes")
    files = find_midi_files(FOLK)
    for path in files[:: len(files) // 10][:10]:
        shutil.copyfile(path, folder / path.name)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06 this is not music")
    return folder


def tiny_dialog(qtbot, corpus: Path, models_dir: Path) -> TrainDialog:
    dialog = TrainDialog(default_folder=str(corpus), models_dir=str(models_dir))
    qtbot.addWidget(dialog)
    dialog.preset_combo.setCurrentIndex(list(train_dialog.PRESETS).index("Tiny (a quick test, seconds)"))
    dialog.epochs_spin.setValue(2)
    return dialog


def test_a_tiny_run_trains_a_model_that_loads(qtbot, corpus, tmp_path):
    dialog = tiny_dialog(qtbot, corpus, tmp_path)
    assert dialog.output_edit.text() == str(tmp_path / f"{corpus.name}.pt")
    assert dialog.threads_spin.value() == 1 and not dialog.resume_check.isEnabled()
    chosen: list[str] = []
    dialog.folderChosen.connect(chosen.append)
    with qtbot.waitSignal(dialog.modelTrained, timeout=RUN_TIMEOUT_MS) as trained:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.is_running() and not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=RUN_TIMEOUT_MS)
    path = trained.args[0]
    assert path == dialog.output_edit.text() and chosen == [str(corpus)]
    checkpoint = load_melody_model(path).checkpoint
    assert checkpoint["epoch"] == 2 and checkpoint["recipe"]["config"]["model"]["hidden_size"] == 16
    assert checkpoint["recipe"]["data"]["skipped"] == 1
    assert len(dialog.plot.train_points) == 2 and len(dialog.plot.valid_points) == 2
    assert len(dialog.plot.step_points) >= 2 and "valid ppl" in dialog.plot.readout()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    log = dialog.log_view.toPlainText()
    assert "skipped broken.mid" in log and "epoch 2: train loss" in log
    assert "Done" in dialog.status_label.text() and dialog.last_error == ""
    assert dialog.start_button.isEnabled() and not dialog.resume_check.isEnabled()  # finished: nothing to resume
    assert "its run has finished" in dialog.resume_check.text()


def test_cancel_leaves_a_loadable_model_and_resume_continues_it(qtbot, corpus, tmp_path):
    dialog = tiny_dialog(qtbot, corpus, tmp_path)
    out = tmp_path / "resumable.pt"
    dialog.set_output(out)
    assert dialog.start()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)  # the trainer stops after its first step
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=RUN_TIMEOUT_MS)
    assert "Stopped after 0 finished epochs" in dialog.status_label.text()
    load_melody_model(out)  # loadable as it is
    interrupted = load_checkpoint(out)
    assert interrupted["epoch"] == 0 and interrupted["resume"]["step"] == 1
    assert len(dialog.plot.step_points) == 1 and not dialog.plot.train_points
    assert dialog.resume_check.isEnabled() and "0 of 2 epochs done" in dialog.resume_check.text()

    dialog.resume_check.setChecked(True)
    assert not dialog.epochs_spin.isEnabled()  # resume uses the file's own recipe
    with qtbot.waitSignal(dialog.modelTrained, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=RUN_TIMEOUT_MS)
    resumed = load_checkpoint(out)
    history = resumed["history"]
    assert resumed["epoch"] == 2 and [row["epoch"] for row in history] == [1, 2]
    batches = history[1]["step"] - history[0]["step"]
    assert history[0]["step"] == 1 + batches  # the step counter went on from the interrupted step
    load_melody_model(out)


def test_closing_during_a_run_stops_it_then_closes(qtbot, corpus, tmp_path):
    dialog = tiny_dialog(qtbot, corpus, tmp_path)
    dialog.set_output(tmp_path / "closed.pt")
    dialog.show()
    assert dialog.start()
    dialog.close()
    assert dialog.isVisible() and dialog.is_running()  # still stopping
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert not dialog.is_running() and "resume" in load_checkpoint(tmp_path / "closed.pt")


def test_quitting_the_app_stops_a_run_and_waits_for_it(qtbot, corpus, tmp_path):
    dialog = tiny_dialog(qtbot, corpus, tmp_path)
    dialog.set_output(tmp_path / "quit.pt")
    assert dialog.start()
    worker = dialog._worker
    assert dialog.stop_and_wait()  # what aboutToQuit calls
    assert worker.is_finished() and "resume" in load_checkpoint(tmp_path / "quit.pt")
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=RUN_TIMEOUT_MS)


def test_an_empty_folder_is_an_error_in_the_dialog(qtbot, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    dialog = tiny_dialog(qtbot, empty, tmp_path)
    trained: list[str] = []
    dialog.modelTrained.connect(trained.append)
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=RUN_TIMEOUT_MS)
    assert "MIDI" in dialog.last_error and dialog.last_error in dialog.status_label.text()
    assert trained == [] and dialog.start_button.isEnabled()


def test_bad_choices_are_refused_before_starting(qtbot, corpus, tmp_path, monkeypatch):
    dialog = tiny_dialog(qtbot, tmp_path / "missing", tmp_path)
    assert not dialog.start() and "is not a folder" in dialog.last_error
    dialog.set_folder(corpus)
    dialog.set_output("")
    assert not dialog.start() and "model file" in dialog.last_error
    existing = tmp_path / "existing.pt"
    existing.write_bytes(b"not a model")
    dialog.set_output(existing)
    assert not dialog.resume_check.isEnabled()  # nothing to resume in it
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.No)
    assert not dialog.start() and "Choose another model file" in dialog.last_error
    assert not dialog.is_running() and existing.read_bytes() == b"not a model"


def test_presets_and_the_default_recipe():
    default = train_dialog.default_recipe()
    assert default.model["hidden_size"] == 192 and default.encoding["key_tokens"]  # midi_data/models/melody.json
    assert train_dialog.TINY.model["hidden_size"] == 16


# -- the plot ---------------------------------------------------------------------------------------------
def test_loss_plot_keeps_points_and_paints_them(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 240)
    assert plot.readout() == ""
    plot.add_step(1, 5, 10, 4.0)
    plot.add_step(1, 10, 10, 3.5)
    plot.add_epoch(1, 3.5, 3.7)
    plot.add_step(2, 10, 10, float("nan"))  # a diverged step is not plotted
    assert plot.step_points == [(0.5, 4.0), (1.0, 3.5)]
    assert plot.train_points == [(1.0, 3.5)] and plot.valid_points == [(1.0, 3.7)]
    assert plot.readout() == "train ppl 33.12   valid ppl 40.45 (best 40.45)"
    plot.load_history([{"epoch": 1, "train_loss": 3.0, "valid_loss": 3.2},
                       {"epoch": 2, "train_loss": 2.5, "valid_loss": 2.9}])
    assert plot.step_points == [] and len(plot.valid_points) == 2
    image = plot.grab().toImage()
    colors = {image.pixelColor(x, y).rgb() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    assert TRAIN_COLOR.rgb() in colors and VALID_COLOR.rgb() in colors
    plot.clear()
    assert not plot.train_points and plot.readout() == ""
