"""Links, devices, pipes and folders where files are expected (issue 17, item 11).

Before the fix, a ``*.mid`` link to a device file (or a named pipe, or a link to nothing) in a training folder was
left out without being listed among the skipped files; a folder given as a model or a melody was reported as "no
such file"; and a slow read was reported as "(0 files/s)". Now every such entry is listed with what it is, and
refused unread (reading ``/dev/zero`` or a pipe would never end); a folder is called a folder; a slow read says
seconds per file.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from composer.cli.common import TrainPrinter, read_rate
from composer.cli.main import main
from composer.harmony.train import load_chorales
from composer.melody.corpus import load_corpus
from composer.melody.encoding import Vocabulary
from composer.melody.evaluate import read_held_out
from composer.music.midi_io import MidiReadError, read_midi
from composer.shipped import MELODY_MODEL
from tests.training.conftest import MICRO_CONFIG, copy_folk_subset

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero and named pipes")

EXPECTED = {
    "zero.mid": "not a regular file (a character device)",
    "pipe.mid": "not a regular file (a named pipe)",
    "gone.mid": "a link to a file that does not exist",
}


def add_special_entries(folder: Path) -> None:
    """A link to /dev/zero, a named pipe (nobody writes it: reading would wait for ever) and a broken link, each
    named as MIDI; and a folder named as MIDI (it is a folder: searched, not listed)."""
    (folder / "zero.mid").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.mid")
    (folder / "gone.mid").symlink_to(folder / "no-such-file.mid")
    (folder / "folder.mid").mkdir()


@pytest.fixture
def folk(tmp_path) -> Path:
    folder = tmp_path / "folk"
    copy_folk_subset(folder, 4, offset=30)
    add_special_entries(folder)
    return folder


def test_the_training_corpus_lists_links_to_devices_pipes_and_broken_links(folk):
    corpus = load_corpus(folk, Vocabulary(MICRO_CONFIG.encoding_config()), workers=1, use_cache=False)
    assert dict(corpus.skipped) == EXPECTED
    assert sum(len(files) for files in corpus.files.values()) == 4


def test_the_evaluation_and_harmony_readers_list_them_too(folk, tmp_path):
    _, skipped = read_held_out(folk, Vocabulary(MICRO_CONFIG.encoding_config()))
    assert {name: skipped[name] for name in EXPECTED} == EXPECTED
    chorales = tmp_path / "chorales"
    chorales.mkdir()
    for path in sorted(CHORALES.glob("*.mid"))[:3]:
        shutil.copy(path, chorales)
    add_special_entries(chorales)
    corpus = load_chorales(chorales)
    assert dict(corpus.skipped) == EXPECTED


def test_composer_train_reports_them_in_its_data_report(folk, tmp_path, capsys):
    model = tmp_path / "m.pt"
    assert main(["train", str(folk), "--out", str(model), "--epochs", "1", "--batch-size", "2", "--bptt", "16",
                 "--hidden-size", "8", "--embedding-size", "8", "--num-layers", "1", "--workers", "1", "--no-cache",
                 "--threads", "1", "--quiet"]) == 0
    report = model.with_name("m.data.csv").read_text()
    for name, reason in EXPECTED.items():
        assert f"{name},skipped,{reason}" in report


def test_read_midi_refuses_special_files_unread(tmp_path):
    os.mkfifo(tmp_path / "pipe.mid")
    for path, reason in ((Path("/dev/zero"), "a character device"), (tmp_path / "pipe.mid", "a named pipe"),
                         (tmp_path, "a folder")):
        with pytest.raises(MidiReadError, match=f"not a regular file \\({reason}\\)"):
            read_midi(path)


def _usage_error(capsys, argv: list) -> str:
    with pytest.raises(SystemExit) as caught:
        main([str(a) for a in argv])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("argv", [
    ["info", "{folder}"],
    ["generate", "--model", "{folder}", "--out", "{tmp}/out"],
    ["generate", "--primer", "{folder}", "--out", "{tmp}/out"],
    ["harmonize", "{folder}", "--out", "{tmp}/out.mid"],
    ["evaluate", "{folder}", "--data", "{tmp}"],
])
def test_a_folder_given_as_a_model_or_a_melody_is_called_a_folder(capsys, tmp_path, argv):
    folder = tmp_path / "song.mid"
    folder.mkdir()
    line = _usage_error(capsys, [a.format(folder=folder, tmp=tmp_path) for a in argv])
    assert line.endswith(f"{folder} is a folder, not a file"), line


def test_a_device_given_as_a_model_or_a_file_given_as_data_is_named(capsys, tmp_path):
    line = _usage_error(capsys, ["info", "/dev/zero"])
    assert line.endswith("/dev/zero is not a regular file (a character device)"), line
    line = _usage_error(capsys, ["train", MELODY_MODEL, "--out", tmp_path / "m.pt"])
    assert line.endswith(f"{MELODY_MODEL} is a file, not a folder"), line


def test_a_slow_read_is_not_reported_as_zero_files_per_second():
    assert read_rate(0.25) == "4.0 s per file"
    assert read_rate(2.5) == "2.5 files/s"
    assert read_rate(1234.4) == "1,234 files/s"
    stream = io.StringIO()
    TrainPrinter(stream=stream)({"event": "data", "seconds": 12.0, "skipped": [],
                                 "summary": {"files": {"train": 3, "valid": 1, "test": 0}, "tokens": {"train": 900}},
                                 "stats": {"files_per_s": 4 / 12.0}})
    assert "(3.0 s per file)" in stream.getvalue() and "0 files/s" not in stream.getvalue()
