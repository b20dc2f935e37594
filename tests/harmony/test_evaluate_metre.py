"""evaluate-harmony counts on-beat clashes on the beats as felt in the piece's metre: quarter notes in simple
metres, dotted quarters in 6/8, 9/8 and 12/8 (``felt_beats``), in the original and in the model's version.

The piece is two bars built by hand at 12 ticks a quarter (a frame is a 16th, 3 ticks), so its clashes can be
counted by hand. In 6/8 the felt beats are frames 0, 6, 12 and 18; read as 3/4 (the same bar length), the
quarter notes 0, 4, 8, 12, 16 and 20::

    frame      0     4     6     8     12    16    18    20
    soprano    C5    C5    D5    D5    E5    E5    E5    E5
    alto       G4    C#5   C#5   B4    C5    D#5   C5    C5
    clash?     -     m2    m2    -     -     m2    -     -

Under the tenor (E4) and the bass (C3) nothing clashes. So 6/8: 1 clash in 4 beats (frame 6); 3/4: 2 in 6
(frames 4 and 16).
"""

from __future__ import annotations

from composer.harmony.evaluate import clash_counts, felt_beats, score_piece
from composer.harmony.grid import chorale_from_piece
from composer.music.notes import Note, Piece, TimeSignature, Voice

SATB = tuple(Voice(name) for name in ("Soprano", "Alto", "Tenor", "Bass"))


def two_bars(numerator: int, denominator: int) -> Piece:
    """The piece of the module docstring, under the time signature ``numerator/denominator``."""
    soprano = [(0, 18, 72), (18, 36, 74), (36, 72, 76)]
    alto = [(0, 12, 67), (12, 24, 73), (24, 36, 71), (36, 48, 72), (48, 54, 75), (54, 72, 72)]
    notes = [Note(start, end, pitch, 80, voice)
             for voice, part in enumerate((soprano, alto, [(0, 72, 64)], [(0, 72, 48)]))
             for start, end, pitch in part]
    return Piece(tuple(notes), 12, voices=SATB, time_signatures=(TimeSignature(0, numerator, denominator),),
                 name=f"two bars in {numerator}/{denominator}")


def test_the_felt_beats_of_the_hand_made_piece_are_its_dotted_quarters_in_68_and_its_quarters_in_34():
    for metre, expected, beats in (((6, 8), (1, 4), [0, 6, 12, 18]), ((3, 4), (2, 6), [0, 4, 8, 12, 16, 20])):
        piece = two_bars(*metre)
        frames = chorale_from_piece(piece).frames
        felt = felt_beats(piece, len(frames))
        assert len(frames) == 24 and [i for i in range(24) if felt[i]] == beats
        assert clash_counts(frames, felt) == expected


def test_score_piece_counts_clashes_on_the_dotted_quarters_of_a_68_piece(tiny_harmony):
    for metre, clashes, beats in (((6, 8), 1, 4), ((3, 4), 2, 6)):
        piece = two_bars(*metre)
        scored = score_piece(tiny_harmony, chorale_from_piece(piece), piece, temperature=0.0, seed=0)
        assert scored["original"]["clash_beats"] == clashes and scored["original"]["soprano_beats"] == beats
        # the model's version has the same soprano, so the same beats are counted (its clashes are its own)
        assert scored["model"]["soprano_beats"] == beats and scored["per_seed"][0]["soprano_beats"] == beats
        assert 0 <= scored["model"]["clash_beats"] <= beats
