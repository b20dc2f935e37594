"""Issue 16, defect 9: a job no longer wipes the previous results. Each run adds a group at the top of the results
list (newest first, under a header naming the run), earlier runs stay for comparison, and Clear empties the list."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from gui import results_list  # noqa: E402
from gui.results_list import HEADER_ROLE, Variation, VariationList  # noqa: E402
from job_wait import run_job as _run  # noqa: E402


def _generate(qtbot, window, count: int, seed: int) -> str:
    panel = window.panel
    panel.count_spin.setValue(count)
    panel.bars_spin.setValue(1)
    panel.random_seed_check.setChecked(False)
    panel.seed_spin.setValue(seed)
    return _run(qtbot, window, window.generate)


def test_each_run_adds_a_group_newest_first_and_clear_empties_the_list(window, qtbot):
    results = window.panel.results
    assert _generate(qtbot, window, count=2, seed=1) == "succeeded"
    first = results.variations()
    assert _generate(qtbot, window, count=3, seed=2) == "succeeded"
    assert results.count() == 5 and results.group_count() == 2
    assert results.variations()[3:] == first                        # the earlier run is still there, below
    assert [v.seed for v in results.latest()] == [2, 2, 2]
    assert results.currentRow() == 0 and window.canvas.piece == results.variation(0).piece  # the newest previewed
    headers = results.headers()
    assert len(headers) == 2 and "3 results, seed 2" in headers[0] and "2 results, seed 1" in headers[1]
    assert results.item(0).data(HEADER_ROLE) == headers[0] and results.item(3).data(HEADER_ROLE) == headers[1]
    assert results.visualItemRect(results.item(0)).height() > results.visualItemRect(results.item(1)).height()
    assert window.use_variation(4)                                  # an earlier run's result can still be used
    assert window.document.piece == first[1].piece
    window.panel.clear_button.click()
    assert results.count() == 0 and not window.canvas.read_only


def test_earlier_runs_drag_out_under_their_own_names(window, qtbot):
    assert _generate(qtbot, window, count=1, seed=1) == "succeeded"
    assert _generate(qtbot, window, count=1, seed=2) == "succeeded"
    results = window.panel.results
    newest, oldest = results.write_midi_file(0), results.write_midi_file(1)
    assert newest != oldest and newest.name == "run2_Variation_1.mid" and oldest.name == "Variation_1.mid"


def test_harmony_runs_join_the_history(harmony_window, qtbot):
    window = harmony_window
    assert _generate(qtbot, window, count=1, seed=1) == "succeeded"
    window.panel.harmony_box.count_spin.setValue(1)
    window.panel.harmony_box.bars_spin.setValue(1)
    assert _run(qtbot, window, window.new_chorale) == "succeeded"
    results = window.panel.results
    assert results.group_count() == 2 and results.headers()[0].startswith("Chorale: 1 result")
    assert len(results.variation(0).piece.voices) == 4 and results.variation(1).label == "Variation 1"


def test_the_oldest_runs_go_beyond_the_limit(qtbot, monkeypatch):
    from composer.music.notes import Note, Piece

    monkeypatch.setattr(results_list, "MAX_GROUPS", 3)
    results = VariationList()
    qtbot.addWidget(results)
    piece = Piece(notes=(Note(0, 12, 60),), ticks_per_beat=12)
    for run in range(5):
        results.add_group([Variation(piece, f"Run {run} result {i + 1}", piece.end, seed=run) for i in range(2)])
    assert results.group_count() == 3 and results.count() == 6
    assert [v.seed for v in results.variations()] == [4, 4, 3, 3, 2, 2]


def test_a_pinned_result_stays_on_top_of_later_runs_and_through_clear(window, qtbot):
    results = window.panel.results
    assert _generate(qtbot, window, count=2, seed=1) == "succeeded"
    results.set_pinned([1])
    kept = results.variation(0)
    assert kept.label == "Variation 2" and results.is_pinned(0)
    assert _generate(qtbot, window, count=2, seed=2) == "succeeded"
    assert results.variation(0) is kept and results.headers()[0] == "Pinned: 1 result"
    assert results.currentRow() == 1 and window.canvas.piece == results.variation(1).piece   # the new run's first
    assert [v.seed for v in results.latest()] == [2, 2]
    window.panel.clear_button.click()
    assert results.variations() == [kept]
