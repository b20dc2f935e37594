"""Autosave inside one process: what is written, when a restore is offered, and what it restores."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from composer.core import locks
from composer.music.midi_io import read_midi
from gui.autosave import Autosaver, piece_from_dict, piece_to_dict
from gui.commands import with_notes_removed


def test_piece_round_trips_exactly_through_the_autosave_record(chorale_file):
    piece = read_midi(chorale_file)
    assert piece_from_dict(json.loads(json.dumps(piece_to_dict(piece)))) == piece


def test_an_edit_is_autosaved_and_offered_to_the_next_session(window_factory, folk_file, qtbot, tmp_path):
    first = window_factory()
    first.open_file(folk_file)
    edited = with_notes_removed(first.document.piece, [first.document.piece.notes[3]])
    with qtbot.waitSignal(first.autosaver.saved, timeout=5000):
        first.document.apply(edited, "Delete note")
    # A second app starting now (the first never closed: as after a crash, whose lock the system drops) is
    # offered the piece.
    locks.release(first.autosaver.path)
    second = window_factory()
    assert second.pending_restore is not None
    assert second.pending_restore["source"] == str(folk_file)
    assert second.restore_autosave()
    assert second.document.piece == edited
    assert second.document.dirty and second.document.path == folk_file
    assert second.isWindowModified()


def test_opening_alone_does_not_autosave_and_saving_clears_it(window, folk_file, qtbot, tmp_path):
    window.open_file(folk_file)
    qtbot.wait(100)
    assert not window.autosaver.path.exists()              # nothing unsaved yet
    with qtbot.waitSignal(window.autosaver.saved, timeout=5000):
        window.document.apply(with_notes_removed(window.document.piece, [window.document.piece.notes[0]]), "Delete")
    assert window.autosaver.path.exists()
    window.save_to(tmp_path / "saved.mid")
    assert not window.autosaver.path.exists()


def test_a_clean_exit_leaves_nothing_to_restore(window_factory, folk_file, qtbot):
    first = window_factory()
    first.open_file(folk_file)
    with qtbot.waitSignal(first.autosaver.saved, timeout=5000):
        first.document.apply(with_notes_removed(first.document.piece, [first.document.piece.notes[0]]), "Delete")
    first.close()                                           # the user chose not to save: a clean exit
    assert window_factory().pending_restore is None


def test_declining_discards_the_autosave(window_factory, folk_file, qtbot):
    first = window_factory()
    first.open_file(folk_file)
    with qtbot.waitSignal(first.autosaver.saved, timeout=5000):
        first.document.apply(with_notes_removed(first.document.piece, [first.document.piece.notes[0]]), "Delete")
    locks.release(first.autosaver.path)                    # as after a crash
    second = window_factory()
    assert second.pending_restore is not None
    second.decline_restore()
    assert second.pending_restore is None and not first.autosaver.path.exists()


def test_an_autosave_owned_by_another_live_app_is_not_offered(tmp_path, qapp, folk_file):
    import subprocess
    import sys

    saver = Autosaver(tmp_path)
    saver.schedule(read_midi(folk_file), None)
    saver.flush()
    locks.release(saver.path)                               # as if this app were gone...
    holder = ("import sys, time\nfrom composer.core import locks\nlocks.hold(sys.argv[1])\nprint('HELD', flush=True)\n"
              "time.sleep(60)")
    other = subprocess.Popen([sys.executable, "-c", holder, str(saver.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "HELD"    # ...but another live app holds the slot
        assert Autosaver(tmp_path).orphans() == []
    finally:
        other.kill()
        other.wait()
    assert saver.path.is_file()                             # untouched while its owner lived
    assert len(Autosaver(tmp_path).orphans()) == 1          # now it is gone: offer it
    saver.path.write_text("{damaged")
    assert Autosaver(tmp_path).orphans() == []              # unreadable: nothing offered, no crash
