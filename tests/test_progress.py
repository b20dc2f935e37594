"""Progress of long commands (issue 18): one mechanism, :class:`composer.cli.common.ProgressLine` on tqdm, on
stderr only, shown once a command has run past a delay (``COMPOSER_PROGRESS_DELAY`` here: 0 shows it at once,
a large value keeps it quiet; no assertion depends on how long anything takes)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pytest

from composer import shipped
from composer.cli.common import PROGRESS_DELAY_ENV, ProgressLine, TrainPrinter
from composer.cli.main import main
from tests.harmony.conftest import REPO, chorale_paths
from tests.training.conftest import copy_folk_subset
from tests.waiting import scaled

BAR_MARKS = ("%|", "it/s", "s/it", "piece/s", "step/s", "file/s", "16th/s")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def bar_text(text: str) -> bool:
    """Whether ``text`` holds a tqdm bar."""
    return any(mark in text for mark in BAR_MARKS)


# -- the mechanism ------------------------------------------------------------------------------------------
def test_in_a_log_each_refresh_is_a_line_without_carriage_returns():
    stream = io.StringIO()
    with ProgressLine(stream, after_s=0, stages={"scoring": ("scoring the files", "piece")}) as line:
        for done in range(1, 4):
            line("scoring", done, 3)
    text = stream.getvalue()
    assert text.startswith("scoring the files:") and "/3" in text
    assert "\r" not in text and all(row.strip() for row in text.splitlines())


def test_nothing_is_shown_before_the_delay():
    stream = io.StringIO()
    with ProgressLine(stream, after_s=1000) as line:
        for done in range(100):
            line.update("working", done, 100)
    assert stream.getvalue() == ""


def test_on_a_terminal_the_bar_is_rewritten_in_place_and_erased_at_the_end():
    stream = Terminal()
    line = ProgressLine(stream, after_s=0)
    line.update("harmonizing", 5, 10, unit="16th")
    line.clear()
    text = stream.getvalue()
    assert text.startswith("\rharmonizing:") and text.endswith("\r") and "\n" not in text
    assert line.bar is None


def test_a_new_text_starts_a_new_bar_and_the_delay_counts_from_the_start(monkeypatch):
    monkeypatch.setenv(PROGRESS_DELAY_ENV, "0")
    stream = io.StringIO()
    line = ProgressLine(stream)
    line.update("first", 1, 2)
    line.update("second", 1)
    line.clear()
    rows = stream.getvalue().splitlines()
    assert rows[0].startswith("first:") and rows[-1].startswith("second:")


def test_the_delay_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(PROGRESS_DELAY_ENV, "2.5")
    assert ProgressLine(io.StringIO()).after_s == 2.5
    monkeypatch.setenv(PROGRESS_DELAY_ENV, "soon")
    assert ProgressLine(io.StringIO()).after_s == 1.0


def test_training_shows_each_epochs_batches_and_keeps_the_epoch_lines(monkeypatch):
    monkeypatch.setenv(PROGRESS_DELAY_ENV, "0")
    step = {"event": "step", "epoch": 1, "epochs": 2, "batch": 3, "batches": 10, "loss": 1.5, "accuracy": 0.4,
            "tokens_per_s": 1234.0}
    epoch = {"event": "epoch", "epoch": 1, "improved": True, "train_loss": 1.5, "train_accuracy": 0.4,
             "valid_loss": 1.6, "valid_perplexity": 4.95, "valid_accuracy": 0.38, "seconds": 3}
    for quiet in (False, True):
        stream = io.StringIO()
        printer = TrainPrinter(quiet=quiet, stream=stream)
        printer(step)
        printer(epoch)
        rows = stream.getvalue().splitlines()
        assert rows[-1].startswith("epoch   1* train loss 1.5000")
        assert any(r.startswith("epoch 1/2:") and "3/10" in r and "loss 1.5000" in r for r in rows) != quiet


# -- the commands ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("held-out")
    copy_folk_subset(folder, 2)
    return folder


@pytest.mark.parametrize("delay", ["0", "1000"])
def test_evaluate_shows_its_stages_on_stderr_only_past_the_delay(held_out, capsys, monkeypatch, delay):
    monkeypatch.setenv(PROGRESS_DELAY_ENV, delay)
    assert main(["evaluate", str(shipped.MELODY_MODEL), "--data", str(held_out), "--count", "1", "--bars", "2",
                 "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert "nats per note" in out and not bar_text(out) and "generating" not in out
    shown = [stage in err for stage in ("reading the held-out files", "scoring them", "generating")]
    assert shown == [delay == "0"] * 3


@pytest.mark.parametrize("delay", ["0", "1000"])
def test_evaluate_harmony_shows_the_pieces_harmonized(tmp_path, capsys, monkeypatch, delay):
    monkeypatch.setenv(PROGRESS_DELAY_ENV, delay)
    shutil.copyfile(chorale_paths(1)[0], tmp_path / "chorale.mid")
    assert main(["evaluate-harmony", "--data", str(tmp_path), "--split", "all", "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert "1 pieces" in out and not bar_text(out)
    assert ("harmonizing the pieces:" in err) == (delay == "0")


def _excerpt(tmp_path, pieces: int):
    """A benchmark file holding the first ``pieces`` valid pieces of JSB Chorales, and the shipped model."""
    from composer.polyphonic.data import load_benchmark

    data = REPO / "midi_data" / "benchmarks" / "jsb_chorales_quarter.json"
    valid = load_benchmark(data)["valid"][:pieces]
    excerpt = tmp_path / "jsb_chorales_quarter.json"
    excerpt.write_text(json.dumps({"valid": valid}))
    return excerpt, valid, shipped.BENCHMARK_MODELS[data.name]


def test_benchmark_shows_the_pieces_scored_and_gives_the_score_of_one_call(tmp_path, capsys, monkeypatch):
    from composer.polyphonic.score import BATCH_PIECES

    monkeypatch.setenv(PROGRESS_DELAY_ENV, "0")
    excerpt, valid, model = _excerpt(tmp_path, BATCH_PIECES + 3)   # two batches
    assert main(["benchmark", "polyphonic", "--data", str(excerpt), "--split", "valid", "--model", str(model),
                 "--json"]) == 0
    out, err = capsys.readouterr()
    shown = json.loads(out)   # stdout stays clean JSON
    assert "scoring valid:" in err and f"0/{len(valid)}" in err
    whole = _score_whole(model, valid)
    assert shown["pieces"] == whole.pieces and shown["frames"] == whole.frames
    assert shown["frame_nll"] == whole.frame_nll and shown["lstm_frame_nll"] == whole.lstm_frame_nll


def test_score_with_cache_reports_each_batch_and_scores_exactly_as_without_a_callback(tmp_path):
    from composer.polyphonic.model import load_polyphonic_model
    from composer.polyphonic.repeat_cache import cache_of, score_with_cache
    from composer.polyphonic.score import BATCH_PIECES

    _, valid, model_path = _excerpt(tmp_path, 2 * BATCH_PIECES + 1)   # three batches
    loaded = load_polyphonic_model(model_path)
    calls = []
    scored = score_with_cache(loaded.net, valid, cache_of(loaded.checkpoint),
                              progress=lambda *call: calls.append(call))
    n = len(valid)
    assert calls == [("scoring", 0, n), ("scoring", BATCH_PIECES, n), ("scoring", 2 * BATCH_PIECES, n),
                     ("scoring", n, n)]
    assert scored == _score_whole(model_path, valid)   # every total identical, to the last bit


@pytest.mark.parametrize("quiet", [False, True])
def test_polyphonic_training_shows_its_batches_and_scoring_past_the_delay_not_when_quiet(tmp_path, capsys,
                                                                                          monkeypatch, quiet):
    from composer.polyphonic.data import load_benchmark

    monkeypatch.setenv(PROGRESS_DELAY_ENV, "0")
    splits = load_benchmark(REPO / "midi_data" / "benchmarks" / "jsb_chorales_quarter.json")
    data = tmp_path / "excerpt.json"
    data.write_text(json.dumps({"train": splits["train"][:8], "valid": splits["valid"][:3]}))
    tiny = ["--hidden-size", "16", "--embedding-size", "8", "--num-layers", "1", "--batch-size", "4"]
    assert main(["benchmark", "train-polyphonic", "--data", str(data), "--out", str(tmp_path / "poly.pt"),
                 "--epochs", "1", "--threads", "1", *tiny, *(["--quiet"] if quiet else [])]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    rows = err.splitlines()
    assert any(row.startswith("epoch   1  train ") for row in rows) and "best valid:" in err
    bars = [any(row.startswith(f"{stage}:") and bar_text(row) for row in rows)
            for stage in ("epoch 1/1", "validating", "fitting the repeat cache on train",
                          "scoring valid with the repeat cache")]
    assert bars == [not quiet] * 4


def test_polyphonic_training_is_quiet_before_the_delay(tmp_path, capsys, monkeypatch):
    from composer.polyphonic.data import load_benchmark

    monkeypatch.setenv(PROGRESS_DELAY_ENV, "1000")
    splits = load_benchmark(REPO / "midi_data" / "benchmarks" / "jsb_chorales_quarter.json")
    data = tmp_path / "excerpt.json"
    data.write_text(json.dumps({"train": splits["train"][:4], "valid": splits["valid"][:2]}))
    assert main(["benchmark", "train-polyphonic", "--data", str(data), "--out", str(tmp_path / "poly.pt"),
                 "--epochs", "1", "--threads", "1", "--hidden-size", "16", "--embedding-size", "8",
                 "--num-layers", "1"]) == 0
    err = capsys.readouterr().err
    assert not bar_text(err) and "epoch   1  train " in err


def test_fit_cache_shows_the_pieces_scored(tmp_path, capsys, monkeypatch):
    from composer.polyphonic.data import load_benchmark

    monkeypatch.setenv(PROGRESS_DELAY_ENV, "0")
    data = REPO / "midi_data" / "benchmarks" / "jsb_chorales_quarter.json"
    splits = load_benchmark(data)
    excerpt = tmp_path / data.name
    excerpt.write_text(json.dumps({"train": splits["train"][:3], "valid": splits["valid"][:2]}))
    model = tmp_path / "jsb.pt"
    shutil.copyfile(shipped.BENCHMARK_MODELS[data.name], model)   # fit-cache rewrites the model file
    assert main(["benchmark", "fit-cache", "--data", str(excerpt), "--model", str(model)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("repeat cache fitted on 3 train pieces") and not bar_text(out)
    assert "scoring train:" in err and "0/3" in err and "scoring valid:" in err and "0/2" in err


def _score_whole(model_path, pieces):
    """The pieces scored in one call of ``score_with_cache``, without a progress callback."""
    from composer.polyphonic.model import load_polyphonic_model
    from composer.polyphonic.repeat_cache import cache_of, score_with_cache

    loaded = load_polyphonic_model(model_path)
    return score_with_cache(loaded.net, pieces, cache_of(loaded.checkpoint))


def test_help_imports_no_tqdm():
    result = subprocess.run([sys.executable, "-c", "import sys; from composer.cli.main import main\n"
                             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
                             "assert 'tqdm' not in sys.modules and 'torch' not in sys.modules"],
                            capture_output=True, text=True, cwd=REPO, timeout=scaled(120))
    assert result.returncode == 0, result.stderr
