"""Issue 15: the harmony key guide (composer.harmony.key_guide) pulls the lower voices toward the key's notes
without touching the melody; checked on its table and with the shipped model on real chorale sopranos."""

from __future__ import annotations

import pytest
import torch

from composer.harmony.grid import MIN_PITCH, PITCH_OFFSET, UNKNOWN_KEY, key_index
from composer.harmony.inference import DEFAULT_HARMONY_MODEL, harmonize, load_harmony_model
from composer.harmony.key_guide import key_bias
from composer.music.keys import parse_key
from composer.music.midi_io import read_midi
from composer.music.notes import select_voices
from tests.harmony.conftest import chorale_paths

VOCAB = PITCH_OFFSET + 73
USUAL = {"major": {0, 2, 4, 5, 7, 9, 11, 6, 1}, "minor": {0, 2, 3, 5, 7, 8, 10, 9, 11, 6}}


def token(pitch: int) -> int:
    return PITCH_OFFSET + pitch - MIN_PITCH


def test_the_bias_spares_the_scale_and_bach_s_usual_chromatic_notes():
    bias = key_bias(key_index("G"), VOCAB, 1.0)
    assert bias.shape == (4, VOCAB) and not bias[0].any()                # the soprano is never touched
    for name, pitch, expected in (("G", 67, 0.0), ("F#", 66, 0.0), ("C#", 61, 0.0), ("G#", 68, 0.0),
                                  ("F", 65, -1.0), ("Bb", 70, -1.0), ("Eb", 63, -1.0)):
        assert bias[1, token(pitch)] == expected, name
    assert not bias[1:, :PITCH_OFFSET].any()                             # HOLD, REST, MASK untouched
    minor = key_bias(key_index("Gm"), VOCAB, 2.0)
    for name, pitch, expected in (("Bb", 70, 0.0), ("E", 64, 0.0), ("F#", 66, 0.0), ("Ab", 68, -2.0)):
        assert minor[3, token(pitch)] == expected, name


def test_no_bias_for_an_unknown_key_or_zero_strength():
    assert key_bias(UNKNOWN_KEY, VOCAB) is None
    assert key_bias(key_index("C"), VOCAB, 0.0) is None
    with pytest.raises(ValueError):
        key_bias(key_index("C"), VOCAB, -1.0)


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load_harmony_model(DEFAULT_HARMONY_MODEL)


def unusual_notes(piece, key: str) -> int:
    """Lower-voice notes outside the key's usual notes (the guide's sets), before the final chord (which is the
    cadence guide's: a Picardy third in minor)."""
    tonic, mode = parse_key(key)
    usual = USUAL["minor" if mode in ("minor", "aeolian", "dorian") else "major"]
    closing = max(n.start for n in piece.notes if n.voice == 0)
    return sum((n.pitch - tonic) % 12 not in usual for n in piece.notes if n.voice > 0 and n.start < closing)


@pytest.mark.slow
def test_the_guide_keeps_the_melody_and_pulls_the_lower_voices_into_the_key(shipped):
    free = guided = strict = 0
    for path in chorale_paths(4, offset=40):
        soprano = select_voices(read_midi(path), [0])
        results = {strength: harmonize(shipped, soprano, count=4, temperature=0.7, seed=3, key_guide=strength)
                   for strength in (0.0, 1.0, 50.0)}
        for result in results.values():
            for piece in result.pieces:
                kept = sorted((n.start, n.end, n.pitch) for n in piece.notes if n.voice == 0)
                assert kept == sorted((n.start, n.end, n.pitch) for n in soprano.notes)
        key = results[0.0].key
        free += sum(unusual_notes(p, key) for p in results[0.0].pieces)
        guided += sum(unusual_notes(p, key) for p in results[1.0].pieces)
        strict += sum(unusual_notes(p, key) for p in results[50.0].pieces)
    print(f"lower-voice notes outside the key's usual notes: free {free}, guided {guided}, strict {strict}")
    assert strict == 0 and guided <= free and free > 0


# -- the hold and repeat biases -------------------------------------------------------------------------------
def test_a_sounding_voice_leans_from_holding_and_from_striking_its_pitch_again():
    from composer.harmony.grid import HOLD
    from composer.harmony.sampler import _lean_away_from_holding

    logits = torch.zeros(2, VOCAB)
    _lean_away_from_holding(logits, torch.tensor([62, -1]), hold_bias=-1.25, repeat_bias=-1.0)
    assert float(logits[0, HOLD]) == -1.25 and float(logits[0, token(62)]) == -1.0
    assert float(logits[0, token(64)]) == 0.0                            # moving is not touched
    assert float(logits[1, HOLD]) == float("-inf")                       # a silent voice cannot hold
    assert not logits[1, PITCH_OFFSET:].any()


def repeated_notes(piece) -> int:
    """Lower-voice notes that strike again the pitch their voice just sounded (no rest between)."""
    count = 0
    for voice in (1, 2, 3):
        notes = sorted((n for n in piece.notes if n.voice == voice), key=lambda n: n.start)
        count += sum(b.pitch == a.pitch and b.start == a.end for a, b in zip(notes, notes[1:]))
    return count


@pytest.mark.slow
def test_the_repeat_bias_trades_repeated_notes_for_moving_ones(shipped):
    default = free = 0
    for path in chorale_paths(3, offset=60):
        soprano = select_voices(read_midi(path), [0])
        default += sum(repeated_notes(p) for p in harmonize(shipped, soprano, count=3, temperature=0.4,
                                                           seed=1).pieces)
        free += sum(repeated_notes(p) for p in harmonize(shipped, soprano, count=3, temperature=0.4, seed=1,
                                                        repeat_bias=0.0).pieces)
    print(f"repeated lower-voice notes: default {default}, without the repeat bias {free}")
    assert default < 0.75 * free
