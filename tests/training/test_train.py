"""Training: real tiny runs on real folk melodies."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.melody.model import load_melody_model
from composer.core.modelfile import load_checkpoint, save_checkpoint, strip_checkpoint
from composer.melody.corpus import load_corpus
from composer.melody.encoding import Vocabulary
from composer.music.midi_io import write_midi
from composer.melody.model import ComposerLM
from composer.music.notes import Note, Piece
from composer.melody.train import TrainConfig, TrainingError, _ensure_validation, evaluate, train

from .conftest import MICRO_CONFIG, TINY_CONFIG, copy_folk_subset


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def valid_split(data_dir: Path, config: TrainConfig) -> list[np.ndarray]:
    corpus = load_corpus(data_dir, Vocabulary(config.encoding_config()), config.valid_fraction, config.test_fraction)
    _ensure_validation(corpus)
    return corpus.sequences["valid"]


# -- the shared tiny run ---------------------------------------------------------------------------
def test_training_lowers_validation_loss(tiny_model):
    config = tiny_model.config
    vocab = Vocabulary(config.encoding_config())
    valid = valid_split(tiny_model.data_dir, config)
    assert len(valid) >= 2
    torch.manual_seed(config.seed)
    untrained = ComposerLM(config.model_config(len(vocab)))
    before = evaluate(untrained, valid, torch.device("cpu"))
    loaded = load_melody_model(tiny_model.path)
    model, checkpoint = loaded.net, loaded.checkpoint
    after = evaluate(model, valid, torch.device("cpu"))
    assert before.loss > 4.5                   # about ln(vocabulary size) for an untrained model
    assert after.loss < before.loss - 1.0, (before, after)
    assert after.accuracy > before.accuracy + 0.05
    # the file's metrics are those of the weights it holds for generation
    assert checkpoint["metrics"]["valid"]["loss"] == pytest.approx(after.loss, rel=1e-5)
    assert checkpoint["metrics"]["valid"]["tokens"] == after.tokens
    history = checkpoint["history"]
    best = min(row["valid_loss"] for row in history)
    assert checkpoint["metrics"]["valid"]["loss"] == pytest.approx(best)
    assert history[checkpoint["metrics"]["best_epoch"] - 1]["valid_loss"] == pytest.approx(best)
    assert best < history[0]["valid_loss"] or checkpoint["metrics"]["best_epoch"] == 1
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_history_and_events(tiny_model):
    checkpoint = tiny_model.checkpoint
    assert [row["epoch"] for row in checkpoint["history"]] == [1, 2, 3]
    steps = [row["step"] for row in checkpoint["history"]]
    assert steps[0] > 0 and steps == [steps[0] * k for k in (1, 2, 3)]
    kinds = [e["event"] for e in tiny_model.events]
    assert kinds[0] == "data" and kinds[-1] == "done"
    assert kinds.count("epoch") == 3 and "step" in kinds
    done = tiny_model.events[-1]
    assert done["stop_reason"] == "finished all epochs"
    assert done["path"] == str(tiny_model.path)
    assert "test" in checkpoint["metrics"]                # the held-out test split is scored at the end
    assert checkpoint["recipe"]["data"]["files"] == tiny_model.events[0]["summary"]["files"]
    assert sum(checkpoint["recipe"]["data"]["files"].values()) == 48
    assert checkpoint["recipe"]["stop_reason"] == "finished all epochs"
    assert checkpoint["recipe"]["parameters"] == load_melody_model(tiny_model.path).net.num_parameters()


def test_side_files_appear_next_to_the_model(tiny_model):
    stem = tiny_model.path.with_suffix("")
    curve_csv = Path(f"{stem}.curve.csv")
    curve_png = Path(f"{stem}.curve.png")
    data_csv = Path(f"{stem}.data.csv")
    with open(curve_csv) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[0]["valid_loss"]) == pytest.approx(tiny_model.checkpoint["history"][0]["valid_loss"])
    assert curve_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(data_csv) as handle:
        data_rows = list(csv.DictReader(handle))
    assert len(data_rows) == 48
    assert {r["status"] for r in data_rows} <= {"train", "valid", "test"}
    assert {r["file"] for r in data_rows} == {p.relative_to(tiny_model.data_dir).as_posix()
                                              for p in tiny_model.data_dir.rglob("*.mid")}


# -- seeds -----------------------------------------------------------------------------------------
def test_same_seed_same_weights_and_other_seed_other_weights(micro_corpus, tmp_path):
    first = train(micro_corpus, tmp_path / "a.pt", MICRO_CONFIG)
    second = train(micro_corpus, tmp_path / "b.pt", MICRO_CONFIG)
    assert same_weights(first["model_state"], second["model_state"])
    assert same_weights(first["resume"]["model_state"], second["resume"]["model_state"])
    assert first["history"][0]["train_loss"] == second["history"][0]["train_loss"]
    assert first["metrics"]["valid"] == second["metrics"]["valid"]
    other = train(micro_corpus, tmp_path / "c.pt", MICRO_CONFIG.replace(seed=MICRO_CONFIG.seed + 1))
    assert not same_weights(first["model_state"], other["model_state"])


# -- stopping, interrupting, resuming ------------------------------------------------------------------
class StopInEpoch:
    """should_stop that answers True a few steps into the given (1-based) epoch."""

    def __init__(self, epoch: int, after_steps: int = 3) -> None:
        self.epoch, self.after_steps = epoch, after_steps
        self.epochs_done, self.polls_in_epoch = 0, 0

    def progress(self, event: dict) -> None:
        if event["event"] == "epoch":
            self.epochs_done = event["epoch"]

    def __call__(self) -> bool:
        if self.epochs_done == self.epoch - 1:
            self.polls_in_epoch += 1
            return self.polls_in_epoch >= self.after_steps
        return False


def test_stop_then_resume_continues_the_history(micro_corpus, tmp_path):
    config = MICRO_CONFIG.replace(epochs=2)
    out = tmp_path / "run.pt"
    stopper = StopInEpoch(2)
    events = []
    stopped = train(micro_corpus, out, config, progress=lambda e: (events.append(e), stopper.progress(e)),
                    should_stop=stopper)
    assert events[-1]["event"] == "interrupted"
    assert stopped["epoch"] == 1
    assert [r["epoch"] for r in stopped["history"]] == [1]
    on_disk = load_checkpoint(out)
    assert on_disk["epoch"] == 1 and "resume" in on_disk and "valid" in on_disk["metrics"]
    load_melody_model(out)                                          # generation can use an interrupted run
    first_row = on_disk["history"][0]

    resumed = train(micro_corpus, out, TrainConfig.of(epochs=99), resume=True)   # config comes from the file
    assert resumed["epoch"] == 2
    epochs = [r["epoch"] for r in resumed["history"]]
    assert epochs == [1, 2], epochs
    assert resumed["history"][0] == first_row
    assert resumed["history"][1]["step"] > first_row["step"]
    assert resumed["recipe"]["config"] == config.to_dict()
    assert resumed["recipe"]["stop_reason"] == "finished all epochs"
    final = load_checkpoint(out)
    assert [r["epoch"] for r in final["history"]] == [1, 2]
    with open(out.with_name("run.curve.csv")) as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [1, 2]


def interrupt_on(kind: str, number: int):
    """A progress callback that raises KeyboardInterrupt (Ctrl-C) at the ``number``-th event of a kind."""
    seen = []

    def progress(event):
        if event["event"] == kind:
            seen.append(event)
            if len(seen) == number:
                raise KeyboardInterrupt

    return progress


def test_ctrl_c_during_a_step_saves_a_loadable_checkpoint(micro_corpus, tmp_path):
    out = tmp_path / "ctrl_c.pt"
    with pytest.raises(KeyboardInterrupt):
        train(micro_corpus, out, MICRO_CONFIG.replace(epochs=2), progress=interrupt_on("step", 2))
    checkpoint = load_checkpoint(out)
    assert checkpoint["epoch"] == 0 and checkpoint["history"] == []
    assert "valid" not in checkpoint["metrics"]
    torch.manual_seed(MICRO_CONFIG.seed)                     # the run's initial weights, made again
    initial = ComposerLM(MICRO_CONFIG.model_config(len(Vocabulary(MICRO_CONFIG.encoding_config())))).state_dict()
    assert not same_weights(checkpoint["resume"]["model_state"], initial)   # the steps taken were kept
    loaded = load_melody_model(out)
    model, vocab = loaded.net, loaded.vocab
    assert len(vocab) == model.config.vocab_size
    resumed = train(micro_corpus, out, resume=True)
    assert [r["epoch"] for r in resumed["history"]] == [1, 2]
    assert "valid" in resumed["metrics"]


def test_saved_step_counter_agrees_with_the_scheduler(tiny_model, micro_corpus, tmp_path):
    """``resume.step`` (the global step, continued by --resume and written into the history) must count
    the optimizer steps the saved optimizer and scheduler have taken, however training stopped."""
    finished = tiny_model.checkpoint["resume"]
    assert finished["step"] == finished["scheduler"]["last_epoch"] == tiny_model.checkpoint["history"][-1]["step"]

    config = MICRO_CONFIG.replace(epochs=2)
    stopper = StopInEpoch(1, after_steps=5)
    stopped = train(micro_corpus, tmp_path / "stop.pt", config, progress=stopper.progress, should_stop=stopper)
    assert stopped["resume"]["step"] == stopped["resume"]["scheduler"]["last_epoch"] == 5

    out = tmp_path / "ctrl_c.pt"
    with pytest.raises(KeyboardInterrupt):
        train(micro_corpus, out, config, progress=interrupt_on("step", 2))   # step events come every 10 steps
    saved = load_checkpoint(out)["resume"]
    assert saved["scheduler"]["last_epoch"] == 11
    assert saved["step"] == saved["scheduler"]["last_epoch"], \
        f"Ctrl-C mid-epoch saved step {saved['step']} after {saved['scheduler']['last_epoch']} optimizer steps"


def test_ctrl_c_at_the_end_of_an_epoch_then_resume_does_not_repeat_the_epoch(micro_corpus, tmp_path):
    """Ctrl-C that lands just after epoch 1 was saved (while its curves are drawn or its line printed).

    The saved file must not claim fewer completed epochs than its history holds, or ``--resume`` redoes
    the epoch and the history gets the same epoch number twice.
    """
    out = tmp_path / "ctrl_c_epoch.pt"
    with pytest.raises(KeyboardInterrupt):
        train(micro_corpus, out, MICRO_CONFIG.replace(epochs=2), progress=interrupt_on("epoch", 1))
    checkpoint = load_checkpoint(out)
    load_melody_model(out)
    saved = (checkpoint["epoch"], [r["epoch"] for r in checkpoint["history"]])
    resumed = train(micro_corpus, out, resume=True)
    epochs = [r["epoch"] for r in resumed["history"]]
    assert epochs == [1, 2], f"saved (epoch, history epochs) = {saved}; after --resume history epochs = {epochs}"
    assert checkpoint["epoch"] == len(checkpoint["history"]) == 1


def test_resume_needs_a_resumable_file(micro_corpus, tmp_path):
    with pytest.raises(TrainingError, match="no such file"):
        train(micro_corpus, tmp_path / "missing.pt", resume=True)
    out = tmp_path / "full.pt"
    checkpoint = train(micro_corpus, out, MICRO_CONFIG)
    save_checkpoint(strip_checkpoint(checkpoint), out)
    with pytest.raises(TrainingError, match="no resume state"):
        train(micro_corpus, out, resume=True)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model")
    with pytest.raises(TrainingError):
        train(micro_corpus, garbage, resume=True)


def test_resume_of_a_finished_run_adds_no_epochs(micro_corpus, tmp_path):
    out = tmp_path / "done.pt"
    finished = train(micro_corpus, out, MICRO_CONFIG)
    again = train(micro_corpus, out, resume=True)
    assert [r["epoch"] for r in again["history"]] == [1]
    assert same_weights(again["model_state"], finished["model_state"])


# -- bad data ---------------------------------------------------------------------------------------
def test_no_usable_file_is_a_training_error(tmp_path):
    data = tmp_path / "bad"
    data.mkdir()
    (data / "noise.mid").write_bytes(np.random.default_rng(5).bytes(500))
    (data / "empty.mid").write_bytes(b"")
    (data / "lyrics.txt").write_text("la la la")
    out = tmp_path / "never.pt"
    with pytest.raises(TrainingError, match="no usable MIDI files") as caught:
        train(data, out, MICRO_CONFIG)
    assert "3 skipped" in str(caught.value)
    assert not out.exists()
    with open(tmp_path / "never.data.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["file"] for r in rows} == {"noise.mid", "empty.mid", "lyrics.txt"}
    assert all(r["status"] == "skipped" and r["reason"] for r in rows)


def test_corrupt_files_are_skipped_and_listed(tmp_path):
    data = tmp_path / "mixed"
    good = copy_folk_subset(data, 10, offset=5)
    (data / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    (data / "zero.mid").write_bytes(b"")
    out = tmp_path / "mixed.pt"
    events = []
    checkpoint = train(data, out, MICRO_CONFIG, progress=events.append)
    skipped = dict(events[0]["skipped"])
    assert set(skipped) == {"broken.mid", "zero.mid"}
    assert checkpoint["recipe"]["data"]["skipped"] == 2
    assert sum(checkpoint["recipe"]["data"]["files"].values()) == len(good)
    assert "valid" in checkpoint["metrics"]
    with open(tmp_path / "mixed.data.csv") as handle:
        rows = {r["file"]: r for r in csv.DictReader(handle)}
    assert rows["broken.mid"]["status"] == "skipped" and rows["broken.mid"]["reason"]
    assert {f for f, r in rows.items() if r["status"] != "skipped"} == set(good)


def test_too_little_music_is_a_training_error(tmp_path):
    """Two short pieces (31 training tokens) cannot fill 32 streams: that is unusable data (TrainingError),
    which the CLI reports as a message, rather than a ValueError from deep inside batchify."""
    data = tmp_path / "short"
    data.mkdir()
    for i in range(2):
        write_midi(Piece(notes=tuple(Note(48 * k, 48 * k + 24, 60 + k + i) for k in range(10)), ticks_per_beat=96),
                   data / f"short_{i}.mid")
    with pytest.raises(TrainingError):
        train(data, tmp_path / "short.pt", MICRO_CONFIG.replace(batch_size=32))


def test_tiny_corpus_holds_out_a_validation_file(tmp_path):
    data = tmp_path / "three"
    names = copy_folk_subset(data, 3, offset=11)
    checkpoint = train(data, tmp_path / "three.pt", MICRO_CONFIG)
    assert checkpoint["recipe"]["data"]["files"]["valid"] >= 1
    assert "valid" in checkpoint["metrics"]
    assert sum(checkpoint["recipe"]["data"]["files"].values()) == len(names)


# -- config --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, word", [
    ({"epochs": 0}, "epochs"),
    ({"batch_size": -1}, "batch_size"),
    ({"lr": 0.0}, "lr"),
    ({"transpose": (3, -3)}, "transpose"),
    ({"valid_fraction": 0.6, "test_fraction": 0.5}, "fraction"),
    ({"device": "tpu"}, "device"),
    ({"cell": "transformer"}, "cell"),
    ({"dropout": 1.0}, "dropout"),
    ({"min_pitch": 90, "max_pitch": 40}, "min_pitch"),
])
def test_train_config_validation(changes, word):
    with pytest.raises(ValueError, match=word):
        TrainConfig.of(**changes)


def test_train_config_dict_round_trip():
    config = TINY_CONFIG.replace(transpose=(-3, 4))
    values = config.to_dict()
    assert values["transpose"] == [-3, 4]
    assert TrainConfig.from_dict(values) == config
    with pytest.raises(ValueError, match="unknown training settings: layers"):
        TrainConfig.from_dict({"layers": 3})


# -- the learning-rate decay under a time budget --------------------------------------------------------
def test_budget_epochs_projects_where_the_time_budget_stops_the_run():
    from composer.core.optim import budget_epochs

    assert budget_epochs(100, 0, 0.0, 60.0) == 100            # nothing measured yet
    assert budget_epochs(100, 5, 50.0, 0.0) == 100            # no budget
    assert budget_epochs(100, 5, 50.0, 120.0) == 12           # 10 s an epoch, 70 s left: 7 more (the last crosses)
    assert budget_epochs(100, 5, 50.0, 100.0) == 10
    assert budget_epochs(100, 5, 50.0, 40.0) == 5             # already past: it stops now
    assert budget_epochs(8, 5, 50.0, 1000.0) == 8             # never more than the run's epochs


def test_the_cosine_ends_at_the_horizon_it_is_given():
    from composer.core.optim import lr_schedule

    horizon = {"steps": 1000}
    factor = lr_schedule(10, 0.05, 1000, horizon=lambda: horizon["steps"])
    plain = lr_schedule(10, 0.05, 1000)
    assert factor(5) == plain(5) and factor(500) == plain(500)
    assert factor(1000) == pytest.approx(0.05)
    horizon["steps"] = 200                                       # a time budget will stop the run at step 200
    assert factor(200) == pytest.approx(0.05) and factor(105) == pytest.approx(plain(505), abs=1e-3)


def test_a_time_capped_run_ends_with_the_learning_rate_decayed(micro_corpus, tmp_path):
    """1000 epochs asked, time for about four allowed: the decay is fitted to the epochs that fit, so
    the last epoch ends near the lowest learning rate, not at the top of a barely started cosine."""
    import time

    started = time.perf_counter()
    train(micro_corpus, tmp_path / "one.pt", MICRO_CONFIG)               # one epoch, to size the budget
    one_epoch = time.perf_counter() - started
    config = MICRO_CONFIG.replace(epochs=1000, max_minutes=4 * one_epoch / 60, patience=1000)
    result = train(micro_corpus, tmp_path / "capped.pt", config)
    history = result["history"]
    assert 2 <= len(history) < 1000
    # fitted to the epochs that fit: falling from the first epoch on, well below the top by the last (how far
    # depends on how the machine's speed moved during the run); a cosine over 1000 epochs would still be
    # warming up here, its learning rate rising
    assert history[-1]["lr"] < min(history[0]["lr"], 0.9 * config.lr)
    assert all(later["lr"] <= earlier["lr"] * 1.5 for earlier, later in zip(history, history[1:]))
