"""The loop region on the ruler (gui/piano_roll.py, gui/loop_region.py, gui/transport.py), on the real window.

A drag on the ruler sets the region; with Loop on, playback loops it: the real Player, silent (no audio device)
on a clock the test moves, wraps its playhead inside the region; the MIDI output path is given only the region's
notes. Double-click the ruler (or Play > Clear loop region) to clear it.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QKeySequence, QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from composer.music.notes import Note  # noqa: E402
from gui import midi_ports  # noqa: E402
from gui.loop_region import build_take, cut  # noqa: E402
from gui.playback import Player, loop_end_tick  # noqa: E402
from qt_mouse import drag  # noqa: E402
from recording_player import RecordingPlayer  # noqa: E402


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class NoDevice:
    """An audio output that is not there: the Player plays silently, its playhead on the clock."""

    def available(self) -> tuple[bool, str]:
        return False, "No audio output device: playback is off."


def _four_bars(window) -> list[Note]:
    """One note per beat for four 4/4 bars (pitches 60..75)."""
    piece = window.document.piece
    tpb = piece.ticks_per_beat
    notes = [Note(i * tpb, (i + 1) * tpb, 60 + i) for i in range(16)]
    window.document.apply(piece.replace(notes=tuple(notes)), "Draw notes")
    return notes


def _ruler_point(canvas, tick: int) -> QPoint:
    point = canvas.point_at(tick, 60)
    point.setY(canvas.visibleRegion().boundingRect().top() + 5)
    return point


def test_a_ruler_drag_sets_the_region_and_looped_playback_wraps_inside_it(window_factory):
    clock = FakeClock()
    player = Player(output=NoDevice(), clock=clock, visual_fallback=True)
    window = window_factory(player=player)
    _four_bars(window)
    canvas, piece = window.canvas, window.document.piece
    bar = piece.ticks_per_bar
    steps = window.document.undo_stack.count()
    drag(canvas, _ruler_point(canvas, bar + 20), _ruler_point(canvas, 2 * bar + 10))
    assert canvas.loop.region == (bar, 2 * bar)                    # snapped to the grid
    assert canvas.play_start == bar and window.document.undo_stack.count() == steps   # view state, not an edit
    window.loop_action.setChecked(True)
    window.play_action.trigger()
    assert player.is_playing()
    seconds_per_bar = 4 * 60 / piece.qpm
    clock.now += 0.5 * seconds_per_bar                              # half way through the region
    player.update_position()
    assert canvas.playhead == bar + bar // 2
    clock.now += 0.75 * seconds_per_bar                             # past its end: back at its start, plus a quarter
    player.update_position()
    assert canvas.playhead == bar + bar // 4
    for _ in range(5):                                              # on and on, never outside the region
        clock.now += 0.4 * seconds_per_bar
        player.update_position()
        assert bar <= canvas.playhead < 2 * bar
    assert player.is_playing()
    window.stop()


def test_the_outputs_get_only_the_regions_notes_and_a_loop_as_long_as_the_region(window_factory):
    midi_out = RecordingPlayer()
    window = window_factory(player=RecordingPlayer(), midi_out=midi_out)
    notes = _four_bars(window)
    window.set_output_port("Fake synth")
    canvas = window.canvas
    bar = window.document.piece.ticks_per_bar
    tpb = window.document.piece.ticks_per_beat
    canvas.loop.set_region((bar + tpb, 3 * bar))                   # a region that is not whole bars: 7 beats
    window.loop_action.setChecked(True)
    window.play_action.trigger()
    take_piece, port, start, loop, tempo = midi_out.calls[-1]
    assert (port, start, loop, tempo) == ("Fake synth", 0, True, 1.0)
    assert loop_end_tick(take_piece) == 7 * tpb                     # the players wrap exactly at the region's end
    played = [m.note for _, m in midi_ports.schedule(take_piece) if m.type == "note_on"]
    assert played == [n.pitch for n in notes if bar + tpb <= n.start < 3 * bar]
    midi_out.positionChanged.emit(2 * tpb)                          # the take's tick 2 beats: the piece's
    assert canvas.playhead == bar + 3 * tpb


def test_loop_off_keeps_the_region_but_plays_on_and_a_double_click_clears_it(window_factory):
    player = RecordingPlayer()
    window = window_factory(player=player)
    _four_bars(window)
    canvas, piece = window.canvas, window.document.piece
    bar = piece.ticks_per_bar
    canvas.loop.set_region((bar, 2 * bar))
    canvas.set_play_start(0)
    window.play_action.trigger()                                    # Loop off: the whole piece, from the marker
    assert player.calls[-1] == (piece, 0, False, 1.0)
    window.stop()
    window.loop_action.setChecked(True)
    point = QPointF(_ruler_point(canvas, bar + bar // 2))
    for kind in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease, QEvent.MouseButtonDblClick,
                 QEvent.MouseButtonRelease):
        buttons = Qt.LeftButton if kind != QEvent.MouseButtonRelease else Qt.NoButton
        QApplication.sendEvent(canvas, QMouseEvent(kind, point, canvas.mapToGlobal(point), Qt.LeftButton, buttons,
                                                   Qt.NoModifier))
    assert canvas.loop.region is None and not window.transport.clear_loop_action.isEnabled()
    window.play_action.trigger()                                    # no region: the whole piece loops
    assert player.calls[-1] == (piece, canvas.play_start, True, 1.0)


def test_changing_the_region_while_looping_plays_the_new_one_and_clear_is_in_the_play_menu(window_factory, qtbot):
    player = RecordingPlayer()
    window = window_factory(player=player)
    _four_bars(window)
    canvas = window.canvas
    bar = window.document.piece.ticks_per_bar
    window.loop_action.setChecked(True)
    canvas.loop.set_region((0, bar))
    window.play_action.trigger()
    assert loop_end_tick(player.calls[-1][0]) == bar
    player.positionChanged.emit(bar // 2)
    canvas.loop.set_region((0, 2 * bar))                            # a new region while playing: played at once
    assert loop_end_tick(player.calls[-1][0]) == 2 * bar and player.calls[-1][1] == bar // 2
    play_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Play")
    assert window.transport.clear_loop_action in play_menu.actions()
    window.transport.clear_loop_action.trigger()
    assert canvas.loop.region is None
    assert QKeySequence("L") in window.loop_action.shortcuts()
    window.activateWindow()
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus, timeout=5000)
    QTest.keyClick(canvas, Qt.Key_L)                                 # L toggles Loop, as in many DAWs
    assert not window.loop_action.isChecked()


def test_cut_moves_the_tempo_at_the_region_start_to_tick_zero_and_cuts_notes_at_the_edges(window_factory):
    window = window_factory()
    piece = window.document.piece
    tpb = piece.ticks_per_beat
    from composer.music.notes import TempoChange

    piece = piece.replace(notes=(Note(0, 3 * tpb, 60), Note(2 * tpb, 6 * tpb, 62)),
                          tempos=(TempoChange(0, 100.0), TempoChange(tpb, 140.0), TempoChange(5 * tpb, 90.0)))
    part = cut(piece, 2 * tpb, 4 * tpb)
    assert [(n.start, n.end, n.pitch) for n in part.notes] == [(0, tpb, 60), (0, 2 * tpb, 62)]
    assert [(t.tick, t.qpm) for t in part.tempos] == [(0, 140.0)]
    take = build_take(piece, 3 * tpb, loop=True, region=(2 * tpb, 4 * tpb))
    assert (take.start, take.offset, take.canvas_tick(tpb // 2)) == (tpb, 2 * tpb, 2 * tpb + tpb // 2)


def test_the_region_is_kept_through_edits_and_saves_and_cleared_by_new_and_open(window_factory, tmp_path, folk_file):
    window = window_factory()
    _four_bars(window)
    canvas = window.canvas
    bar = window.document.piece.ticks_per_bar
    canvas.loop.set_region((0, bar))
    window.document.apply(window.document.piece.replace(notes=window.document.piece.notes[:4]), "Delete notes")
    assert window.save_to(tmp_path / "piece.mid")
    assert canvas.loop.region == (0, bar)
    window.new_piece_dialog()
    assert canvas.loop.region is None
    canvas.loop.set_region((0, bar))
    assert window.open_file(folk_file)
    assert canvas.loop.region is None


def test_right_clicking_the_ruler_offers_clear_loop_region(window_factory):
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QMenu

    window = window_factory()
    _four_bars(window)
    canvas = window.canvas
    bar = window.document.piece.ticks_per_bar
    point = _ruler_point(canvas, bar // 2)
    QApplication.sendEvent(canvas, QContextMenuEvent(QContextMenuEvent.Mouse, point, canvas.mapToGlobal(point)))
    assert not [m for m in canvas.findChildren(QMenu) if m.isVisible()]   # no region: no menu
    canvas.loop.set_region((0, bar))
    QApplication.sendEvent(canvas, QContextMenuEvent(QContextMenuEvent.Mouse, point, canvas.mapToGlobal(point)))
    menu = next(m for m in canvas.findChildren(QMenu) if m.isVisible())
    assert menu.actions() == [window.transport.clear_loop_action]
    menu.actions()[0].trigger()
    menu.close()
    assert canvas.loop.region is None


class TakeOutput:
    """Stands in for a sound card: keeps the WAV file the real Player was asked to loop; the test sets what is
    heard."""

    def __init__(self) -> None:
        self.wav_path, self.start_seconds, self.loop, self.heard = None, -1.0, None, None

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, wav_path: str, start_seconds: float, loop: bool) -> str | None:
        self.wav_path, self.start_seconds, self.loop, self.heard = wav_path, start_seconds, loop, start_seconds
        return None

    def position(self) -> float | None:
        return self.heard

    def finished(self) -> bool:
        return False

    def error(self) -> str | None:
        return None

    def stop(self) -> None:
        pass


def test_the_built_in_synth_loops_a_take_exactly_as_long_as_the_region(window_factory, qtbot):
    import wave

    output = TakeOutput()
    player = Player(output=output)
    window = window_factory(player=player)
    _four_bars(window)
    canvas, piece = window.canvas, window.document.piece
    tpb = piece.ticks_per_beat
    canvas.loop.set_region((piece.ticks_per_bar, piece.ticks_per_bar + 3 * tpb))   # three beats: 1.5 s at 120 qpm
    canvas.set_play_start(piece.ticks_per_bar + tpb)
    window.loop_action.setChecked(True)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: output.wav_path is not None, timeout=60_000)   # rendered on its thread
    with wave.open(output.wav_path, "rb") as handle:
        frames, rate = handle.getnframes(), handle.getframerate()
    assert output.loop is True and frames == round(1.5 * rate)              # the file the output loops
    assert output.start_seconds == pytest.approx(0.5)                      # from the marker, a beat in
    output.heard = 1.75                                                    # past the end: heard from the top
    player.update_position()
    assert canvas.playhead == piece.ticks_per_bar + tpb // 2
    window.stop()
