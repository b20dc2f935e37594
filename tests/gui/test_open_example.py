"""Issue 16, "Open example": File > Open Example lists bundled pieces of ``midi_data/`` and opens an untitled COPY
(so Ctrl+S asks where to save, and the bundled file is never written). Driven through the real window's menu; the
save dialog is replaced by a function that records the file it offers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from composer.music.midi_io import read_midi
from composer.shipped import MIDI_DATA
from gui.examples import EXAMPLES, available_examples
from gui.files import save_folder


def file_menu_entries(window) -> list[str]:
    file_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&File")
    return [action.text() for action in file_menu.actions()]


def example_action(window, title: str):
    return next(action for action in window.examples.menu.actions() if action.text() == title)


def test_every_listed_example_is_bundled_and_readable():
    assert available_examples() == list(EXAMPLES)          # a source checkout has them all
    kinds = {example.kind for example in EXAMPLES}
    assert kinds == {"folk", "chorale"}
    for example in EXAMPLES:
        piece = read_midi(example.path)
        assert piece.notes and example.path.resolve().is_relative_to(MIDI_DATA.resolve())
        assert len(piece.voices) == (4 if example.kind == "chorale" else 1)


def test_open_example_opens_an_untitled_copy_and_ctrl_s_asks_where(window, tmp_path, monkeypatch):
    assert "Open E&xample" in file_menu_entries(window)
    titles = [action.text() for action in window.examples.menu.actions()]
    assert "Soldier's Joy" in titles and "Ein feste Burg ist unser Gott (BWV 80.8)" in titles
    chorale = next(example for example in EXAMPLES if example.title.startswith("Ein feste Burg"))
    before = chorale.path.read_bytes()
    window.voice_legend.mix.set("mute", 1, True)            # the previous piece's mix does not carry over
    example_action(window, chorale.title).trigger()
    document = window.document
    assert document.path is None and not document.dirty     # a copy: no file of its own
    assert document.title == chorale.title and "Ein feste Burg" in window.windowTitle()
    assert document.piece.notes == read_midi(chorale.path).notes and len(document.piece.voices) == 4
    assert window.canvas.piece is document.piece and window.voice_legend.mix.muted == frozenset()
    assert str(chorale.path) not in window.settings.recent_files()
    offered = []

    def save_dialog(_parent, _caption, start, _filter, *args, **kwargs):
        offered.append(Path(start))
        return str(tmp_path / "my_chorale.mid"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    piece = document.piece
    document.apply(piece.replace(notes=piece.notes[1:]), "Delete note")
    expected = save_folder(window.settings) / f"{chorale.title}.mid"   # the user's folder, not midi_data/
    window.save_action.trigger()                              # Ctrl+S
    assert offered == [expected]
    assert document.path == tmp_path / "my_chorale.mid" and not document.dirty
    assert len(read_midi(tmp_path / "my_chorale.mid").notes) == len(piece.notes) - 1
    assert chorale.path.read_bytes() == before                # the bundled file is untouched


def test_browse_all_examples_opens_any_bundled_file_as_a_copy(window, folk_file, monkeypatch):
    started = []

    def open_dialog(_parent, _caption, start, _filter, *args, **kwargs):
        started.append(Path(start))
        return str(folk_file), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_dialog)
    next(action for action in window.examples.menu.actions() if action.text().startswith("&Browse")).trigger()
    assert started and started[0].resolve().is_relative_to(MIDI_DATA.resolve())
    assert window.document.path is None and window.document.title == folk_file.stem
    assert window.document.piece.notes == read_midi(folk_file).notes


def test_a_bad_example_file_changes_nothing(window, tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"not a midi file")
    piece = window.document.piece
    assert not window.examples.open_example(bad, "Broken")
    assert window.document.piece is piece and "Cannot" not in window.windowTitle()
