"""The note data model and its transforms (composer.music.notes)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer.music import notes as N
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice

PROPERTY = settings(max_examples=200, deadline=None)


# -- strategies ----------------------------------------------------------------------------------------
@st.composite
def note_lists(draw, max_voices=3, max_tick=2000, min_len=0, max_len=20, pitches=(0, 127), allow_empty_notes=False):
    count = draw(st.integers(min_len, max_len))
    result = []
    for _ in range(count):
        start = draw(st.integers(0, max_tick))
        length = draw(st.integers(0 if allow_empty_notes else 1, max_tick // 4))
        result.append(Note(start, start + length, draw(st.integers(*pitches)), draw(st.integers(1, 127)),
                           draw(st.integers(0, max_voices - 1))))
    return result


@st.composite
def pieces(draw, max_voices=3, ticks_per_beat=None, **note_kwargs):
    tpb = ticks_per_beat or draw(st.sampled_from([1, 3, 4, 12, 96, 220, 480, 1024]))
    voices = tuple(Voice(f"v{i}", i) for i in range(max_voices))
    return Piece(notes=tuple(draw(note_lists(max_voices=max_voices, **note_kwargs))), ticks_per_beat=tpb,
                 voices=voices, key=draw(st.sampled_from([None, "C", "Am", "F#m", "Bb"])), name="p")


def snapshot(piece: Piece):
    """A deep, independent copy of everything a piece holds, to compare before/after a transform."""
    return (list(piece.notes), piece.ticks_per_beat, list(piece.voices), list(piece.tempos),
            list(piece.time_signatures), piece.key, piece.name)


def overlaps_same_pitch(notes) -> bool:
    by_key = {}
    for n in sorted(notes):
        by_key.setdefault((n.voice, n.pitch), []).append(n)
    return any(a.end > b.start for group in by_key.values() for a, b in zip(group, group[1:]))


# -- the model -------------------------------------------------------------------------------------------
def test_piece_sorts_notes_by_start_voice_pitch():
    a, b, c, d = Note(0, 4, 60, voice=1), Note(0, 4, 64, voice=0), Note(0, 4, 55, voice=0), Note(2, 3, 40)
    piece = Piece(notes=[d, a, b, c], ticks_per_beat=4)
    assert piece.notes == (c, b, a, d)
    assert isinstance(piece.notes, tuple)


def test_piece_rejects_bad_resolution():
    with pytest.raises(ValueError):
        Piece(notes=(), ticks_per_beat=0)
    with pytest.raises(ValueError):
        Piece(notes=(), ticks_per_beat=-12)


def test_piece_and_note_are_frozen():
    piece = Piece(notes=(Note(0, 4, 60),), ticks_per_beat=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        piece.ticks_per_beat = 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        piece.notes[0].pitch = 61
    with pytest.raises(TypeError):
        piece.notes[0] = Note(0, 4, 61)  # notes are a tuple


def test_derived_facts():
    piece = Piece(notes=(Note(0, 6, 60, voice=0), Note(3, 9, 64, voice=1), Note(9, 12, 67, voice=0)),
                  ticks_per_beat=12, voices=(Voice("a"), Voice("b")),
                  tempos=(TempoChange(0, 90.0), TempoChange(24, 60.0)),
                  time_signatures=(TimeSignature(0, 3, 4), TimeSignature(36, 6, 8)))
    assert piece.end == 12
    assert Piece(notes=(), ticks_per_beat=4).end == 0
    assert piece.qpm == 90.0
    assert piece.ticks_per_bar == 36
    assert TimeSignature(0, 6, 8).ticks_per_bar(12) == 36
    assert TimeSignature(0, 2, 2).ticks_per_bar(12) == 48
    assert piece.beats(18) == Fraction(3, 2)
    assert piece.voice_notes(0) == (Note(0, 6, 60, voice=0), Note(9, 12, 67, voice=0))
    assert piece.is_monophonic(0)
    assert not piece.is_monophonic()
    assert Note(3, 9, 64).duration == 6
    assert piece.replace(name="x").name == "x" and piece.name == ""


def test_seconds_with_tempo_changes():
    # 480 ticks per beat; 120 qpm for two beats, then 60 qpm for one beat, then 240 qpm.
    piece = Piece(notes=(), ticks_per_beat=480,
                  tempos=(TempoChange(0, 120.0), TempoChange(960, 60.0), TempoChange(1440, 240.0)))
    assert piece.seconds(0) == pytest.approx(0.0)
    assert piece.seconds(480) == pytest.approx(0.5)
    assert piece.seconds(960) == pytest.approx(1.0)  # exactly at a change
    assert piece.seconds(1200) == pytest.approx(1.5)
    assert piece.seconds(1440) == pytest.approx(2.0)
    assert piece.seconds(1920) == pytest.approx(2.25)
    assert piece.seconds(4800) == pytest.approx(2.0 + 7 * 0.25)


def test_seconds_single_tempo():
    piece = Piece(notes=(), ticks_per_beat=12, tempos=(TempoChange(0, 90.0),))
    assert piece.seconds(12 * 90) == pytest.approx(60.0)


@PROPERTY
@given(st.lists(st.tuples(st.integers(1, 5000), st.floats(20, 300)), max_size=6, unique_by=lambda t: t[0]),
       st.floats(20, 300), st.integers(0, 20000))
def test_seconds_is_the_integral_of_the_tempo_map(changes, first_qpm, tick):
    tpb = 96
    tempos = (TempoChange(0, first_qpm), *(TempoChange(t, q) for t, q in sorted(changes)))
    piece = Piece(notes=(), ticks_per_beat=tpb, tempos=tempos)
    # brute force: sum the length of every tick under the tempo in force at it
    bounds = [t.tick for t in tempos] + [max(tick, tempos[-1].tick) + 1]
    expected = 0.0
    for change, next_tick in zip(tempos, bounds[1:]):
        ticks = max(0, min(next_tick, tick) - change.tick)
        expected += ticks / tpb * 60.0 / change.qpm
    assert piece.seconds(tick) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # and it never runs backwards
    assert piece.seconds(tick + 1) > piece.seconds(tick)


# -- quantize --------------------------------------------------------------------------------------------
def test_quantize_rounds_to_nearest_half_up():
    # 480 -> 4 ticks per beat: one new step is 120 old ticks
    piece = Piece(notes=(Note(59, 300, 60), Note(60, 419, 62), Note(181, 540, 64, voice=1)), ticks_per_beat=480,
                  voices=(Voice(), Voice()))
    q = N.quantize(piece, 4)
    assert q.ticks_per_beat == 4
    assert q.notes == (Note(0, 3, 60), Note(1, 3, 62), Note(2, 5, 64, voice=1))


def test_quantize_keeps_notes_shorter_than_a_step():
    piece = Piece(notes=(Note(0, 10, 60), Note(50, 70, 62), Note(130, 170, 64), Note(1000, 1001, 65)),
                  ticks_per_beat=480)
    q = N.quantize(piece, 4)
    assert q.notes == (Note(0, 1, 60), Note(0, 1, 62), Note(1, 2, 64), Note(8, 9, 65))


def test_quantize_moves_tempo_and_time_signature_ticks():
    piece = Piece(notes=(Note(0, 480, 60),), ticks_per_beat=480,
                  tempos=(TempoChange(0, 100.0), TempoChange(970, 80.0)),
                  time_signatures=(TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4)))
    q = N.quantize(piece, 12)
    assert q.tempos == (TempoChange(0, 100.0), TempoChange(24, 80.0))
    assert q.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(48, 3, 4))


def test_quantize_merges_events_that_land_on_one_tick_keeping_the_last():
    piece = Piece(notes=(), ticks_per_beat=480,
                  tempos=(TempoChange(0, 100.0), TempoChange(10, 90.0), TempoChange(500, 70.0)))
    q = N.quantize(piece, 4)
    assert q.tempos == (TempoChange(0, 90.0), TempoChange(4, 70.0))


def test_quantize_rejects_bad_resolution():
    piece = Piece(notes=(Note(0, 4, 60),), ticks_per_beat=4)
    with pytest.raises(ValueError):
        N.quantize(piece, 0)


@PROPERTY
@given(pieces(), st.sampled_from([1, 2, 3, 4, 6, 12, 24, 480]))
def test_quantize_never_loses_an_onset(piece, tpb):
    old = piece.ticks_per_beat
    q = N.quantize(piece, tpb)

    def snap(tick):  # round half up, independently of the library's integer formula
        return int((Fraction(tick * tpb, old) + Fraction(1, 2)) // 1)

    expected_onsets = {(snap(n.start), n.pitch, n.voice) for n in piece.notes}
    assert {(n.start, n.pitch, n.voice) for n in q.notes} == expected_onsets
    assert all(n.end > n.start for n in q.notes)
    assert not overlaps_same_pitch(q.notes)
    # releases are rounded too (or cut by the next note of the same pitch, or kept one step long)
    for n in q.notes:
        originals = [o for o in piece.notes if (snap(o.start), o.pitch, o.voice) == (n.start, n.pitch, n.voice)]
        assert any(n.end <= max(snap(o.end), n.start + 1) for o in originals)
    assert q.tempos[0].tick == 0 and q.time_signatures[0].tick == 0


@PROPERTY
@given(pieces(ticks_per_beat=12))
def test_quantize_to_the_same_grid_only_cleans(piece):
    assert N.quantize(piece, 12) == N.clean(piece)


@PROPERTY
@given(pieces(ticks_per_beat=4), st.sampled_from([2, 3, 5, 10]))
def test_quantize_to_a_finer_multiple_is_exact(piece, factor):
    clean = N.clean(piece)
    fine = N.quantize(clean, 4 * factor)
    assert [(n.start, n.end) for n in fine.notes] == [(n.start * factor, n.end * factor) for n in clean.notes]
    assert N.quantize(fine, 4) == clean


# -- clean ----------------------------------------------------------------------------------------------
def test_clean_drops_zero_length_notes():
    piece = Piece(notes=(Note(4, 4, 60), Note(0, 2, 62), Note(6, 5, 64)), ticks_per_beat=4)
    assert N.clean(piece).notes == (Note(0, 2, 62),)


def test_clean_cuts_overlaps_of_one_pitch_in_one_voice():
    piece = Piece(notes=(Note(0, 10, 60), Note(5, 15, 60)), ticks_per_beat=4)
    assert N.clean(piece).notes == (Note(0, 5, 60), Note(5, 15, 60))


def test_clean_leaves_other_overlaps_alone():
    notes = (Note(0, 10, 60, voice=0), Note(5, 15, 60, voice=1), Note(2, 12, 64, voice=0))
    piece = Piece(notes=notes, ticks_per_beat=4, voices=(Voice(), Voice()))
    assert N.clean(piece).notes == piece.notes


@pytest.mark.parametrize("order", [0, 1])
def test_clean_duplicate_onsets_keep_the_longer(order):
    short, long = Note(0, 4, 60, velocity=10), Note(0, 8, 60, velocity=100)
    notes = (short, long) if order == 0 else (long, short)
    assert N.clean(Piece(notes=notes, ticks_per_beat=4)).notes == (long,)


def test_clean_chain_of_overlaps():
    piece = Piece(notes=(Note(0, 10, 60), Note(0, 4, 60), Note(2, 3, 60), Note(2, 20, 61)), ticks_per_beat=4)
    assert N.clean(piece).notes == (Note(0, 2, 60), Note(2, 3, 60), Note(2, 20, 61))


@PROPERTY
@given(pieces(allow_empty_notes=True))
def test_clean_properties(piece):
    cleaned = N.clean(piece)
    assert all(n.end > n.start for n in cleaned.notes)
    assert not overlaps_same_pitch(cleaned.notes)
    assert N.clean(cleaned) == cleaned  # idempotent
    # every onset of a real note survives, and nothing new appears
    assert {(n.start, n.pitch, n.voice) for n in cleaned.notes} == \
        {(n.start, n.pitch, n.voice) for n in piece.notes if n.end > n.start}
    for n in cleaned.notes:  # notes only ever get shorter, never move
        assert any(o.start == n.start and o.pitch == n.pitch and o.voice == n.voice and o.end >= n.end
                   for o in piece.notes)
    assert cleaned.replace(notes=piece.notes) == piece  # only the notes change


# -- transpose -------------------------------------------------------------------------------------------
def test_transpose_returns_a_moved_copy():
    piece = Piece(notes=(Note(0, 4, 60), Note(4, 8, 64, velocity=33, voice=0)), ticks_per_beat=4, key="C")
    before = snapshot(piece)
    up = N.transpose(piece, 2)
    assert up is not piece
    assert up.notes == (Note(0, 4, 62), Note(4, 8, 66, velocity=33))
    assert up.key == "D"
    assert snapshot(piece) == before


@pytest.mark.parametrize(("key", "semitones", "expected"),
                         [("C", 2, "D"), ("Am", 3, "Cm"), ("Bb", 1, "B"), ("F#m", -7, "Bm"), ("G", 12, "G"),
                          ("Ddor", 2, "Edorian"), ("Bb major", 0, "Bb"), (None, 5, None)])
def test_transpose_updates_key_name(key, semitones, expected):
    piece = Piece(notes=(Note(0, 1, 60),), ticks_per_beat=4, key=key)
    assert N.transpose(piece, semitones).key == expected


def test_transpose_out_of_range_raises():
    piece = Piece(notes=(Note(0, 1, 120), Note(0, 1, 5)), ticks_per_beat=4)
    with pytest.raises(ValueError):
        N.transpose(piece, 8)
    with pytest.raises(ValueError):
        N.transpose(piece, -6)
    assert max(n.pitch for n in N.transpose(piece, 7).notes) == 127  # the edges themselves are fine
    assert min(n.pitch for n in N.transpose(piece, -5).notes) == 0


def test_transpose_empty_piece_any_amount():
    piece = Piece(notes=(), ticks_per_beat=4, key="C")
    assert N.transpose(piece, 200).notes == ()


@PROPERTY
@given(pieces(), st.integers(-130, 130))
def test_transpose_property(piece, semitones):
    before = snapshot(piece)
    pitches = [n.pitch for n in piece.notes]
    fits = not pitches or (min(pitches) + semitones >= 0 and max(pitches) + semitones <= 127)
    if not fits:
        with pytest.raises(ValueError):
            N.transpose(piece, semitones)
    else:
        moved = N.transpose(piece, semitones)
        assert [dataclasses.replace(n, pitch=n.pitch + semitones) for n in piece.notes] == list(moved.notes)
        if piece.key is not None:
            assert N.transpose(moved, -semitones).key == N.transpose(piece, 0).key
    assert snapshot(piece) == before


# -- to_monophonic ---------------------------------------------------------------------------------------
def test_to_monophonic_keeps_the_highest_note_and_cuts_overlaps():
    notes = (Note(0, 8, 60, voice=1), Note(0, 4, 67, voice=0), Note(0, 12, 64, voice=2),
             Note(6, 10, 55, voice=1), Note(12, 16, 72, voice=2))
    piece = Piece(notes=notes, ticks_per_beat=4, voices=(Voice("S"), Voice("A"), Voice("T")))
    mono = N.to_monophonic(piece)
    assert mono.notes == (Note(0, 4, 67), Note(6, 10, 55), Note(12, 16, 72))
    assert mono.voices == (Voice("T"),)  # the voice of the highest note
    assert mono.is_monophonic()


def test_to_monophonic_cuts_a_long_note_at_the_next_onset():
    piece = Piece(notes=(Note(0, 20, 72), Note(4, 6, 60)), ticks_per_beat=4)
    assert N.to_monophonic(piece).notes == (Note(0, 4, 72), Note(4, 6, 60))


def test_to_monophonic_of_empty_piece():
    mono = N.to_monophonic(Piece(notes=(), ticks_per_beat=4))
    assert mono.notes == () and len(mono.voices) == 1


@PROPERTY
@given(pieces(max_voices=4))
def test_to_monophonic_property(piece):
    before = snapshot(piece)
    mono = N.to_monophonic(piece)
    assert mono.is_monophonic()
    assert all(n.voice == 0 and n.end > n.start for n in mono.notes)
    assert len(mono.voices) == 1
    onsets = sorted({n.start for n in piece.notes})
    assert [n.start for n in mono.notes] == onsets
    for i, n in enumerate(mono.notes):
        at_onset = [o for o in piece.notes if o.start == n.start]
        top = max(o.pitch for o in at_onset)
        assert n.pitch == top
        next_onset = onsets[i + 1] if i + 1 < len(onsets) else None
        candidates = {min(o.end, next_onset) if next_onset is not None else o.end for o in at_onset if o.pitch == top}
        assert n.end in candidates
    assert snapshot(piece) == before


# -- select_voices, crop, append --------------------------------------------------------------------------
def satb() -> Piece:
    voices = (Voice("Soprano", 1), Voice("Alto", 2), Voice("Tenor", 3), Voice("Bass", 4))
    notes = tuple(Note(t, t + 4, 72 - 7 * v + t // 4, voice=v) for v in range(4) for t in range(0, 16, 4))
    return Piece(notes=notes, ticks_per_beat=4, voices=voices, key="G", name="satb")


def test_select_voices_keeps_and_renumbers_in_given_order():
    piece = satb()
    before = snapshot(piece)
    outer = N.select_voices(piece, [3, 0])
    assert outer.voices == (Voice("Bass", 4), Voice("Soprano", 1))
    assert {n.voice for n in outer.notes} == {0, 1}
    assert [dataclasses.replace(n, voice=0) for n in outer.voice_notes(0)] == \
        [dataclasses.replace(n, voice=0) for n in piece.voice_notes(3)]
    assert [dataclasses.replace(n, voice=0) for n in outer.voice_notes(1)] == list(piece.voice_notes(0))
    assert len(outer.notes) == 8
    assert outer.key == "G" and outer.tempos == piece.tempos
    assert snapshot(piece) == before


def test_select_voices_rejects_missing_voice():
    with pytest.raises(ValueError):
        N.select_voices(satb(), [0, 4])
    with pytest.raises(ValueError):
        N.select_voices(satb(), [-1])


def test_crop_cuts_and_shifts():
    piece = Piece(notes=(Note(0, 8, 60), Note(6, 14, 62), Note(10, 12, 64), Note(14, 20, 65), Note(2, 4, 59)),
                  ticks_per_beat=4, tempos=(TempoChange(0, 100.0), TempoChange(8, 80.0), TempoChange(12, 60.0)),
                  time_signatures=(TimeSignature(0, 4, 4), TimeSignature(16, 3, 4)))
    before = snapshot(piece)
    part = N.crop(piece, 5, 13)
    assert part.notes == (Note(0, 3, 60), Note(1, 8, 62), Note(5, 7, 64))
    assert part.tempos == (TempoChange(0, 100.0), TempoChange(3, 80.0), TempoChange(7, 60.0))
    assert part.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(11, 3, 4))
    later = N.crop(piece, 12, 30)
    assert later.tempos == (TempoChange(0, 60.0),)  # the tempo in force at the start moves to 0
    assert later.notes == (Note(0, 2, 62), Note(2, 8, 65))
    assert snapshot(piece) == before


def test_crop_rejects_empty_range():
    with pytest.raises(ValueError):
        N.crop(satb(), 4, 4)
    with pytest.raises(ValueError):
        N.crop(satb(), 5, 2)


@PROPERTY
@given(pieces(), st.integers(0, 2500), st.integers(1, 2500))
def test_crop_property(piece, start, length):
    end = start + length
    part = N.crop(piece, start, end)
    assert all(0 <= n.start < n.end <= length for n in part.notes)
    expected = sorted((max(n.start, start) - start, min(n.end, end) - start, n.pitch, n.velocity, n.voice)
                      for n in piece.notes if max(n.start, start) < min(n.end, end))
    assert sorted((n.start, n.end, n.pitch, n.velocity, n.voice) for n in part.notes) == expected
    assert part.tempos[0].tick == 0


def test_append_places_second_after_first():
    first = Piece(notes=(Note(0, 4, 60), Note(2, 6, 64)), ticks_per_beat=4, key="C", voices=(Voice("a"),),
                  tempos=(TempoChange(0, 100.0),))
    second = Piece(notes=(Note(0, 2, 67), Note(1, 3, 69)), ticks_per_beat=4, key="G", voices=(Voice("b"),),
                   tempos=(TempoChange(0, 60.0),))
    before_first, before_second = snapshot(first), snapshot(second)
    joined = N.append(first, second)
    assert joined.notes == (Note(0, 4, 60), Note(2, 6, 64), Note(6, 8, 67), Note(7, 9, 69))
    assert (joined.key, joined.voices, joined.tempos) == ("C", (Voice("a"),), (TempoChange(0, 100.0),))
    at = N.append(first, second, at=16)
    assert at.notes[2:] == (Note(16, 18, 67), Note(17, 19, 69))
    assert snapshot(first) == before_first and snapshot(second) == before_second


def test_append_needs_same_resolution():
    with pytest.raises(ValueError):
        N.append(Piece(notes=(), ticks_per_beat=4), Piece(notes=(), ticks_per_beat=12))


# -- no transform touches its input -----------------------------------------------------------------------
TRANSFORMS = {
    "quantize": lambda p: N.quantize(p, 3),
    "clean": N.clean,
    "transpose": lambda p: N.transpose(p, 1),
    "to_monophonic": N.to_monophonic,
    "select_voices": lambda p: N.select_voices(p, [2, 0]),
    "crop": lambda p: N.crop(p, 2, 10),
    "append": lambda p: N.append(p, p),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_return_new_pieces_and_leave_input_alone(name):
    notes = (Note(0, 4, 60, 80, 0), Note(0, 4, 60, 80, 0), Note(1, 9, 64, 70, 1), Note(3, 3, 50, 60, 2),
             Note(2, 7, 60, 50, 0), Note(5, 11, 67, 40, 2))
    piece = Piece(notes=notes, ticks_per_beat=4, voices=(Voice("a"), Voice("b"), Voice("c")),
                  tempos=(TempoChange(0, 100.0), TempoChange(6, 80.0)),
                  time_signatures=(TimeSignature(0, 3, 4), TimeSignature(8, 2, 4)), key="C", name="input")
    before = snapshot(piece)
    result = TRANSFORMS[name](piece)
    assert isinstance(result, Piece)
    assert result is not piece
    assert result != piece  # every transform above changes something about this piece
    assert snapshot(piece) == before


def test_a_bar_is_at_least_one_tick_on_a_coarse_grid():
    from composer.music.notes import TimeSignature

    assert TimeSignature(0, 1, 8).ticks_per_bar(1) == 1
    assert TimeSignature(0, 6, 8).ticks_per_bar(12) == 36
