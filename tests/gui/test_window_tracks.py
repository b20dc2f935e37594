"""Choosing tracks when a file has several, and reopening files from the recent-files menu."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from composer.music.midi_io import read_midi
from gui.track_dialog import TrackDialog, track_labels


def test_track_dialog_lists_tracks_with_note_counts(qtbot, chorale_file):
    piece = read_midi(chorale_file)
    dialog = TrackDialog(piece, chorale_file.name)
    qtbot.addWidget(dialog)
    labels = track_labels(piece)
    assert len(labels) == 4
    for index, label in enumerate(labels):
        assert f"({len(piece.voice_notes(index))} notes" in label
    assert dialog.chosen() == [0]                          # the first track by default
    dialog.all_check.setChecked(True)
    assert dialog.chosen() == [0, 1, 2, 3]
    dialog.all_check.setChecked(False)
    assert dialog.chosen() == []


def test_open_asks_for_tracks_only_when_there_are_several(window, chorale_file, folk_file, monkeypatch):
    asked = []
    monkeypatch.setattr(window.files, "ask_tracks", lambda piece, name: asked.append(name) or [3, 0])
    assert window.open_file(folk_file, "ask") and asked == []
    assert window.open_file(chorale_file, "ask") and asked == [chorale_file.name]
    full = read_midi(chorale_file)
    assert window.document.piece.voices == (full.voices[3], full.voices[0])
    monkeypatch.setattr(window.files, "ask_tracks", lambda piece, name: [])   # cancelled
    before = window.document.piece
    assert not window.open_file(chorale_file, "ask")
    assert window.document.piece is before


def test_recent_files_menu_reopens_a_file(window, chorale_file, folk_file):
    window.open_file(chorale_file, voices=[0])
    window.open_file(folk_file)
    actions = window.recent_menu.actions()
    assert [a.text() for a in actions] == [folk_file.name, chorale_file.name]
    assert actions[1].toolTip() == str(chorale_file.resolve())
    window.files.ask_tracks = lambda piece, name: [1]
    actions[1].trigger()
    assert window.document.path == Path(str(chorale_file.resolve()))
    assert window.document.piece.voices == (read_midi(chorale_file).voices[1],)
    assert [a.text() for a in window.recent_menu.actions()] == [chorale_file.name, folk_file.name]
