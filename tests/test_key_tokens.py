"""KEY tokens: the key is encoded first, moves with transposition, and conditions generation."""

from pathlib import Path

import numpy as np
import pytest

from composer.melody.model import load_melody_model
from composer.music.analysis import estimate_key
from composer.melody.encoding import BOS, EncodingConfig, Vocabulary, decode, encode, prepare, transpose_ids
from composer.music.keys import scale_pitch_classes
from composer.music.midi_io import read_midi
from composer.music.notes import transpose

FOLK = Path(__file__).resolve().parent.parent / "midi_data" / "folk_melodies"
VOCAB = Vocabulary(EncodingConfig(key_tokens=True, min_pitch=36, max_pitch=96))


def folk_piece(name="airdsAirs/book1_0003.mid"):
    return prepare(read_midi(FOLK / name), VOCAB.config)


def test_key_token_follows_bos_and_names_the_estimated_key():
    piece = folk_piece()
    ids = encode(piece, VOCAB)
    assert ids[0] == BOS
    assert VOCAB.kind(int(ids[1])) == "KEY"
    assert VOCAB.key_of(int(ids[1])) == estimate_key(piece).key


def test_a_key_signature_in_the_file_wins_over_the_estimate():
    piece = folk_piece().replace(key="Bbm")
    assert VOCAB.key_of(int(encode(piece, VOCAB)[1])) == "Bbm"


def test_round_trip_keeps_notes_and_sets_the_key():
    piece = folk_piece()
    decoded = decode(encode(piece, VOCAB), VOCAB)
    assert decoded.notes == piece.notes
    assert decoded.key == estimate_key(piece).key


@pytest.mark.parametrize("semitones", [-5, -1, 1, 3, 6])
def test_token_transposition_moves_the_key_with_the_pitches(semitones):
    piece = folk_piece().replace(key="Em")
    moved = transpose_ids(encode(piece, VOCAB), semitones, VOCAB)
    assert np.array_equal(moved, encode(transpose(piece, semitones), VOCAB))


def test_grammar_puts_a_key_after_bos_and_nowhere_else():
    mask = VOCAB.grammar_mask()
    keys = [t for t in range(len(VOCAB)) if VOCAB.kind(t) == "KEY"]
    assert len(keys) == 24
    assert set(np.flatnonzero(mask[BOS])) == set(keys)
    assert not mask[:, keys][[t for t in range(len(VOCAB)) if t != BOS]].any()


def test_church_modes_map_to_the_key_token_of_their_tonic():
    assert VOCAB.key_of(VOCAB.key("Ddor")) == "Dm"
    assert VOCAB.key_of(VOCAB.key("G mixolydian")) == "G"


def test_encoding_without_key_tokens_has_none():
    plain = Vocabulary(EncodingConfig())
    assert not any(name.startswith("KEY_") for name in plain.names)
    with pytest.raises(ValueError, match="no key tokens"):
        plain.key("C")


def test_generation_asked_for_a_key_starts_with_that_key(tmp_path):
    """A tiny key-conditioned model trained for real; --key forces the KEY token and the scale."""
    import shutil

    from composer.melody.generate import GenerationRequest, generate
    from composer.melody.train import TrainConfig, train

    data = tmp_path / "data"
    data.mkdir()
    for path in sorted((FOLK / "airdsAirs").glob("*.mid"))[:24]:
        shutil.copy(path, data)
    config = TrainConfig.of(hidden_size=32, embedding_size=16, batch_size=4, bptt=32, epochs=1, key_tokens=True,
                         min_pitch=36, max_pitch=96)
    train(data, tmp_path / "m.pt", config)

    loaded = load_melody_model(tmp_path / "m.pt")

    model, vocab = loaded.net, loaded.vocab
    result = generate(model, vocab, GenerationRequest(count=3, bars=4, key="F#", seed=5))
    allowed = scale_pitch_classes("F#")
    for piece in result.pieces:
        assert piece.key == "F#"
        assert piece.notes and all(n.pitch % 12 in allowed for n in piece.notes)
