"""A report's ``--json FILE`` is safe for the whole run, not only at its start (issue 17, items 1 and 2, found
afterwards: the "evaluate lock gap").

``composer evaluate ... --json FILE`` and ``evaluate-harmony --json FILE`` checked FILE before any work (an
existing one needs ``--force``), then worked for minutes, showing progress, holding no lock, and wrote FILE at
the end, whatever had happened to it meanwhile. So two runs given the same ``--json`` both passed the check
and both reported success, the later one silently replacing the other's report; and a FILE that appeared
during the run was replaced without ``--force``. Now a run holds FILE's lock (see composer.core.locks) from its
check to its write: a second run is refused at once, in one line, writing nothing; and a FILE that appeared
meanwhile is kept unless ``--force`` was given (the report is still printed).

Everything is real: the ``composer`` command in-process, the shipped models, real folk tunes and chorales, a
real child process holding the lock. The only stand-in is the other writer of the second test, which writes
FILE from inside the run (the report function is wrapped, and then does its real work), so that "during the
run" does not depend on timing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from composer.cli.main import main
from composer.core.locks import lock_path
from composer.shipped import HARMONY_MODEL, MELODY_MODEL
from tests.training.conftest import copy_folk_subset

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
OTHERS = b'{"the other run": "its report"}\n'
HOLDER = """
import sys
from composer.core.locks import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def folk(tmp_path) -> Path:
    folder = tmp_path / "folk"
    copy_folk_subset(folder, 2, offset=21)
    return folder


@pytest.fixture
def chorale(tmp_path) -> Path:
    folder = tmp_path / "chorales"
    folder.mkdir()
    shutil.copyfile(CHORALES / "bwv286.mid", folder / "bwv286.mid")
    return folder


def evaluate_argv(command: str, data: Path, report: Path) -> list[str]:
    if command == "evaluate":
        return ["evaluate", str(MELODY_MODEL), "--data", str(data), "--count", "1", "--bars", "1", "--threads", "1",
                "--json", str(report)]
    return ["evaluate-harmony", "--model", str(HARMONY_MODEL), "--data", str(data), "--split", "all", "--threads",
            "1", "--json", str(report)]


@pytest.fixture
def other_run(tmp_path):
    """A real child process holding the lock of ``tmp_path/report.json``, as a running report command would;
    yields (the report path, the child's pid)."""
    report = tmp_path / "report.json"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(report)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield report, holder.pid
    finally:
        holder.stdin.close()
        holder.wait()


@pytest.mark.parametrize("command", ["evaluate", "evaluate-harmony"])
def test_a_second_run_into_the_same_json_is_refused_at_once_and_writes_nothing(capsys, request, other_run, command):
    report, pid = other_run
    data = request.getfixturevalue("folk" if command == "evaluate" else "chorale")
    assert main(evaluate_argv(command, data, report)) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.strip().splitlines() == [
        f"composer {command}: {report} is being written by another composer command (pid {pid}); wait for it or "
        f"choose another --json"]
    assert not report.exists()


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("command", ["evaluate", "evaluate-harmony"])
def test_a_json_file_that_appears_during_the_run_is_kept_without_force(capsys, monkeypatch, request, tmp_path,
                                                                        command, force):
    report = tmp_path / "report.json"
    data = request.getfixturevalue("folk" if command == "evaluate" else "chorale")
    module = __import__(f"composer.{'melody' if command == 'evaluate' else 'harmony'}.evaluate", fromlist=["x"])
    name = "evaluate_melody_model" if command == "evaluate" else "evaluate_harmony"
    real = getattr(module, name)

    def another_writer_meanwhile(*args, **kwargs):
        report.write_bytes(OTHERS)   # what a run without the lock (another tool, an older Composer) writes
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, another_writer_meanwhile)
    status = main(evaluate_argv(command, data, report) + (["--force"] if force else []))
    out, err = capsys.readouterr()
    assert out.strip()   # the report itself is printed either way
    if force:
        assert status == 0 and json.loads(report.read_text()) != json.loads(OTHERS)
    else:
        assert status == 1 and report.read_bytes() == OTHERS
        assert err.strip().splitlines()[-1] == (f"composer {command}: {report} appeared while the report was made; "
                                                f"it is kept (pass --force to replace it, or choose another --json)")
    assert not lock_path(report).exists()


@pytest.mark.parametrize("command", ["evaluate", "evaluate-harmony"])
def test_a_finished_run_writes_its_report_and_leaves_no_lock(capsys, request, tmp_path, command):
    report = tmp_path / "report.json"
    data = request.getfixturevalue("folk" if command == "evaluate" else "chorale")
    assert main(evaluate_argv(command, data, report)) == 0
    capsys.readouterr()
    assert json.loads(report.read_text()) and not lock_path(report).exists()
