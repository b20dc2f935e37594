"""The SATB frame grid: exact round trips on every bundled chorale, positions, transposition."""

from __future__ import annotations

import numpy as np
import pytest

from composer.music.midi_io import read_midi
from composer.music.notes import Note, Piece, TimeSignature
from composer.harmony.grid import (HOLD, MASK, REST, HarmonyError, chorale_from_piece, frames_to_notes,
                           piece_to_frames, pitch_token, positions_for, sounding_pitches, to_frame,
                           transpose_frames)
from tests.harmony.conftest import CHORALES


def test_every_bundled_chorale_round_trips_exactly():
    files = sorted(CHORALES.glob("*.mid"))
    assert len(files) >= 300
    checked = 0
    for path in files:
        piece = read_midi(path)
        tpb = piece.ticks_per_beat
        on_grid = all(n.start % (tpb // 4) == 0 and n.end % (tpb // 4) == 0 for n in piece.notes)
        one_at_a_time = all(piece.is_monophonic(v) for v in range(4))
        if not (on_grid and one_at_a_time):
            continue
        frames = piece_to_frames(piece)
        back = frames_to_notes(frames, tpb)
        original = sorted((n.start, n.end, n.pitch, n.voice) for n in piece.notes if n.voice < 4)
        assert sorted((n.start, n.end, n.pitch, n.voice) for n in back) == original, path.name
        checked += 1
    assert checked >= 290


def test_repeated_notes_stay_separate_attacks():
    piece = Piece((Note(0, 12, 60, voice=0), Note(12, 24, 60, voice=0)), 12)
    frames = piece_to_frames(piece)
    assert list(frames[:, 0]) == [pitch_token(60), HOLD, HOLD, HOLD, pitch_token(60), HOLD, HOLD, HOLD]
    assert (frames[:, 1:] == REST).all()
    assert len(frames_to_notes(frames, 12, voices=[0])) == 2


def test_a_hold_after_silence_is_a_rest():
    frames = np.full((4, 4), REST)
    frames[1, 0] = HOLD
    frames[2, 0] = pitch_token(64)
    assert [(n.start, n.end, n.pitch) for n in frames_to_notes(frames, 4, voices=[0])] == [(2, 3, 64)]


def test_positions_follow_time_signature_changes():
    signatures = (TimeSignature(0, 4, 4), TimeSignature(48, 3, 4))   # one 4/4 bar, then 3/4
    positions = positions_for(signatures, 12, 16 + 24)
    assert list(positions[:16]) == list(range(16))
    assert list(positions[16:28]) == list(range(12)) and list(positions[28:40]) == list(range(12))


def test_transposition_moves_pitches_only_and_refuses_to_leave_the_range():
    frames = np.array([[pitch_token(60), HOLD, REST, MASK]])
    up = transpose_frames(frames, 5)
    assert list(up[0]) == [pitch_token(65), HOLD, REST, MASK]
    assert list(frames[0]) == [pitch_token(60), HOLD, REST, MASK]   # a copy
    with pytest.raises(HarmonyError, match="range"):
        transpose_frames(np.array([[pitch_token(90), REST, REST, REST]]), 12)


def test_sounding_pitches_resolve_holds():
    frames = np.array([[pitch_token(67), REST, REST, REST], [HOLD, REST, REST, REST], [REST, REST, REST, REST]])
    assert list(sounding_pitches(frames)[:, 0]) == [67, 67, -1]


def test_pieces_with_fewer_than_four_parts_are_refused():
    piece = Piece((Note(0, 12, 60, voice=0),), 12)
    with pytest.raises(HarmonyError, match="four parts"):
        chorale_from_piece(piece)


def test_frame_rounding():
    assert to_frame(10080, 10080) == 4 and to_frame(2520, 10080) == 1


def test_key_indices_transpose_with_the_music():
    from composer.harmony.grid import UNKNOWN_KEY, key_index, key_of_index, transpose_key_index

    assert key_index("C") == 0 and key_index("Am") == 21 and key_index("Ddor") == 14 and key_index(None) == 24
    assert key_of_index(transpose_key_index(key_index("G"), 5)) == "C"
    assert key_of_index(transpose_key_index(key_index("Em"), -4)) == "Cm"
    assert transpose_key_index(UNKNOWN_KEY, 3) == UNKNOWN_KEY
    with pytest.raises(ValueError):
        key_index("H")


def test_chorales_carry_their_key_signature():
    from composer.harmony.grid import key_of_index

    path = sorted(CHORALES.glob("*.mid"))[0]
    piece = read_midi(path)
    assert key_of_index(chorale_from_piece(piece).key) == piece.key
