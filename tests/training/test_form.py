"""The form statistics of issue 14 (composer.melody.form) against hand counts on hand-built pieces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from composer.melody.form import bar_contents, bootstrap_interval, form_statistics, repeat_shares, summarize
from composer.music.notes import Note, Piece, TimeSignature


def tune(notes, ticks_per_beat=1, metre=(4, 4)) -> Piece:
    """A piece from (start, length, pitch) triples."""
    return Piece(tuple(Note(s, s + d, p) for s, d, p in notes), ticks_per_beat,
                 time_signatures=(TimeSignature(0, *metre),))


# 4/4 in C, one tick a quarter: bar 2 repeats bar 0 exactly, bars 1 and 2 repeat bar 0's rhythm, ends on C.
TUNE = [(0, 1, 60), (1, 1, 62), (2, 1, 64), (3, 1, 65),
        (4, 1, 67), (5, 1, 65), (6, 1, 64), (7, 1, 62),
        (8, 1, 60), (9, 1, 62), (10, 1, 64), (11, 1, 65),
        (12, 2, 64), (14, 1, 62), (15, 1, 60)]


def test_a_tune_with_a_repeated_bar_and_rhythm_ending_on_the_tonic():
    stats = form_statistics(tune(TUNE))
    assert stats.key == "C"
    assert stats.bars == 4
    assert stats.ends_on_tonic == 1.0
    assert stats.repeated_bars == pytest.approx(1 / 4)      # bar 2 = bar 0
    assert stats.repeated_rhythms == pytest.approx(2 / 4)   # bars 1 and 2 have bar 0's four quarters
    assert stats.pitch_range == 7                           # C4..G4
    assert stats.in_scale == 1.0


def test_the_same_tune_ending_off_the_tonic():
    stats = form_statistics(tune(TUNE[:-1] + [(15, 1, 67)]))    # ends on the dominant
    assert stats.key == "C"
    assert stats.ends_on_tonic == 0.0
    assert stats.repeated_bars == pytest.approx(1 / 4) and stats.repeated_rhythms == pytest.approx(2 / 4)


def test_a_transposed_bar_repeats_its_rhythm_but_not_its_notes():
    notes = [(0, 1, 60), (1, 1, 62), (2, 2, 64), (4, 1, 62), (5, 1, 64), (6, 2, 65), (8, 4, 60)]
    stats = form_statistics(tune(notes))
    assert stats.repeated_bars == 0.0
    assert stats.repeated_rhythms == pytest.approx(1 / 3)


def test_a_six_eight_tune_is_counted_in_six_eight_bars():
    # one tick an eighth: bars of 6 ticks; bar 2 = bar 0 (two dotted quarters), bar 1 six eighths, bar 3 one note
    notes = [(0, 3, 67), (3, 3, 64), (6, 1, 62), (7, 1, 64), (8, 1, 65), (9, 1, 67), (10, 1, 69), (11, 1, 71),
             (12, 3, 67), (15, 3, 64), (18, 6, 72)]
    piece = tune(notes, ticks_per_beat=2, metre=(6, 8))
    assert piece.ticks_per_bar == 6
    assert bar_contents(piece)[2] == bar_contents(piece)[0] == {(0, 67), (3, 64)}
    stats = form_statistics(piece)
    assert stats.bars == 4
    assert stats.repeated_bars == pytest.approx(1 / 4)
    assert stats.repeated_rhythms == pytest.approx(1 / 4)
    assert stats.pitch_range == 10 and stats.ends_on_tonic == 1.0   # ends on C5 in C
    # the same notes read in 4/4 bars of 8 ticks repeat nothing
    assert repeat_shares(tune(notes, ticks_per_beat=2, metre=(4, 4)))[:2] == (0.0, 0.0)


def test_a_pickup_is_a_bar_of_its_own_and_empty_bars_do_not_count():
    # 3/4, one tick a quarter: a pickup on beat 3, a full bar, a held note, a bar of rest, the pickup's figure again
    notes = [(2, 1, 67), (3, 1, 72), (4, 1, 71), (5, 1, 69), (6, 3, 67), (14, 1, 67)]
    piece = tune(notes, metre=(3, 4))
    contents = bar_contents(piece)
    assert len(contents) == 5 and contents[0] == {(2, 67)} and contents[3] == frozenset()
    stats = form_statistics(piece)
    assert stats.bars == 4                                   # the rest bar is not counted
    assert stats.repeated_bars == pytest.approx(1 / 4)       # bar 4 = the pickup bar
    assert stats.repeated_rhythms == pytest.approx(1 / 4)
    assert stats.pitch_range == 5


def test_a_note_held_over_the_bar_line_belongs_to_its_onset_bar_only():
    piece = tune([(0, 6, 60), (6, 2, 60)])
    assert bar_contents(piece) == [frozenset({(0, 60)}), frozenset({(2, 60)})]
    assert repeat_shares(piece) == (0.0, 0.0, 2)


def test_the_last_note_of_a_final_chord_is_its_highest_and_a_piece_without_notes_has_no_statistics():
    assert form_statistics(tune(TUNE[:-1] + [(15, 1, 60), (15, 1, 67)])).ends_on_tonic == 0.0   # G over C
    assert form_statistics(tune(TUNE[:-1] + [(15, 1, 55), (15, 1, 60)])).ends_on_tonic == 1.0   # C over G
    assert form_statistics(tune([])) is None


def test_summary_means_medians_and_intervals():
    pieces = [form_statistics(tune(TUNE)), form_statistics(tune(TUNE[:-1] + [(15, 1, 64)])), None]
    summary = summarize(pieces)
    assert summary["pieces"] == 2
    assert summary["ends_on_tonic"]["mean"] == 0.5 and summary["ends_on_tonic"]["median"] == 0.5
    low, high = summary["ends_on_tonic"]["ci95"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    assert summary["pitch_range"]["ci95"] == [7.0, 7.0]


def test_bootstrap_interval_holds_the_mean_narrows_with_more_pieces_and_is_seeded():
    rng = np.random.default_rng(0)
    small, large = rng.random(20), rng.random(2000)
    low, high = bootstrap_interval(small)
    assert low < small.mean() < high
    assert np.subtract(*bootstrap_interval(large)[::-1]) < high - low
    assert bootstrap_interval(small) == (low, high)
    assert all(math.isnan(v) for v in bootstrap_interval([]))
