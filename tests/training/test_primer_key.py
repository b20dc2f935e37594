"""A primer without a key signature is continued in the key the melody model reads it in
(composer/melody/primer_key.py), with the shipped model and a real folk tune."""

from __future__ import annotations

import pytest

from composer.melody.encoding import EncodingConfig, Vocabulary, prepare
from composer.melody.generate import GenerationRequest, generate
from composer.melody.model import ComposerLM, ModelConfig, load_melody_model
from composer.melody.primer_key import likeliest_key
from composer.music.analysis import estimate_tune_key
from composer.music.metre import metre_of
from composer.music.midi_io import read_midi
from composer.music.notes import crop
from composer.shipped import FOLK_MELODIES, MELODY_MODEL


@pytest.fixture(scope="module")
def melody():
    return load_melody_model(MELODY_MODEL)


@pytest.fixture(scope="module")
def soldiers_joy_opening():
    """The pickup and first four bars of Soldier's Joy, a D tune whose fourth bar ends on G; no key signature."""
    tune = read_midi(next(FOLK_MELODIES.glob("*/SoldiersJoy_0000.mid")))
    metre = metre_of(tune)
    opening = crop(tune, 0, metre.phase + 4 * metre.bar_ticks)
    assert opening.key is None and estimate_tune_key(tune).key == "D"
    return opening


def test_a_fragment_is_continued_in_its_tunes_key_not_in_its_last_notes(melody, soldiers_joy_opening):
    assert estimate_tune_key(soldiers_joy_opening).key == "G"          # what the final's rule would say
    prepared = prepare(soldiers_joy_opening, melody.vocab.config)
    metre = metre_of(prepared)
    assert likeliest_key(melody.net, melody.vocab, prepared, metre, prepared.end + 8 * metre.bar_ticks) == "D"
    result = generate(melody.net, melody.vocab, GenerationRequest(count=4, bars=8, seed=3), primer=soldiers_joy_opening)
    assert result.prompt_key == "D"
    assert all(piece.key == "D" for piece in result.pieces)             # the output's signature names it
    assert [piece.notes[-1].pitch % 12 for piece in result.pieces] == [2, 2, 2, 2]   # closed on D


def test_a_primers_own_key_signature_is_kept(melody, soldiers_joy_opening):
    result = generate(melody.net, melody.vocab, GenerationRequest(count=2, bars=4, seed=1),
                      primer=soldiers_joy_opening.replace(key="G"))
    assert result.prompt_key == "G"


def test_nothing_to_choose_without_key_tokens(soldiers_joy_opening):
    vocab = Vocabulary(EncodingConfig(ticks_per_beat=4))
    net = ComposerLM(ModelConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=8))
    prepared = prepare(soldiers_joy_opening, vocab.config)
    assert likeliest_key(net, vocab, prepared, metre_of(prepared), prepared.end) is None
