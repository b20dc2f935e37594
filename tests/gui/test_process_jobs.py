"""Issue 16, defect 2: long work runs where it cannot stall the window.

- :class:`gui.jobs.process.ProcessWorker` runs a named job in a child process: progress, reports, result, a cancel
  the job polls, a kill for a job that cannot stop by itself, a one-line message for an error, a child that dies.
- Training from the window really trains a tiny model in a child process and writes it; Cancel stops it at a safe
  point and "Stop now" kills it, and neither ever destroys the last good model file.
- Export WAV renders through a child process into a valid WAV file; Cancel kills it and leaves nothing behind.
- The results list is filled at once and labelled with keys a few items at a time.

Real child processes, real training on real folk tunes (tiny recipe), the real synthesizer. No wall-clock asserts.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import wave  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from composer.core.corpus_files import find_midi_files  # noqa: E402
from composer.core.modelfile import load_checkpoint  # noqa: E402
from composer.melody.model import load_melody_model  # noqa: E402
from gui import train_dialog  # noqa: E402
from gui.generate_panel import Variation, VariationList, variation_label  # noqa: E402
from gui.jobs.export import partial_path  # noqa: E402
from gui.jobs.process import ProcessWorker  # noqa: E402
from gui.jobs.worker import CANCELLED, FAILED, SUCCEEDED  # noqa: E402
from tests.gui.job_wait import Recorder  # noqa: E402
from job_wait import run_job  # noqa: E402
from tests.waiting import scaled_ms

FOLK = Path(__file__).resolve().parents[2] / "midi_data" / "folk_melodies"
TIMEOUT_MS = 120_000  # a child starts a fresh interpreter; a busy shared machine may take long


def run_to_end(qtbot, worker: ProcessWorker, then=None) -> Recorder:
    """Start ``worker``, call ``then(worker)`` once it runs, and wait for ``finished``."""
    recorder = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        worker.start()
        if then is not None:
            then(worker)
    worker.dispose()
    return recorder


# -- the process worker --------------------------------------------------------------------------------------
def test_a_child_reports_progress_and_returns_its_result(qtbot):
    worker = ProcessWorker("process_tasks:count_up", (3,), "Counting")
    recorder = run_to_end(qtbot, worker)
    assert recorder.kinds() == ["progress", "report"] * 3 + ["succeeded", "finished"]
    assert recorder.events[:2] == [("progress", 1, 3), ("report", {"step": 1})]
    result = recorder.events[-2][1]
    assert result == f"counted in {worker.pid}" and worker.pid != os.getpid()  # it ran in another process
    assert worker.outcome == SUCCEEDED and worker.is_finished() and not worker.is_running()


def test_cancel_is_a_request_the_job_polls(qtbot):
    def cancel_once_running(worker: ProcessWorker) -> None:
        qtbot.waitUntil(lambda: worker.is_running(), timeout=TIMEOUT_MS)
        worker.cancel()

    worker = ProcessWorker("process_tasks:until_stopped", (), "Stepping")
    recorder = run_to_end(qtbot, worker, cancel_once_running)
    assert recorder.kinds()[-3:] == ["cancelled", "succeeded", "finished"]
    assert worker.outcome == CANCELLED and not worker.killed and isinstance(worker.result, int)


def test_a_job_that_cannot_stop_is_killed_and_cleaned_up(qtbot):
    ended = []
    worker = ProcessWorker("process_tasks:sleep_forever", (), "Sleeping", cancel_kills=True,
                           on_ended=lambda w: ended.append(w.is_finished()))
    recorder = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        worker.start()
        qtbot.waitUntil(lambda: ("progress", 0, 1) in recorder.events, timeout=TIMEOUT_MS)
        worker.cancel()
    assert worker.killed and worker.outcome == CANCELLED and ended == [True]
    assert recorder.kinds()[-2:] == ["cancelled", "finished"] and "succeeded" not in recorder.kinds()


@pytest.mark.parametrize("target, message", [
    ("process_tasks:fail_on_two_lines", "the first line; the second line"),
    ("process_tasks:fail_with_a_bug", "Failing failed: KeyError: 'x'"),
])
def test_an_error_in_the_child_arrives_as_one_line(qtbot, target, message):
    worker = ProcessWorker(target, (), "Failing")
    recorder = run_to_end(qtbot, worker)
    assert recorder.events == [("failed", message), ("finished",)]
    assert worker.outcome == FAILED and worker.error == message


def test_a_child_that_dies_is_reported(qtbot):
    worker = ProcessWorker("process_tasks:die", (7,), "Dying")
    recorder = run_to_end(qtbot, worker)
    assert recorder.kinds() == ["progress", "failed", "finished"]
    assert recorder.events[1] == ("failed", "Dying stopped unexpectedly: its process ended with exit code 7")


def test_waiting_blocks_until_the_child_ends_and_keeps_its_messages(qtbot):
    worker = ProcessWorker("process_tasks:count_up", (5,), "Counting")
    recorder = Recorder(worker)
    worker.start()
    assert worker.wait(scaled_ms(TIMEOUT_MS)) and worker.is_finished()
    qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS).wait()
    assert recorder.kinds() == ["progress", "report"] * 5 + ["succeeded", "finished"]
    worker.dispose()


# -- training from the window --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tunes(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("process_tunes")
    files = find_midi_files(FOLK)
    for path in files[:: len(files) // 10][:10]:
        shutil.copyfile(path, folder / path.name)
    return folder


def open_tiny_dialog(window, tunes: Path, out: Path):
    dialog = window.trainer.open_dialog()
    dialog.set_folder(tunes)
    dialog.preset_combo.setCurrentIndex(list(train_dialog.PRESETS).index("Tiny (a quick test, seconds)"))
    dialog.epochs_spin.setValue(2)
    dialog.set_output(out)
    return dialog


@pytest.mark.slow
def test_training_from_the_window_runs_in_a_child_and_joins_the_picker(window, qtbot, tunes, tmp_path):
    out = tmp_path / "from_the_app.pt"
    dialog = open_tiny_dialog(window, tunes, out)
    with qtbot.waitSignal(dialog.modelTrained, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        worker = dialog._worker
        assert isinstance(worker, ProcessWorker) and worker.pid != os.getpid()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TIMEOUT_MS)
    assert worker.is_finished() and worker.outcome == SUCCEEDED
    assert load_melody_model(out).checkpoint["epoch"] == 2
    assert window.panel.model_combo.findData(str(out.resolve())) >= 0 or \
        window.panel.model_combo.findData(str(out)) >= 0
    assert len(dialog.plot.valid_points) == 2 and "Done" in dialog.status_label.text()


@pytest.mark.slow
def test_stop_now_never_destroys_the_last_good_model(window, qtbot, tunes, tmp_path, monkeypatch):
    out = tmp_path / "good.pt"
    dialog = open_tiny_dialog(window, tunes, out)
    with qtbot.waitSignal(dialog.modelTrained, timeout=TIMEOUT_MS):
        assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TIMEOUT_MS)
    good = out.read_bytes()

    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    assert dialog.start()  # a new run into the same file, then Cancel and at once "Stop now"
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.text() == "Stop now" and dialog.cancel_button.isEnabled()
    worker = dialog._worker
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TIMEOUT_MS)
    assert worker.killed and worker.outcome == CANCELLED
    assert dialog.cancel_button.text() == "Cancel" and dialog.start_button.isEnabled()
    # killed before its first save, or after one: either the good model as it was, or a complete new save
    assert out.read_bytes() == good or "resume" in load_checkpoint(out)
    load_melody_model(out)
    assert not list(tmp_path.glob(f".{out.name}.*.tmp"))  # no half-written file left beside it


@pytest.mark.slow
def test_cancel_after_an_epoch_saves_a_resumable_model(window, qtbot, tunes, tmp_path):
    out = tmp_path / "stopped.pt"
    dialog = open_tiny_dialog(window, tunes, out)
    dialog.epochs_spin.setValue(50)
    assert dialog.start()
    qtbot.waitUntil(lambda: len(dialog.plot.valid_points) >= 1, timeout=TIMEOUT_MS)  # one epoch saved
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TIMEOUT_MS)
    assert "Stopped after" in dialog.status_label.text() and dialog.last_error == ""
    checkpoint = load_checkpoint(out)
    assert checkpoint["epoch"] >= 1 and "resume" in checkpoint
    load_melody_model(out)
    assert dialog.resume_check.isEnabled()

    dialog.resume_check.setChecked(True)
    assert dialog.start() and dialog.plot.valid_points == []  # the child sends the saved curve first
    qtbot.waitUntil(lambda: len(dialog.plot.valid_points) >= checkpoint["epoch"], timeout=TIMEOUT_MS)
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TIMEOUT_MS)
    assert load_checkpoint(out)["epoch"] >= checkpoint["epoch"]


def test_a_training_error_in_the_child_arrives_as_one_line(window, qtbot, tunes, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a model at all")
    dialog = open_tiny_dialog(window, tunes, broken)
    # Resume is refused for a file without resume state; force it to reach the trainer's own check
    dialog.resume_check.setEnabled(True)
    dialog.resume_check.setChecked(True)
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=TIMEOUT_MS)
    assert dialog.last_error and "\n" not in dialog.last_error
    assert dialog.last_error in dialog.status_label.text() and broken.read_bytes() == b"not a model at all"


# -- Export WAV ----------------------------------------------------------------------------------------------
def test_export_wav_writes_a_valid_file_through_a_child(window, qtbot, folk_file, tmp_path):
    window.open_file(folk_file)
    out = tmp_path / "tune.wav"
    assert run_job(qtbot, window, lambda: window.export_wav_to(out)) == SUCCEEDED
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2 and wav.getsampwidth() == 2 and wav.getnframes() > 0
    assert window.last_message == f"Exported {out}"
    assert not partial_path(out).exists()


def test_export_wav_runs_in_another_process_with_a_busy_panel(window, qtbot, folk_file, tmp_path):
    window.open_file(folk_file)
    out = tmp_path / "busy.wav"
    with qtbot.waitSignal(window.jobFinished, timeout=TIMEOUT_MS):
        assert window.export_wav_to(out)
        worker = window.worker
        assert isinstance(worker, ProcessWorker) and worker.pid != os.getpid()
        assert window.panel.cancel_button.isEnabled() and window.panel.progress_bar.format() == "Export WAV..."
    assert out.is_file()


def test_cancelling_an_export_leaves_nothing_behind(window, qtbot, folk_file, tmp_path):
    window.open_file(folk_file)
    out = tmp_path / "cancelled.wav"
    with qtbot.waitSignal(window.jobFinished, timeout=TIMEOUT_MS) as finished:
        assert window.export_wav_to(out)
        window.panel.cancel_button.click()
    assert finished.args == [CANCELLED] and window.last_message == "Export WAV cancelled"
    assert not partial_path(out).exists() and not out.exists()


def test_closing_the_window_during_an_export_stops_the_child_and_cleans_up(window, qtbot, folk_file, tmp_path):
    window.open_file(folk_file)
    out = tmp_path / "closing.wav"
    assert window.export_wav_to(out)
    worker = window.worker
    window.jobs.shut_down()  # what closing the window does
    assert worker.is_finished() and worker.outcome == CANCELLED and window.worker is None
    assert not partial_path(out).exists() and not out.exists()


def test_an_export_error_arrives_as_one_line(window, qtbot, folk_file, tmp_path):
    errors = []
    window.show_error = lambda title, text: errors.append((title, text))  # instead of a message box
    window.open_file(folk_file)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert run_job(qtbot, window, lambda: window.export_wav_to(blocker / "tune.wav")) == FAILED
    title, text = errors[-1]
    assert title == "Export WAV failed" and "cannot write" in text and "\n" not in text


# -- the results list ----------------------------------------------------------------------------------------
def test_results_are_listed_at_once_and_labelled_a_few_at_a_time(qtbot, folk_file):
    from composer.music.midi_io import read_midi

    piece = read_midi(folk_file)
    results = VariationList()
    qtbot.addWidget(results)
    variations = [Variation(piece, f"Variation {i + 1}", piece.end) for i in range(6)]
    for variation in variations:
        results.add_variation(variation)
    assert results.count() == 6 and results.labels_pending() == 6
    assert results.item(0).text() == variation_label(variations[0], with_key=False)
    results.setCurrentRow(3)  # the result the user looks at is labelled at once
    assert results.item(3).text() == variation_label(variations[3]) and results.labels_pending() == 5
    results.label_some(budget_s=0.0)  # one item per pass at least
    assert results.labels_pending() == 4
    qtbot.waitUntil(lambda: results.labels_pending() == 0, timeout=10_000)  # the rest, from the event loop
    assert [results.item(row).text() for row in range(6)] == [variation_label(v) for v in variations]
    assert "sounds in" in results.item(0).text()
    results.add_variation(variations[0])
    results.clear()
    assert results.labels_pending() == 0 and results.count() == 0
