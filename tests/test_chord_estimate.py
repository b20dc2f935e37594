"""Chords estimated for any piece (composer.music.chord_estimate): template matching per bar or half bar."""

from __future__ import annotations

from composer.music.chord_estimate import best_chord, estimate_chords, span_starts
from composer.music.chords import parse_chord
from composer.music.notes import Note, Piece, TimeSignature

TPB = 4


def piece_of(bars: list[tuple[int, ...]], arpeggio: bool = False) -> Piece:
    """A piece of one chord per 4/4 bar: the pitches held for the bar, or played one after another."""
    notes, bar = [], 4 * TPB
    for index, pitches in enumerate(bars):
        start = index * bar
        if arpeggio:
            length = bar // len(pitches)
            notes += [Note(start + i * length, start + (i + 1) * length, p, 80) for i, p in enumerate(pitches)]
        else:
            notes += [Note(start, start + bar, p, 80, voice=v) for v, p in enumerate(pitches)]
    return Piece(notes=tuple(notes), ticks_per_beat=TPB, time_signatures=(TimeSignature(0, 4, 4),))


C, F, G = (48, 64, 67, 72), (41, 65, 69, 72), (43, 62, 67, 71)


def names(spans) -> list[str]:
    return [s.chord.name for s in spans]


def test_a_c_f_g_c_piece_comes_out_c_f_g_c():
    spans = estimate_chords(piece_of([C, F, G, C]))
    assert names(spans) == ["C", "F", "G", "C"]
    assert [(s.start, s.end) for s in spans] == [(0, 16), (16, 32), (32, 48), (48, 64)]


def test_an_arpeggiated_melody_and_half_bars():
    melody = piece_of([(60, 64, 67, 72), (65, 69, 72, 77), (67, 71, 74, 79), (72, 67, 64, 60)], arpeggio=True)
    assert names(estimate_chords(melody)) == ["C", "F", "G", "C"]
    halves = estimate_chords(piece_of([C, G]), per_half_bar=True)
    assert names(halves) == ["C", "C", "G", "G"] and halves[1].start == 8


def test_sevenths_minor_chords_and_silence():
    assert best_chord(_weights((43, 59, 62, 65))).name == "G7"
    assert best_chord(_weights((57, 60, 64))).name == "Am"
    spans = estimate_chords(piece_of([(57, 60, 64), (), C]))
    assert names(spans) == ["Am", "Am", "C"]       # a bar without notes keeps the chord before it
    assert estimate_chords(Piece(notes=(), ticks_per_beat=TPB)) == []


def test_a_pickup_is_a_span_of_its_own():
    pickup = (TimeSignature(0, 1, 4), TimeSignature(TPB, 4, 4))
    notes = (Note(0, TPB, 67, 80),) + tuple(Note(TPB + i * TPB, TPB + (i + 1) * TPB, p, 80)
                                            for i, p in enumerate((60, 64, 67, 72)))
    piece = Piece(notes=notes, ticks_per_beat=TPB, time_signatures=pickup)
    assert span_starts(piece) == [0, TPB]
    assert names(estimate_chords(piece))[1] == "C"


def _weights(pitches):
    import numpy as np

    weights = np.zeros(12)
    for p in pitches:
        weights[p % 12] += 1
    weights[min(pitches) % 12] += 0.25
    return weights


def test_every_estimate_is_a_symbol_the_chord_parser_reads():
    for span in estimate_chords(piece_of([C, F, G, C, (43, 59, 62, 65)])):
        assert parse_chord(span.chord.name) == span.chord
