"""Sampling and batch generation with tiny models really trained on folk melodies (both encodings)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from composer.melody.encoding import BOS, EOS, PAD, decode, encode, prepare
from composer.melody.generate import GenerationRequest, generate
from composer.music.keys import scale_pitch_classes
from composer.music.metre import metre_of
from composer.music.midi_io import read_midi
from composer.music.notes import Note, Piece, crop
from composer.melody.sample import Sampler, SamplingOptions

from .beam_scoring import masked_log_probability_per_note

from .conftest import folk_files

BLACK_KEYS = {1, 3, 6, 8, 10}


def notes_of(result) -> list[tuple]:
    return [piece.notes for piece in result.pieces]


@pytest.fixture(scope="module", params=["shift", "durations_advance"])
def loaded(request):
    """Every test runs on two tiny models: time moved by SHIFT tokens only, and by DUR tokens too."""
    return request.getfixturevalue("tiny_loaded" if request.param == "shift" else "tiny_advancing_loaded")


@pytest.fixture(scope="module")
def model(loaded):
    return loaded.net


@pytest.fixture(scope="module")
def vocab(loaded):
    return loaded.vocab


@pytest.fixture(scope="module")
def bar(vocab) -> int:
    return vocab.config.ticks_per_beat * 4     # the folk melodies and generation default to 4/4


@pytest.fixture(scope="module")
def primer() -> Piece:
    """A real folk tune (as read from its file, at the file's resolution)."""
    return read_midi(folk_files()[500])


def pitch_biased_model(model, vocab, pitch_classes: set[int], amount: float = 30.0):
    """A copy of the model that all but always picks pitches of the given classes, wherever allowed."""
    biased = copy.deepcopy(model)
    with torch.no_grad():
        for token in vocab.pitch_ids:
            pitch = token - vocab.pitch_offset + vocab.config.min_pitch
            if pitch % 12 in pitch_classes:
                biased.head.bias[token] += amount
    return biased


# -- reproducibility ----------------------------------------------------------------------------------
def test_same_seed_same_music_other_seed_other_music(model, vocab):
    request = GenerationRequest(count=4, bars=4, seed=21)
    first = generate(model, vocab, request)
    second = generate(model, vocab, request)
    assert first.seed == 21
    assert notes_of(first) == notes_of(second)
    other = generate(model, vocab, GenerationRequest(count=4, bars=4, seed=22))
    assert notes_of(other) != notes_of(first)
    # the variations in one batch differ from each other
    assert len({piece.notes for piece in first.pieces}) > 1


def test_random_seed_is_reported_and_reproduces(model, vocab):
    result = generate(model, vocab, GenerationRequest(count=2, bars=2))
    assert isinstance(result.seed, int)
    again = generate(model, vocab, GenerationRequest(count=2, bars=2, seed=result.seed))
    assert notes_of(again) == notes_of(result)


@pytest.mark.parametrize("count", [1, 5])
def test_count_pieces_each_ending_by_the_requested_bar(model, vocab, bar, count):
    result = generate(model, vocab, GenerationRequest(count=count, bars=4, seed=3))
    assert len(result.pieces) == count
    assert result.primer_ticks == 0 and result.length_ticks == 4 * bar
    for index, piece in enumerate(result.pieces):
        assert piece.name == f"variation {index + 1}"
        assert piece.notes, "a trained model writes notes"
        assert piece.ticks_per_beat == vocab.config.ticks_per_beat
        assert piece.end <= 4 * bar
        assert min(n.start for n in piece.notes) >= 0
        assert piece.is_monophonic()
        assert all(vocab.config.min_pitch <= n.pitch <= vocab.config.max_pitch for n in piece.notes)


def test_pieces_fill_the_requested_length(model, vocab, bar):
    """EOS is refused before the requested length: the music goes on into the last bars."""
    result = generate(model, vocab, GenerationRequest(count=8, bars=4, seed=4))
    for piece in result.pieces:
        assert piece.notes[-1].start >= 2 * bar, piece.notes[-1]


def test_qpm_of_the_output(model, vocab):
    assert generate(model, vocab, GenerationRequest(count=1, bars=1, seed=1)).pieces[0].qpm == 120.0
    assert generate(model, vocab, GenerationRequest(count=1, bars=1, seed=1, qpm=90)).pieces[0].qpm == 90


# -- constraints ---------------------------------------------------------------------------------------
def test_key_of_c_has_no_black_keys(model, vocab):
    for seed in range(3):
        result = generate(model, vocab, GenerationRequest(count=8, bars=4, seed=seed, key="C", temperature=1.5))
        classes = {n.pitch % 12 for piece in result.pieces for n in piece.notes}
        assert classes and not classes & BLACK_KEYS, classes


def test_key_mask_beats_a_model_that_wants_black_keys(model, vocab):
    biased = pitch_biased_model(model, vocab, BLACK_KEYS)
    free = generate(biased, vocab, GenerationRequest(count=4, bars=4, seed=1))
    free_classes = [n.pitch % 12 for piece in free.pieces for n in piece.notes]
    assert free_classes and all(c in BLACK_KEYS for c in free_classes)   # the bias works...
    masked = generate(biased, vocab, GenerationRequest(count=4, bars=4, seed=1, key="C"))
    masked_classes = {n.pitch % 12 for piece in masked.pieces for n in piece.notes}
    assert masked_classes and not masked_classes & BLACK_KEYS            # ...and the key wins


def test_key_of_f_sharp_major(model, vocab):
    allowed = {6, 8, 10, 11, 1, 3, 5}
    assert scale_pitch_classes("F#") == allowed
    biased = pitch_biased_model(model, vocab, {0, 2, 4, 7, 9})     # wants the notes F# major lacks
    for m in (model, biased):
        result = generate(m, vocab, GenerationRequest(count=6, bars=4, seed=9, key="F#"))
        classes = {n.pitch % 12 for piece in result.pieces for n in piece.notes}
        assert classes and classes <= allowed, classes
        assert all(piece.key == "F#" for piece in result.pieces)


def test_top_k_one_is_greedy(model, vocab):
    one = generate(model, vocab, GenerationRequest(count=3, bars=4, seed=1, top_k=1))
    two = generate(model, vocab, GenerationRequest(count=3, bars=4, seed=2, top_k=1))
    assert notes_of(one) == notes_of(two)
    assert one.pieces[0].notes == one.pieces[1].notes == one.pieces[2].notes
    # a vanishing nucleus keeps only the likeliest token too
    nucleus = generate(model, vocab, GenerationRequest(count=3, bars=4, seed=3, top_p=1e-6))
    assert notes_of(nucleus) == notes_of(one)
    # while plain sampling with those seeds differs
    assert notes_of(generate(model, vocab, GenerationRequest(count=3, bars=4, seed=1))) != notes_of(one)


@pytest.mark.parametrize("kwargs, word", [
    ({"temperature": 0}, "temperature"),
    ({"temperature": -1.0}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_k": -1}, "top_k"),
    ({"top_p": 0.0}, "top_p"),
    ({"top_p": 1.5}, "top_p"),
])
def test_sampling_option_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        SamplingOptions(**kwargs)
    with pytest.raises(ValueError, match=word):
        GenerationRequest(**kwargs)


@pytest.mark.parametrize("kwargs, word", [
    ({"count": 0}, "count"),
    ({"bars": 0}, "bars"),
    ({"bars": -1}, "bars"),
    ({"qpm": 10}, "tempo"),
    ({"beam": -2}, "beam"),
    ({"key": "H"}, "key"),
])
def test_request_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        GenerationRequest(**kwargs)


# -- primer ----------------------------------------------------------------------------------------------
def test_primer_is_kept_at_the_start_exactly(model, vocab, primer):
    prepared = prepare(primer, vocab.config)
    expected, metre = prepared.notes, metre_of(prepared)
    assert metre.phase > 0, "this tune opens with a pickup"
    bar = metre.bar_ticks
    start = metre.phase + -(-(max(n.end for n in expected) - metre.phase) // bar) * bar   # the primer's next bar line
    for seed in range(3):
        result = generate(model, vocab, GenerationRequest(count=4, bars=2, seed=seed), primer=primer)
        assert result.primer_ticks == start and result.length_ticks == start + 2 * bar
        for piece in result.pieces:
            assert piece.notes[:len(expected) - 1] == expected[:-1]
            assert piece.notes[len(expected) - 1] == expected[-1], \
                f"seed {seed}: primer's last note {expected[-1]} came out as {piece.notes[len(expected) - 1]}"
            assert len(piece.notes) > len(expected), "new music follows the primer"
            assert piece.end <= start + 2 * bar


def test_continuation_only_leaves_the_primer_out(model, vocab, primer):
    prepared = prepare(primer, vocab.config)
    bar = metre_of(prepared).bar_ticks
    request = GenerationRequest(count=4, bars=2, seed=5)
    full = generate(model, vocab, request, primer=primer)
    alone = generate(model, vocab, GenerationRequest(count=4, bars=2, seed=5, keep_primer=False), primer=primer)
    start = full.primer_ticks
    assert start >= prepared.end > 0
    assert alone.primer_ticks == 0 and alone.length_ticks == 2 * bar
    primer_notes = {(n.start, n.pitch) for n in prepared.notes}
    for whole, part in zip(full.pieces, alone.pieces):
        assert part.notes == crop(whole, start, start + 2 * bar).notes    # same music, primer cut off
        assert part.notes and part.notes[0].start >= 0
        assert part.end <= 2 * bar
        assert not {(n.start + start, n.pitch) for n in part.notes} & primer_notes


def test_primer_without_usable_notes(model, vocab):
    with pytest.raises(ValueError, match="primer"):
        generate(model, vocab, GenerationRequest(count=1, bars=1, seed=1),
                 primer=Piece(notes=(), ticks_per_beat=480))


def test_primer_at_another_resolution_is_prepared(model, vocab, bar):
    primer = Piece(notes=tuple(Note(480 * i, 480 * i + 480, 60 + 2 * i) for i in range(8)), ticks_per_beat=480)
    result = generate(model, vocab, GenerationRequest(count=2, bars=1, seed=2), primer=primer)
    assert result.primer_ticks == 2 * bar
    for piece in result.pieces:
        assert [(n.start, n.pitch) for n in piece.notes[:7]] == [(12 * i, 60 + 2 * i) for i in range(7)]


# -- beam search -------------------------------------------------------------------------------------------
def test_beam_search_returns_count_pieces_deterministically(model, vocab, bar):
    first = generate(model, vocab, GenerationRequest(count=3, bars=2, beam=4, seed=1))
    second = generate(model, vocab, GenerationRequest(count=3, bars=2, beam=4, seed=99))
    assert len(first.pieces) == 3
    assert notes_of(first) == notes_of(second)                 # no randomness in beam search
    for piece in first.pieces:
        assert piece.notes and piece.end <= 2 * bar and piece.is_monophonic()
    keyed = generate(model, vocab, GenerationRequest(count=2, bars=2, beam=2, key="C"))
    assert not {n.pitch % 12 for p in keyed.pieces for n in p.notes} & BLACK_KEYS


def test_beam_rows_are_ranked_and_reach_the_length(model, vocab, bar):
    sampler = Sampler(model, vocab)
    prompt = np.array([BOS], dtype=np.int64)
    rows = sampler.beam_search(prompt, width=5, until_tick=2 * bar, count=5)
    assert len(rows) == 5
    assert len({tuple(row) for row in rows}) == 5                # distinct beams
    again = sampler.beam_search(prompt, width=5, until_tick=2 * bar, count=5)
    assert all(np.array_equal(a, b) for a, b in zip(rows, again))
    assert len(sampler.beam_search(prompt, width=2, until_tick=bar, count=4)) == 4   # width grows to count
    scores = []
    for row in rows:
        assert row[0] == BOS and EOS not in row and PAD not in row
        assert int(vocab.shift_steps[row].sum()) == 2 * bar              # exactly the length asked
        scores.append(masked_log_probability_per_note(sampler, row, 2 * bar))
    assert scores == sorted(scores, reverse=True)                     # best first, by what the search ranks




# -- the sampler itself ---------------------------------------------------------------------------------------
def test_sampled_rows_obey_the_grammar_and_reach_the_length(model, vocab):
    sampler = Sampler(model, vocab)
    grammar = vocab.grammar_mask()
    rows = sampler.sample(np.array([BOS]), 6, 96, SamplingOptions(temperature=2.0, seed=8))
    assert len(rows) == 6
    for row in rows:
        assert row[0] == BOS and EOS not in row and PAD not in row
        assert all(grammar[a, b] for a, b in zip(row[:-1], row[1:]))
        assert int(vocab.shift_steps[row].sum()) >= 96
        assert int(vocab.shift_steps[row[:-1]].sum()) < 96      # stops as soon as it gets there


def test_eos_is_refused_before_the_length_even_when_the_model_wants_it(model, vocab):
    eager = copy.deepcopy(model)
    with torch.no_grad():
        eager.head.bias[EOS] += 50.0
    sampler = Sampler(eager, vocab)
    rows = sampler.sample(np.array([BOS]), 4, 144, SamplingOptions(seed=1))
    for row in rows:
        assert int(vocab.shift_steps[row].sum()) >= 144
    result = generate(eager, vocab, GenerationRequest(count=3, bars=3, seed=1))
    assert all(piece.notes for piece in result.pieces)


def test_sampling_continues_a_prompt(model, vocab, primer):
    prompt = encode(prepare(primer, vocab.config), vocab)[:-1]
    sampler = Sampler(model, vocab)
    cursor = int(vocab.shift_steps[prompt].sum())
    rows = sampler.sample(prompt, 3, cursor + 48, SamplingOptions(seed=2))
    for row in rows:
        assert np.array_equal(row[:len(prompt)], prompt)
        assert len(row) > len(prompt)
    # reading the prompt in one pass then stepping == stepping through it token by token
    state, last, start = sampler.prime(prompt, 2)
    assert start == cursor and last.tolist() == [int(prompt[-1])] * 2
    step_state = sampler.stepper.initial_state(1)
    with torch.no_grad():
        for token in prompt[:-1]:
            _, step_state = sampler.stepper(torch.tensor([int(token)]), step_state)
    torch.testing.assert_close(state[0][0][0], step_state[0][0][0], atol=1e-5, rtol=1e-5)


def test_bad_prompts(model, vocab):
    sampler = Sampler(model, vocab)
    with pytest.raises(ValueError, match="BOS"):
        sampler.sample(np.array([vocab.shift(4)]), 1, 48, SamplingOptions())
    with pytest.raises(ValueError, match="EOS"):
        sampler.sample(np.array([BOS, vocab.pitch(60), vocab.duration(4), EOS]), 1, 48, SamplingOptions())
    with pytest.raises(ValueError, match="BOS"):
        sampler.sample(np.array([], dtype=np.int64), 1, 48, SamplingOptions())


def test_sampler_refuses_a_vocabulary_of_another_size(model):
    from composer.melody.encoding import EncodingConfig, Vocabulary
    with pytest.raises(ValueError, match="outputs"):
        Sampler(model, Vocabulary(EncodingConfig(max_shift=12)))


def test_on_step_can_cancel(model, vocab):
    calls = []

    def on_step(step, tokens):
        calls.append(step)
        return step == 9

    result = generate(model, vocab, GenerationRequest(count=2, bars=8, seed=1), on_step=on_step)
    assert calls == list(range(10))
    assert len(result.pieces) == 2
    full = generate(model, vocab, GenerationRequest(count=2, bars=8, seed=1))
    assert sum(len(p.notes) for p in result.pieces) < sum(len(p.notes) for p in full.pieces)


def test_decoded_rows_match_generated_pieces(model, vocab):
    sampler = Sampler(model, vocab)
    rows = sampler.sample(np.array([BOS]), 2, 96, SamplingOptions(seed=12))
    result = generate(model, vocab, GenerationRequest(count=2, bars=2, seed=12, temperature=1.0))
    for row, piece in zip(rows, result.pieces):
        decoded = decode(row, vocab)
        assert [(n.start, n.pitch) for n in piece.notes] == [(n.start, n.pitch) for n in decoded.notes if n.start < 96]


def test_the_advancing_encoding_is_saved_and_samples_two_tokens_per_legato_note(tiny_advancing_loaded,
                                                                                tiny_loaded):
    checkpoint = tiny_advancing_loaded.checkpoint
    assert checkpoint["vocabulary"]["config"]["durations_advance"] is True
    assert checkpoint["recipe"]["config"]["encoding"]["durations_advance"] is True
    assert not tiny_loaded.vocab.config.durations_advance
    tokens_per_note = {}
    for name, loaded in {"advance": tiny_advancing_loaded, "shift": tiny_loaded}.items():
        m, v = loaded.net, loaded.vocab
        rows = Sampler(m, v).sample(np.array([BOS]), 8, 16 * 48, SamplingOptions(seed=3))
        notes = sum(len(decode(row, v).notes) for row in rows)
        tokens_per_note[name] = sum(len(row) - 1 for row in rows) / notes
        for row in rows:   # the sampler's time cursor and the decoded music agree
            piece = decode(row, v)
            assert int(v.shift_steps[row].sum()) >= 16 * 48
            kinds = [v.kind(int(t)) for t in row]
            last_note = len(kinds) - kinds[::-1].index("PITCH")          # just past the last PITCH
            music = row[:last_note + kinds[last_note:].count("DUR")]      # the row without its final rest
            expected = piece.notes[-1].end if v.config.durations_advance else piece.notes[-1].start
            assert int(v.shift_steps[music].sum()) == expected
    assert tokens_per_note["advance"] < 2.5 < tokens_per_note["shift"], tokens_per_note


# -- the closing cadence ----------------------------------------------------------------------------------
def test_the_cadence_guide_ends_every_piece_on_the_tonic_even_against_the_model(model, vocab):
    """A model pushed to play D and E all but always still ends on C when asked for C; without the guide it
    does not. Before the final beat the music is the model's: D and E throughout."""
    biased = pitch_biased_model(model, vocab, {2, 4}, amount=8.0)
    guided = generate(biased, vocab, GenerationRequest(count=8, bars=4, seed=3, key="C"))
    free = generate(biased, vocab, GenerationRequest(count=8, bars=4, seed=3, key="C", cadence=False))
    for piece in guided.pieces:
        last = max(piece.notes, key=lambda n: n.start)
        assert last.pitch % 12 == 0, [(n.start, n.pitch) for n in piece.notes[-4:]]
        assert piece.end <= guided.length_ticks
        before = [n.pitch % 12 for n in piece.notes if n.end <= guided.length_ticks - vocab.config.ticks_per_beat]
        assert sum(pc in (2, 4) for pc in before) >= 0.8 * len(before)
    assert sum(max(p.notes, key=lambda n: n.start).pitch % 12 == 0 for p in free.pieces) <= 2
