"""Export MusicXML in the window: the shown piece written as a score in a child process, read back by music21."""

from __future__ import annotations

import os

from gui.jobs.process import ProcessWorker
from tests.gui.job_wait import JOB_TIMEOUT_MS, run_job
from tests.notation.conftest import music21_notes, parse_musicxml, piece_notes


def test_export_musicxml_writes_the_shown_piece_as_a_score(window, qtbot, chorale_file, tmp_path):
    window.open_file(chorale_file)
    out = tmp_path / "chorale.musicxml"
    with qtbot.waitSignal(window.jobFinished, timeout=JOB_TIMEOUT_MS) as blocker:
        assert window.score_export.export_musicxml_to(out)
        worker = window.worker
        assert isinstance(worker, ProcessWorker) and worker.pid != os.getpid()   # not in the window's process
        assert window.panel.progress_bar.format() == "Export MusicXML..."
    assert blocker.args[0] == "succeeded"
    assert window.last_message.startswith(f"Exported {out} in G")
    score = parse_musicxml(out)
    assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert music21_notes(score) == piece_notes(window.document.piece)
    assert window.export_musicxml_action.text() == "Export &MusicXML..."
    assert window.export_musicxml_action in window.menuBar().actions()[0].menu().actions()


def test_export_musicxml_of_an_empty_piece_is_refused(window, tmp_path):
    assert window.score_export.export_musicxml_to(tmp_path / "empty.musicxml") is False
    assert not (tmp_path / "empty.musicxml").exists()


def test_an_unwritable_score_is_a_one_line_error(window, qtbot, folk_file, tmp_path):
    window.open_file(folk_file)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run_job(qtbot, window, lambda: window.score_export.export_musicxml_to(blocker / "x.musicxml")) == "failed"
    assert window.last_message.startswith("cannot write") and "\n" not in window.last_message
