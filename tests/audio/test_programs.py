"""Choosing instruments: VOICE=PROGRAM texts against real pieces (composer/audio/programs.py)."""

from __future__ import annotations

import pytest

from composer.audio.programs import (SATB_PROGRAM, ProgramError, parse_program, resolve_programs, sounding_program,
                                     with_programs)
from composer.music.notes import Note, Piece, Voice
from tests.audio.conftest import chorale


def test_programs_by_number_or_general_midi_name():
    assert parse_program("0") == 0 and parse_program("127") == 127
    assert parse_program("violin") == 40 and parse_program("Church Organ") == 19 and parse_program("FLUTE") == 73
    for bad, words in (("128", "0..127"), ("-1", "0..127"), ("viol", "Violin"), ("kazoo", "0..127")):
        with pytest.raises(ProgramError, match=words):
            parse_program(bad)


def test_voices_by_number_name_or_all_later_ones_winning():
    piece = chorale(1)   # Soprano, Alto, Tenor, Bass
    assert resolve_programs(piece, ["1=73"]) == {0: 73}
    assert resolve_programs(piece, ["bass=32", "ALTO=violin"]) == {3: 32, 1: 40}
    assert resolve_programs(piece, ["all=19", "soprano=73"]) == {0: 73, 1: 19, 2: 19, 3: 19}
    assert [v.program for v in with_programs(piece, {2: 42}).voices] == [0, 0, 42, 0]


def test_unknown_voices_and_malformed_texts_say_what_exists():
    piece = chorale(1)
    for text, words in (("5=0", "4 voice"), ("0=0", "numbered from 1"), ("descant=0", "Soprano, Alto"),
                        ("73", "VOICE=PROGRAM"), ("=1", "VOICE=PROGRAM"), ("1=", "VOICE=PROGRAM")):
        with pytest.raises(ProgramError, match=words):
            resolve_programs(piece, [text])


def test_a_drum_voice_keeps_its_kit():
    piece = Piece((Note(0, 1, 36, 90, 0), Note(0, 1, 60, 90, 1)), 4, voices=(Voice("Drums", 0, True), Voice("Keys")))
    assert resolve_programs(piece, ["all=40"]) == {1: 40}


def test_sung_parts_left_at_program_0_sing_and_other_voices_keep_their_program():
    assert [sounding_program(v) for v in chorale(1).voices] == [SATB_PROGRAM] * 4
    assert sounding_program(Voice("Tenor", 40)) == 40 and sounding_program(Voice("Melody", 0)) == 0
    assert sounding_program(Voice("Bass drum", 0, True)) == 0
