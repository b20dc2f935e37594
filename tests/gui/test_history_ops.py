"""Issue 16, the results history: pin (on top, with a mark, through Clear and New), rename (in place with F2; the
name is the file name on export and drag, and the piece's name once used), compare two results (overlaid, A and B
in their own colours, A/B switching of what is heard), export all (N files, never over an existing one) and drag
any result out. Driven on the real window, with real folk tunes and chorales from ``midi_data/`` as results."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from composer.music.midi_io import read_midi
from gui import results_list
from gui.results_list import Variation
from gui.roll_grid import voice_colour
from gui.voice_mix import SOLO
from tests.gui.qt_mouse import drag
from tests.gui.recording_player import RecordingPlayer

FOLK = Path(__file__).resolve().parents[2] / "midi_data" / "folk_melodies" / "ryansMammoth"
TUNES = ("SoldiersJoy_0000.mid", "FishersHornpipe_0000.mid", "IrishWashWomanJig_0000.mid",
         "HasteToTheWeddingJig_0000.mid", "GarryOwenJig_0000.mid")


def tune_results(names: tuple[str, ...], seed: int) -> list[Variation]:
    """Real folk tunes as a run's results."""
    pieces = [read_midi(FOLK / name) for name in names]
    return [Variation(piece, f"Variation {i + 1}", piece.end, seed=seed) for i, piece in enumerate(pieces)]


def two_runs(window) -> list[Variation]:
    """A run of two results, then a run of three (rows 0-2 the newer, 3-4 the older)."""
    window.panel.show_results(tune_results(TUNES[:2], seed=1))
    window.panel.show_results(tune_results(TUNES[2:], seed=2))
    return window.panel.results.variations()


def test_a_pinned_result_sorts_on_top_with_a_mark_and_survives_clear_and_new(window, qtbot):
    results = window.panel.results
    older = two_runs(window)[4]                                  # the first run's second result
    results.setCurrentRow(4)
    window.history.toggle_pin()
    assert results.variation(0) is older and results.is_pinned(0) and not results.item(0).icon().isNull()
    assert results.headers()[0] == "Pinned: 1 result" and "3 results, seed 2" in results.headers()[1]
    assert results.currentRow() == 0 and window.canvas.piece == older.piece   # still the one previewed
    assert results.item(1).icon().isNull()                       # no mark on the others
    window.panel.clear_button.click()
    assert results.count() == 1 and results.variation(0) is older and not window.canvas.read_only
    window.panel.show_results(tune_results(TUNES[:1], seed=3))   # a new run goes below the pinned result...
    assert results.newest_row() == 1 and results.currentRow() == 1 and results.variation(1).seed == 3
    assert window.canvas.piece == results.variation(1).piece     # ...and its first result is the one previewed
    assert [v.seed for v in results.latest()] == [3]
    window.new_piece_dialog()                                     # New clears the results, not the pinned one
    assert results.count() == 1 and results.variation(0) is older
    results.setCurrentRow(0)
    assert window.history.menu() and window.history.pin_action.text() == "Un&pin"
    results.setFocus()
    qtbot.keyClick(results, Qt.Key_P, Qt.ControlModifier)         # Ctrl+P in the list: unpin
    assert not results.is_pinned(0) and results.headers()[0].startswith("Variation: 2 results, seed 1")  # its run's
    window.panel.clear_button.click()
    assert results.count() == 0


def test_pinned_results_outlive_the_run_limit(window, monkeypatch):
    monkeypatch.setattr(results_list, "MAX_GROUPS", 2)
    results = window.panel.results
    window.panel.show_results(tune_results(TUNES[:2], seed=0))
    results.set_pinned([1])                                       # the first run's second result
    pinned = results.variation(0)
    for seed in (1, 2, 3):
        window.panel.show_results(tune_results(TUNES[2:4], seed=seed))
    assert results.variation(0) is pinned and results.is_pinned(0)
    assert [v.seed for v in results.variations()] == [0, 3, 3, 2, 2]


def test_rename_in_place_with_f2_names_the_file_and_the_piece(window, qtbot, tmp_path):
    results = window.panel.results
    two_runs(window)
    results.setFocus()
    results.setCurrentRow(3)                                      # the older run's first result
    assert results.file_stem(3) == "Variation_1"
    qtbot.keyClick(results, Qt.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == "Variation 1"   # the name alone, no note count
    editor.setText("Morning  tune ")
    qtbot.keyClick(editor, Qt.Key_Return)                         # the delegate commits on the next event loop pass
    qtbot.waitUntil(lambda: results.variation(3).label != "Variation 1")
    assert results.variation(3).label == "Morning tune" and results.item(3).text().startswith("Morning tune  (")
    assert "Previewing Morning tune" in window.preview_banner.text()
    assert results.write_midi_file(3).name == "Morning_tune.mid"  # dragged out under its name, without run prefix
    assert [p.name for p in window.history.export_to([3], tmp_path)] == ["Morning_tune.mid"]
    assert not results.rename(3, "   ") and results.variation(3).label == "Morning tune"
    window.history.rename_current()                               # the menu's Rename edits in place too
    assert isinstance(QApplication.focusWidget(), QLineEdit)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Escape)
    assert window.use_variation(3)
    assert window.document.title == "Morning tune" and window.files.save_as_start().name == "Morning tune.mid"


def test_compare_overlays_two_results_in_their_own_colours_and_switches_what_is_heard(window_factory):
    player = RecordingPlayer()
    window = window_factory(player=player)
    results, view = window.panel.results, window.results
    variations = two_runs(window)
    a, b = variations[0], variations[3]
    results.setCurrentRow(0)
    results.item(3).setSelected(True)                             # Ctrl+click a second one
    assert results.selected_rows() == [0, 3]
    window.history.menu()
    assert window.history.compare_action.isEnabled()
    window.history.compare_action.trigger()
    shown = window.canvas.piece
    assert view.comparing == (a, b) and window.canvas.read_only
    assert [n for n in shown.notes if n.voice == 0] == list(a.piece.notes)
    assert len([n for n in shown.notes if n.voice == 1]) == len(b.piece.notes)
    legend = window.voice_legend
    assert [(swatch.styleSheet().split(";")[0], label.text()) for swatch, label in legend.swatches.values()] == [
        (f"background:{voice_colour(0).name()}", "A"), (f"background:{voice_colour(1).name()}", "B")]
    assert "Comparing" in window.preview_banner.text() and window.preview_banner.isVisible()
    window.results.audition()
    assert {n.voice for n in player.calls[-1][0].notes} == {0, 1}     # both heard
    window.preview_banner.linkActivated.emit("b")                 # the banner's "B" link
    assert legend.mix.soloed == {1} and {n.voice for n in player.calls[-1][0].notes} == {1}
    assert legend.buttons[SOLO, 1].isChecked()                    # the legend shows the solo
    menu = window.history.show_menu(QPoint(4, 4))                 # the context menu offers the switch too
    hear = next(action.menu() for action in menu.actions() if action.text() == "&Hear")
    next(action for action in hear.actions() if action.text() == "A only").trigger()
    menu.close()
    assert legend.mix.soloed == {0} and {n.voice for n in player.calls[-1][0].notes} == {0}
    window.stop()
    results.setCurrentRow(1)                                      # another result: the comparison ends
    assert view.comparing is None and legend.mix.soloed == frozenset()
    assert window.canvas.piece == results.variation(1).piece


def test_compare_two_four_part_results_keeps_each_ones_voices(window, chorale_file):
    chorale = read_midi(chorale_file)
    tune = read_midi(FOLK / TUNES[0])
    window.panel.show_results([Variation(chorale, "Chorale 1", chorale.end), Variation(tune, "Tune", tune.end)])
    assert window.results.compare([0, 1])
    shown = window.canvas.piece
    assert len(shown.voices) == 5 and shown.voices[0].name == "A: Soprano" and shown.voices[4].name == "B"
    assert {n.voice for n in shown.notes} == {0, 1, 2, 3, 4}
    assert not window.results.compare([0])                        # two are needed
    window.panel.back_button.click()
    assert not window.canvas.read_only and window.results.comparing is None


def test_compare_shows_the_chords_of_the_result_heard(window):
    from composer.music.chords import ChordSpan, parse_chord

    tune_a, tune_b = (read_midi(FOLK / name) for name in TUNES[:2])
    bar = tune_a.ticks_per_bar
    a = Variation(tune_a, "A tune", 0, chord_spans=(ChordSpan(0, bar, parse_chord("G")),))
    b = Variation(tune_b, "B tune", 0, chord_spans=(ChordSpan(0, bar, parse_chord("Em")),))
    window.panel.show_results([a, b])
    assert window.results.compare([0, 1])
    lane = window.piano_roll.chord_lane
    assert [c.symbol for c in lane.chords] == ["G"] and "Chords: A's." in window.preview_banner.text()
    window.results.hear("b")
    assert [c.symbol for c in lane.chords] == ["Em"] and "Chords: B's." in window.preview_banner.text()
    window.results.hear("both")
    assert [c.symbol for c in lane.chords] == ["G"] and "Chords: A's." in window.preview_banner.text()


def test_export_all_writes_every_result_and_never_overwrites(window, tmp_path, monkeypatch):
    results = window.panel.results
    variations = two_runs(window)
    folder = tmp_path / "export"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder))
    window.history.export_all_action.trigger()                    # the menu's Export all, its folder dialog answered
    first = sorted(folder.glob("*.mid"))
    assert len(first) == results.count() == 5
    assert sorted(p.name for p in first) == sorted(["run2_Variation_1.mid", "run2_Variation_2.mid",
                                                    "run2_Variation_3.mid", "Variation_1.mid", "Variation_2.mid"])
    written = {p.name: len(read_midi(p).notes) for p in first}
    assert written["Variation_1.mid"] == len(variations[3].piece.notes)
    (folder / "Variation_1.mid").write_bytes(b"mine")             # a file of the user's, by the same name
    again = window.history.export_all_to(folder)
    assert len(again) == 5 and len(list(folder.glob("*.mid"))) == 10
    assert (folder / "Variation_1.mid").read_bytes() == b"mine"   # never written over: the new file is numbered
    assert folder / "Variation_1_2.mid" in again and not any(p in first for p in again)
    results.setCurrentRow(1)
    results.item(4).setSelected(True)
    selected = window.history.export_to(results.selected_rows(), tmp_path / "two")
    assert [p.name for p in selected] == ["run2_Variation_2.mid", "Variation_2.mid"]
    assert window.settings.last_save_folder() == str(tmp_path / "two")


def test_export_refuses_the_installation(window, folk_file):
    two_runs(window)
    assert window.history.export_all_to(folk_file.parent) == []
    assert "Cannot export" in window.last_message


@pytest.mark.parametrize("row", [0, 2, 4])
def test_any_result_drags_out_not_only_the_current_one(window, monkeypatch, row):
    results = window.panel.results
    variations = two_runs(window)
    results.setCurrentRow(0)
    dragged = []
    monkeypatch.setattr(QDrag, "exec", lambda drag_self, *args: dragged.append(drag_self.mimeData().urls()) or 0)
    rect = results.visualItemRect(results.item(row))
    start = QPoint(rect.center().x(), rect.bottom() - 3)
    drag(results.viewport(), start, start + QPoint(60, 0))
    assert len(dragged) == 1 and len(dragged[0]) == 1
    path = Path(dragged[0][0].toLocalFile())
    assert path.is_file() and len(read_midi(path).notes) == len(variations[row].piece.notes)


def test_several_selected_results_drag_out_as_several_files_even_under_one_name(window):
    results = window.panel.results
    two_runs(window)
    results.rename(0, "Tune")
    results.rename(1, "Tune")
    data = results.mimeData([results.item(row) for row in range(results.count())])
    paths = [Path(url.toLocalFile()) for url in data.urls()]
    assert len(set(paths)) == 5 and paths[0].name == "Tune.mid" and paths[1].name == "Tune_2.mid"
    assert all(path.is_file() for path in paths)

