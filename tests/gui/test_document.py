"""The document model: every edit is one undoable command; opening and restoring reset the history."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from composer.music.notes import Note, Piece, Voice
from gui.commands import with_notes_added, with_notes_removed, with_notes_replaced
from gui.document import Document, empty_piece


def _piece(*notes: Note) -> Piece:
    return Piece(notes=notes, ticks_per_beat=480, voices=(Voice("Melody"),))


def test_apply_undo_redo_and_dirty_flag(qapp):
    document = Document()
    changes = []
    document.pieceChanged.connect(changes.append)
    first = with_notes_added(document.piece, [Note(0, 480, 60)])
    document.apply(first, "Draw note")
    assert document.piece == first and document.dirty
    second = with_notes_added(first, [Note(480, 960, 62)])
    document.apply(second, "Draw note")
    document.undo_stack.undo()
    assert document.piece == first
    document.undo_stack.undo()
    assert document.piece == empty_piece() and not document.dirty
    document.undo_stack.redo()
    document.undo_stack.redo()
    assert document.piece == second
    assert changes == [first, second, first, empty_piece(), first, second]
    assert document.undo_stack.undoText() == "Draw note"


def test_applying_the_same_piece_adds_no_step(qapp):
    document = Document()
    document.apply(document.piece, "Nothing")
    assert document.undo_stack.count() == 0


def test_reset_clears_history_and_restored_piece_is_dirty(qapp, tmp_path):
    document = Document()
    document.apply(with_notes_added(document.piece, [Note(0, 480, 60)]), "Draw note")
    opened = _piece(Note(0, 240, 64))
    document.reset(opened, tmp_path / "a.mid")
    assert document.undo_stack.count() == 0 and not document.dirty
    assert document.path == tmp_path / "a.mid" and document.title == "a.mid"
    document.reset(opened, None, dirty=True)
    assert document.dirty
    document.mark_saved(tmp_path / "b.mid")
    assert not document.dirty and document.path == tmp_path / "b.mid"


def test_note_helpers_keep_other_notes_and_add_voices():
    a, b = Note(0, 480, 60), Note(480, 960, 62)
    piece = _piece(a, b)
    assert with_notes_removed(piece, [a]).notes == (b,)
    moved = Note(960, 1440, 65)
    assert with_notes_replaced(piece, [a], [moved]).notes == (b, moved)
    two_voices = with_notes_added(piece, [Note(0, 480, 48, voice=1)])
    assert len(two_voices.voices) == 2 and two_voices.voices[0] == piece.voices[0]
    with pytest.raises(ValueError):
        with_notes_removed(piece, [Note(5, 6, 7)])


def test_a_note_dropped_on_another_of_the_same_key_cuts_it():
    held = Note(0, 960, 60)
    piece = with_notes_added(_piece(held), [Note(480, 720, 60)])
    assert piece.notes == (Note(0, 480, 60), Note(480, 720, 60))
    assert with_notes_added(_piece(held), [Note(0, 240, 60)]).notes == (held,)   # same onset: the longer stays
