"""Issue 16, defects 4 and 5: the piano roll fills its view and the window fits the screen.

- The roll is never narrower than its view: after opening a file before the window is shown (as the
  command line does), after New, after "Back to my piece", after a resize. New also resets the zoom and
  clears the results, and the empty-piece hint is laid out inside the visible view.
- The first window fits the screen's available area (at most 90 % of it), and the Compose panel stays
  reachable on a small screen (it scrolls, at its full width).

Real files from ``midi_data/``, the tiny melody model of the conftest; no dialogs.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QRect, QRectF
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea

from gui.main_window import MainWindow
from gui.roll_grid import KEY_WIDTH, MAX_ZOOM, MIN_ZOOM
from gui.roll_painter import RollPainter
from gui.settings import settings_at
from gui.window_fit import SCREEN_SHARE, fit_to_screen

from job_wait import JOB_TIMEOUT_MS


def _fills_the_view(window) -> bool:
    return window.canvas.width() >= window.piano_roll.viewport().width()


def _settle(qtbot) -> None:
    QApplication.processEvents()
    qtbot.wait(20)


# -- defect 4: the roll fills the view ---------------------------------------------------------------
def test_a_file_opened_before_the_window_shows_fills_the_roll(qtbot, tmp_path, tiny_melody_model, chorale_file):
    window = MainWindow(settings=settings_at(tmp_path / "settings.ini"), autosave_dir=tmp_path / "autosave",
                        model_folders=[tiny_melody_model.folder], user_models_dir=tmp_path / "models",
                        preload=False)
    window.ask_before_closing = False
    qtbot.addWidget(window)
    window.open_file(chorale_file)                     # what composer-gui FILE.mid does, before show()
    window.show()
    qtbot.waitExposed(window)
    _settle(qtbot)
    assert _fills_the_view(window)
    piece = window.document.piece                      # and the piece was fitted to the real width
    fitted = (window.piano_roll.viewport().width() - KEY_WIDTH - 16) / (piece.end / piece.ticks_per_beat * 40)
    assert window.canvas.zoom_x == pytest.approx(min(MAX_ZOOM, max(MIN_ZOOM, fitted)))


def test_new_and_back_to_my_piece_keep_the_roll_full_width(window, qtbot, chorale_file):
    window.open_file(chorale_file)                     # a long piece: zoomed out to fit
    _settle(qtbot)
    assert window.canvas.zoom_x < 1 and _fills_the_view(window)
    window.panel.count_spin.setValue(2)
    window.panel.bars_spin.setValue(2)
    with qtbot.waitSignal(window.jobFinished, timeout=JOB_TIMEOUT_MS):
        assert window.generate()
    assert window.canvas.read_only and _fills_the_view(window)   # a 2-bar result, zoomed in
    window.panel.back_button.click()
    assert not window.canvas.read_only and _fills_the_view(window)
    window.files.ask_before_closing = False
    window.new_action.trigger()
    _settle(qtbot)
    assert window.document.piece.notes == () and _fills_the_view(window)
    assert window.canvas.zoom_x == 1.0                             # New resets the zoom...
    assert window.panel.results.count() == 0                       # ...and clears the results
    window.resize(window.width() + 60, window.height())
    _settle(qtbot)
    assert _fills_the_view(window)


def test_the_empty_piece_hint_is_laid_out_in_the_visible_view(window, qtbot, chorale_file):
    window.open_file(chorale_file)
    window.piano_roll.zoom_out()
    window.piano_roll.zoom_out()
    window.new_action.trigger()
    window.piano_roll.horizontalScrollBar().setValue(window.piano_roll.horizontalScrollBar().maximum())
    _settle(qtbot)
    canvas = window.canvas
    visible = canvas.visibleRegion().boundingRect()
    hint = RollPainter(canvas).empty_hint_rect(visible)
    assert not hint.isEmpty() and QRectF(visible).contains(hint)


# -- defect 5: the window fits the screen --------------------------------------------------------------
def test_the_first_window_fits_the_available_screen(window):
    available = window.screen().availableGeometry()
    assert window.width() <= available.width() * SCREEN_SHARE + 1
    assert window.height() <= available.height() * SCREEN_SHARE + 1
    assert available.contains(window.geometry())


@pytest.mark.parametrize("available", [QRect(0, 0, 910, 512), QRect(0, 0, 1366, 768)])  # 1366x768 at 1.5x, at 1x
def test_the_compose_panel_stays_reachable_on_a_small_screen(window, qtbot, available):
    fit_to_screen(window, available)
    _settle(qtbot)
    assert window.width() <= available.width() * SCREEN_SHARE + 1
    assert window.height() <= available.height() * SCREEN_SHARE + 1
    assert available.contains(window.geometry())
    dock = window.findChild(QDockWidget, "compose_dock")
    assert dock.isVisible() and window.rect().contains(dock.geometry())
    scroll = dock.widget()
    assert isinstance(scroll, QScrollArea) and scroll.widget() is window.panel
    assert scroll.viewport().width() >= window.panel.minimumSizeHint().width()   # no sideways scrolling
    button = window.panel.generate_button                                          # every control reachable
    scroll.ensureWidgetVisible(window.panel.use_button)
    _settle(qtbot)
    top_left = window.panel.use_button.mapTo(scroll.viewport(), window.panel.use_button.rect().topLeft())
    assert scroll.viewport().rect().contains(top_left)
    assert button.isVisibleTo(window)
