"""The one worker class (gui/jobs/worker.py) and the window's job runner (gui/jobs/runner.py).

The jobs here are plain functions, so each test shows one piece of the plumbing: progress, free-form
reports, cancel, a failure turned into a message, and the runner's one-job-at-a-time bookkeeping.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402

import pytest  # noqa: E402

from composer.core.modelfile import ModelFileError  # noqa: E402
from gui.generate_panel import GeneratePanel  # noqa: E402
from gui.jobs.runner import JobRunner  # noqa: E402
from gui.jobs.train import training_error_message  # noqa: E402
from gui.jobs.worker import CANCELLED, FAILED, SUCCEEDED, JobControl, Worker, user_message  # noqa: E402
from fake_messages import FakeMessages  # noqa: E402
from tests.gui.job_wait import Recorder  # noqa: E402
from tests.waiting import scaled, scaled_ms

TIMEOUT_MS = 10_000


def run_worker(qtbot, worker: Worker) -> Recorder:
    recorder = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        worker.start()
    worker.dispose()
    return recorder


def test_progress_then_the_result_then_finished(qtbot):
    seen_threads = []

    def job(control: JobControl) -> str:
        seen_threads.append(threading.current_thread())
        for done in range(3):
            assert control(done, 3) is False
        control.report({"event": "step", "loss": 1.5})
        return "music"

    worker = Worker(job, "Counting")
    recorder = run_worker(qtbot, worker)
    assert recorder.events == [("progress", 0, 3), ("progress", 1, 3), ("progress", 2, 3),
                               ("report", {"event": "step", "loss": 1.5}), ("succeeded", "music"), ("finished",)]
    assert seen_threads[0] is not threading.main_thread()
    assert worker.outcome == SUCCEEDED and worker.result == "music" and worker.error == ""
    assert worker.is_finished() and not worker.is_running()


def test_cancel_stops_the_job_at_its_next_progress_report(qtbot):
    started = threading.Event()

    def job(control: JobControl) -> list[int]:
        done = []
        while not control(len(done), 1_000_000):
            started.set()
            done.append(len(done))
        assert control.should_stop()
        return done  # partial results

    worker = Worker(job, "Endless")
    recorder = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        worker.start()
        assert started.wait(scaled(5))
        worker.cancel()
        assert worker.cancel_requested
    assert worker.wait(scaled_ms(TIMEOUT_MS))
    assert recorder.kinds()[-3:] == ["cancelled", "succeeded", "finished"]
    assert worker.outcome == CANCELLED and len(worker.result) > 0


@pytest.mark.parametrize("error, message", [
    (ValueError("bars must be positive"), "bars must be positive"),
    (ModelFileError("m.pt", "not a model"), str(ModelFileError("m.pt", "not a model"))),
    (OSError("disk full"), "disk full"),
    (RuntimeError("boom"), "Counting failed: RuntimeError: boom"),  # a bug: named with its type
])
def test_a_failure_becomes_a_message(qtbot, error, message):
    def job(control: JobControl):
        control(1, 2)
        raise error

    worker = Worker(job, "Counting")
    recorder = run_worker(qtbot, worker)
    assert recorder.kinds() == ["progress", "failed", "finished"]
    assert recorder.events[1] == ("failed", message)
    assert worker.outcome == FAILED and worker.error == message and worker.result is None


def test_the_error_message_can_be_the_callers_own(qtbot):
    def job(control: JobControl):
        raise FileNotFoundError(2, "No such file", "/nowhere/tunes")

    worker = Worker(job, "Training", describe_error=training_error_message)
    recorder = run_worker(qtbot, worker)
    assert recorder.events[0] == ("failed", "Not found: /nowhere/tunes")


def test_training_errors_read_as_before():
    from composer.melody.train import TrainingError

    assert training_error_message(TrainingError("no usable MIDI files")) == "no usable MIDI files"
    assert training_error_message(ValueError("bad recipe")) == "Training stopped: bad recipe"
    assert training_error_message(KeyError("x")) == "Training failed unexpectedly: KeyError: 'x'"
    assert user_message(KeyError("x"), "Generation") == "Generation failed: KeyError: 'x'"


@pytest.fixture
def runner(qtbot):
    panel = GeneratePanel()
    qtbot.addWidget(panel)
    return JobRunner(panel, FakeMessages())


def test_the_runner_runs_one_job_at_a_time_and_shows_how_it_ended(qtbot, runner):
    release = threading.Event()
    results, busy = [], []
    runner.busyChanged.connect(busy.append)

    def job(control: JobControl) -> int:
        control(1, 4)
        release.wait(scaled(5))
        return 42

    with qtbot.waitSignal(runner.jobFinished, timeout=TIMEOUT_MS) as finished:
        assert runner.start(job, "Generation", results.append)
        assert not runner.panel.generate_button.isEnabled() and runner.panel.cancel_button.isEnabled()
        assert not runner.start(job, "Generation", results.append)          # one at a time
        assert runner.messages.last_message == "Another job is still running; cancel it first"
        qtbot.waitUntil(lambda: runner.panel.progress_bar.value() == 250, timeout=TIMEOUT_MS)
        release.set()
    assert finished.args == [SUCCEEDED] and results == [42] and busy == [True, False]
    assert runner.worker is None and runner.panel.generate_button.isEnabled()
    assert runner.panel.progress_bar.format() == "Generation done"


def test_a_cancelled_job_shows_no_results(qtbot, runner):
    results = []

    def job(control: JobControl) -> str:
        while not control(0, 1):
            pass
        return "partial"

    with qtbot.waitSignal(runner.jobFinished, timeout=TIMEOUT_MS) as finished:
        assert runner.start(job, "Harmonization", results.append)
        runner.cancel()
        assert runner.panel.progress_bar.format() == "Cancelling..."
    assert finished.args == [CANCELLED] and results == []
    assert runner.messages.last_message == "Harmonization cancelled" and runner.worker is None


def test_a_failed_job_shows_the_error(qtbot, runner):
    def job(control: JobControl):
        raise ValueError("the melody has no notes")

    with qtbot.waitSignal(runner.jobFinished, timeout=TIMEOUT_MS) as finished:
        assert runner.start(job, "Chorale", lambda result: pytest.fail("no result expected"))
    assert finished.args == [FAILED]
    assert runner.messages.errors == [("Chorale failed", "the melody has no notes")]
    assert runner.panel.progress_bar.format() == "Failed" and runner.worker is None


def test_shutting_down_cancels_and_waits(qtbot, runner):
    def job(control: JobControl) -> None:
        while not control.should_stop():
            pass

    assert runner.start(job, "Generation", lambda result: None)
    worker = runner.worker
    runner.shut_down()
    assert worker.is_finished() and worker.cancel_requested
    qtbot.waitUntil(lambda: runner.worker is None, timeout=TIMEOUT_MS)
