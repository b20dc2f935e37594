"""The key guide (composer/melody/mode.py) and the closing span of the cadence guide (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from composer import shipped
from composer.melody.cadence import closing_span
from composer.melody.encoding import BOS, EncodingConfig, Vocabulary
from composer.melody.generate import GenerationRequest, generate
from composer.melody.mode import MODE_PENALTY, OPENING_PENALTY, OUTSIDE_PENALTY, ModeKeeper
from composer.melody.model import load_melody_model
from composer.music.keys import MINOR_MODES, parse_key
from composer.music.metre import Metre

NAMES = {"C": 0, "C#": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11}


def vocab() -> Vocabulary:
    return Vocabulary(EncodingConfig(ticks_per_beat=4, max_shift=16, max_duration=16, min_pitch=48, max_pitch=84,
                                     key_tokens=True, durations_advance=True))


def pitch_token(v: Vocabulary, pitch: int) -> int:
    return v.pitch_offset + pitch - v.config.min_pitch


def penalties(keeper: ModeKeeper, v: Vocabulary, names) -> list[float]:
    """The penalty (nats) the keeper puts on each named note in octave 4 (row 0)."""
    logits = torch.zeros(1, len(v))
    keeper.bias(logits)
    return [float(-logits[0, pitch_token(v, 60 + NAMES[name])]) for name in names]


def test_a_tune_is_pulled_toward_its_tonic_triad_for_its_first_note_only():
    v = vocab()
    keeper = ModeKeeper(v, np.array([BOS, v.key("Em")]), rows=1)
    assert penalties(keeper, v, ["E", "G", "B", "A", "F#", "Bb"]) == \
        [0, 0, 0, OPENING_PENALTY, OPENING_PENALTY, OUTSIDE_PENALTY + OPENING_PENALTY]
    keeper.record(torch.tensor([pitch_token(v, 66)]))              # it opened on F sharp anyway
    assert penalties(keeper, v, ["E", "A", "F#", "Bb"]) == [0, 0, 0, OUTSIDE_PENALTY]


def test_a_major_tune_may_take_either_seventh_until_it_has_chosen_one():
    v = vocab()
    keeper = ModeKeeper(v, np.array([BOS, v.key("G")]), rows=1)
    keeper.record(torch.tensor([pitch_token(v, 67)]))              # it opens on G
    assert penalties(keeper, v, ["G", "A", "F#", "F", "C#", "Ab"]) == [0, 0, 0, 0, OUTSIDE_PENALTY, OUTSIDE_PENALTY]
    keeper.record(torch.tensor([pitch_token(v, 65)]))              # an F natural: G mixolydian
    assert penalties(keeper, v, ["F", "F#", "C"]) == [0, MODE_PENALTY, 0]
    keeper.record(torch.tensor([pitch_token(v, 66)]))              # a later F sharp does not undo the choice
    assert penalties(keeper, v, ["F", "F#"]) == [0, MODE_PENALTY]


def test_a_minor_tune_chooses_its_sixth_and_keeps_its_leading_tone():
    v = vocab()
    keeper = ModeKeeper(v, np.array([BOS, v.key("Dm")]), rows=1)
    keeper.record(torch.tensor([pitch_token(v, 62)]))              # it opens on D
    assert penalties(keeper, v, ["Bb", "B", "C#", "C", "Eb"]) == [0, 0, 0, 0, OUTSIDE_PENALTY]
    keeper.record(torch.tensor([pitch_token(v, 71)]))              # a B natural: D dorian
    assert penalties(keeper, v, ["B", "Bb", "C#"]) == [0, MODE_PENALTY, 0]


def test_rows_keep_their_own_keys_and_a_row_without_a_key_is_left_alone():
    v = vocab()
    keeper = ModeKeeper(v, np.array([BOS]), rows=2)
    logits = torch.zeros(2, len(v))
    keeper.bias(logits)
    assert bool((logits == 0).all())                               # no KEY token yet: nothing known
    keeper.record(torch.tensor([v.key("C"), v.key("Am")]))
    keeper.record(torch.tensor([pitch_token(v, 60), pitch_token(v, 57)]))
    keeper.select(torch.tensor([1, 0]))                            # beam search reorders rows
    logits = torch.zeros(2, len(v))
    keeper.bias(logits)
    g_sharp = pitch_token(v, 68)                                   # A minor's leading tone, outside C major
    assert float(logits[0, g_sharp]) == 0 and float(logits[1, g_sharp]) == -OUTSIDE_PENALTY
    assert bool((logits[:, : v.pitch_offset] == 0).all())          # only pitches are touched


def test_the_closing_span_is_the_last_half_bar_or_the_last_beat():
    assert closing_span(Metre(48, 12)) == 24        # 4/4 at 12 ticks a beat: beats 3 and 4
    assert closing_span(Metre(24, 12)) == 12        # 2/4: the last beat
    assert closing_span(Metre(36, 18)) == 18        # 6/8: the second dotted quarter
    assert closing_span(Metre(36, 12)) == 12        # 3/4: the last beat
    assert closing_span(Metre(54, 18)) == 18        # 9/8: the last dotted quarter


@pytest.fixture(scope="module")
def melody_model():
    return load_melody_model(shipped.MELODY_MODEL)


def out_of_key_time(piece, key: str) -> float:
    """Share of the piece's note time outside the major or natural-minor scale of the key it was written in."""
    tonic, mode = parse_key(key)
    minor = mode in MINOR_MODES
    scale = {(tonic + d) % 12 for d in ((0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11))}
    total = sum(n.end - n.start for n in piece.notes)
    return sum(n.end - n.start for n in piece.notes if n.pitch % 12 not in scale) / total


@pytest.mark.slow
def test_the_shipped_model_keeps_closer_to_its_key_with_the_guide(melody_model):
    def run(key_guide):   # 64 pieces of 16 bars: the shipped model rarely leaves its key, so few pieces are noise
        request = GenerationRequest(count=64, bars=16, seed=5, key_guide=key_guide)
        return generate(melody_model.net, melody_model.vocab, request)
    guided, free = run(True), run(False)
    keys = [p.key for p in guided.pieces]
    assert all(keys)
    outside_guided = np.mean([out_of_key_time(p, p.key) for p in guided.pieces])
    outside_free = np.mean([out_of_key_time(p, p.key) for p in free.pieces])
    print(f"note time outside the key: guided {outside_guided:.3f}, free {outside_free:.3f}")
    assert outside_guided < outside_free


@pytest.mark.slow
def test_every_note_in_the_closing_span_is_the_tonic(melody_model):
    request = GenerationRequest(count=16, bars=4, seed=3, time_signature="6/8")
    result = generate(melody_model.net, melody_model.vocab, request)
    tpb = result.pieces[0].ticks_per_beat
    span = closing_span(Metre(3 * tpb, 3 * tpb // 2))
    for piece in result.pieces:
        tonic = parse_key(piece.key)[0]                            # the KEY token the row drew
        closing = [n for n in piece.notes if n.end > result.length_ticks - span]
        assert closing and all(n.pitch % 12 == tonic for n in closing)


def test_the_command_line_and_the_library_default_to_the_same_temperature():
    from composer.cli.melody import DEFAULT_TEMPERATURE as CLI_DEFAULT
    from composer.melody.generate import DEFAULT_TEMPERATURE

    assert CLI_DEFAULT == DEFAULT_TEMPERATURE == GenerationRequest().temperature


def test_generate_takes_no_key_guide_from_the_command_line(tmp_path):
    from composer.cli.main import main

    assert main(["generate", "--out", str(tmp_path / "free"), "--count", "2", "--bars", "2", "--seed", "1",
                 "--no-key-guide"]) == 0
    manifest = (tmp_path / "free" / "manifest.json").read_text()
    assert '"key_guide": false' in manifest
