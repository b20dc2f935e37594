"""Shared pieces of the notation tests: small hand-made pieces, real files from the bundled corpora, and helpers
that read scores back with independent parsers (music21, MuseScore)."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice, quantize
from tests.waiting import scaled

REPO_ROOT = Path(__file__).resolve().parents[2]
CHORALE = REPO_ROOT / "midi_data" / "bach_chorales_satb" / "bwv250.mid"
PICKUP_TUNE = REPO_ROOT / "midi_data" / "folk_melodies" / "airdsAirs" / "book1_0003.mid"   # 6/8 with a pickup
JIG_ABC = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=100
K:G
D|"G"GAB "D7"d2e|"C"c2A "G/B"B2G|(3ABc d ^c2=c|"G"B3-B2:|
"""


def music21_notes(score) -> list[tuple[int, Fraction, Fraction, int]]:
    """(part, onset, length in quarters, MIDI pitch) of every sounding note of a music21 score, ties joined."""
    from music21 import harmony

    notes = []
    for index, part in enumerate(score.parts):
        for element in part.stripTies().flatten().notes:
            if isinstance(element, harmony.ChordSymbol):
                continue
            notes += [(index, Fraction(element.offset), Fraction(element.quarterLength), p.midi)
                      for p in element.pitches]
    return sorted(notes)


def piece_notes(piece: Piece, grid: int = 12) -> list[tuple[int, Fraction, Fraction, int]]:
    """The same tuples for a piece (on the score grid, voices numbered in order of the parts that have notes)."""
    piece = quantize(piece, grid)
    used = sorted({n.voice for n in piece.notes})
    return sorted((used.index(n.voice), Fraction(n.start, grid), Fraction(n.end - n.start, grid), n.pitch)
                  for n in piece.notes)


def parse_musicxml(path: Path):
    """The score music21 reads from a MusicXML file."""
    from music21 import converter

    return converter.parse(str(path), format="musicxml", forceSource=True)


def small_piece(**changes) -> Piece:
    """A two-bar 4/4 melody in F with a note tied over the bar line, an F# and a B natural (12 ticks per beat)."""
    notes = (Note(0, 12, 65), Note(12, 24, 66), Note(24, 36, 71), Note(36, 60, 70),   # Bb held into bar 2
             Note(60, 72, 69), Note(72, 96, 65))
    fields = dict(notes=notes, ticks_per_beat=12, voices=(Voice("Flute"),), tempos=(TempoChange(0, 96.0),),
                  time_signatures=(TimeSignature(0, 4, 4),), key="F", name="small")
    fields.update(changes)
    return Piece(**fields)


def mscore() -> str | None:
    """MuseScore's command (mscore3 or mscore), or None when it is not installed."""
    return shutil.which("mscore3") or shutil.which("mscore")


def musescore_convert(score: Path, out: Path) -> subprocess.CompletedProcess:
    """Have MuseScore load ``score`` and write ``out`` (its format by suffix), headless (xvfb-run when there)."""
    command = [mscore(), "-o", str(out), str(score)]
    if shutil.which("xvfb-run"):
        command = ["xvfb-run", "-a", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=scaled(300),
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(out.parent)})


needs_musescore = pytest.mark.skipif(mscore() is None, reason="MuseScore is not installed (apt-get install musescore3)")
