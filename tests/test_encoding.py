"""Notes <-> token ids (composer.melody.encoding): exact round trips, the grammar mask, real corpora."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.melody.encoding import (BOS, EOS, PAD, EncodingConfig, Vocabulary, decode, encode, pitch_span, prepare,
                               transpose_ids)
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice, clean, quantize, transpose

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# for tests parametrized over all nine configurations: 9 x 100 examples in all
PER_CONFIG = settings(PROPERTY, max_examples=100)

# The configurations under test. Small max_shift/max_duration make chained SHIFT/DUR tokens common.
CONFIGS = {
    "mono": EncodingConfig(),
    "mono_short_tokens": EncodingConfig(ticks_per_beat=4, max_shift=5, max_duration=3, min_pitch=48, max_pitch=72),
    "mono_vel8": EncodingConfig(velocity_bins=8),
    "mono_advance": EncodingConfig(durations_advance=True),
    "mono_advance_short": EncodingConfig(ticks_per_beat=4, max_shift=5, max_duration=3, min_pitch=48, max_pitch=72,
                                         velocity_bins=8, durations_advance=True),
    "poly": EncodingConfig(monophonic=False, max_shift=16, max_duration=16),
    "satb": EncodingConfig(ticks_per_beat=4, num_voices=4, monophonic=False, max_shift=16, max_duration=8),
    "poly_vel8": EncodingConfig(num_voices=2, monophonic=False, velocity_bins=8, max_shift=20, max_duration=10),
    "satb_vel127": EncodingConfig(ticks_per_beat=4, num_voices=4, monophonic=False, velocity_bins=127,
                                  min_pitch=0, max_pitch=127),
}
VOCABS = {name: Vocabulary(config) for name, config in CONFIGS.items()}
MASKS = {name: vocab.grammar_mask() for name, vocab in VOCABS.items()}


# -- strategies ----------------------------------------------------------------------------------------------
def template(vocab: Vocabulary) -> Piece:
    """An empty piece with the facts decode() fills in by default, so decode(encode(p)) == p compares all."""
    return decode([BOS, EOS], vocab)


def velocities(vocab: Vocabulary) -> st.SearchStrategy[int]:
    config = vocab.config
    if not config.velocity_bins:
        return st.just(config.default_velocity)
    return st.sampled_from([vocab.bin_velocity(b) for b in range(config.velocity_bins)])


def lengths(limit: int) -> st.SearchStrategy[int]:
    """Mostly short, sometimes several times the longest single token, sometimes an exact multiple of it."""
    return st.one_of(st.integers(1, 8), st.integers(1, 5 * limit), st.integers(1, 4).map(lambda k: k * limit))


def gaps(limit: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 4), st.integers(0, 5 * limit), st.integers(1, 3).map(lambda k: k * limit))


@st.composite
def grid_pieces(draw, vocab: Vocabulary, max_notes: int = 24):
    """A random piece that fits ``vocab`` exactly.

    Monophonic encodings get a line of non-overlapping notes (rests between them, possibly long); the others
    get notes anywhere (chords, overlaps across voices), run through clean() to resolve duplicates of one
    pitch in one voice.
    """
    config = vocab.config
    pitch = st.integers(config.min_pitch, config.max_pitch)
    velocity = velocities(vocab)
    count = draw(st.integers(0, max_notes))
    notes = []
    if config.monophonic:
        cursor = 0
        for _ in range(count):
            start = cursor + draw(gaps(config.max_shift))
            end = start + draw(lengths(config.max_duration))
            notes.append(Note(start, end, draw(pitch), draw(velocity), 0))
            cursor = end
    else:
        horizon = draw(st.sampled_from([8, 4 * config.max_shift, 20 * config.max_shift]))
        for _ in range(count):
            start = draw(st.integers(0, horizon))
            notes.append(Note(start, start + draw(lengths(config.max_duration)), draw(pitch), draw(velocity),
                              draw(st.integers(0, config.num_voices - 1))))
    return clean(template(vocab).replace(notes=tuple(notes)))


def token_pairs_allowed(ids, mask) -> bool:
    return bool(all(mask[a, b] for a, b in zip(ids[:-1], ids[1:])))


# -- round trips -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CONFIGS))
@PER_CONFIG
@given(data=st.data())
def test_decode_encode_is_exact(name, data):
    vocab = VOCABS[name]
    piece = data.draw(grid_pieces(vocab))
    ids = encode(piece, vocab)
    assert ids.dtype == np.int64 and ids.ndim == 1
    assert ids[0] == BOS and ids[-1] == EOS
    assert BOS not in ids[1:] and EOS not in ids[:-1] and PAD not in ids
    assert decode(ids, vocab) == piece
    # what encode writes is what the grammar allows (so a model trained on it can be sampled under it)
    assert token_pairs_allowed(ids, MASKS[name])
    # one PITCH token per note; the cursor ends at the last onset (at the last note's end when durations
    # advance, and then SHIFTs are the rests only); DURs add up to the total length
    kinds = [vocab.kind(int(t)) for t in ids]
    assert kinds.count("PITCH") == len(piece.notes)
    cursor = sum(int(vocab.shift_steps[t]) for t in ids)
    shifts = sum(int(t) - vocab.shift_offset + 1 for t in ids if vocab.kind(int(t)) == "SHIFT")
    durations = sum(int(t) - vocab.duration_offset + 1 for t in ids if vocab.kind(int(t)) == "DUR")
    assert durations == sum(n.duration for n in piece.notes)
    if vocab.config.durations_advance:
        assert cursor == (piece.notes[-1].end if piece.notes else 0)
        assert shifts == (piece.notes[-1].end if piece.notes else 0) - durations
    else:
        assert cursor == shifts == (piece.notes[-1].start if piece.notes else 0)


@settings(PROPERTY, max_examples=50)
@given(data=st.data())
def test_decode_keeps_given_facts(data):
    vocab = VOCABS["satb"]
    notes = data.draw(grid_pieces(vocab)).notes
    voices = (Voice("Soprano", 52), Voice("Alto", 53), Voice("Tenor", 54), Voice("Bass", 55))
    piece = Piece(notes=notes, ticks_per_beat=4, voices=voices, tempos=(TempoChange(0, 72.5),),
                  time_signatures=(TimeSignature(0, 3, 2),), key="F#m", name="chorale")
    assert decode(encode(piece, vocab), vocab, qpm=72.5, time_signature=(3, 2), voices=voices, key="F#m",
                  name="chorale") == piece


def test_long_gaps_and_notes_chain_tokens():
    vocab = VOCABS["mono"]  # max_shift = max_duration = 48
    piece = template(vocab).replace(notes=(Note(100, 196, 60), Note(196, 197, 62), Note(1000, 1049, 64)))
    ids = encode(piece, vocab)
    names = [vocab.names[t] for t in ids]
    assert names == ["BOS", "SHIFT_48", "SHIFT_48", "SHIFT_4", "PITCH_60", "DUR_48", "DUR_48",
                     "SHIFT_48", "SHIFT_48", "PITCH_62", "DUR_1",
                     *["SHIFT_48"] * 16, "SHIFT_36", "PITCH_64", "DUR_48", "DUR_1", "EOS"]
    assert decode(ids, vocab) == piece


def test_voice_and_velocity_tokens_only_on_change():
    vocab = VOCABS["poly_vel8"]
    v_low, v_high = vocab.bin_velocity(1), vocab.bin_velocity(6)
    default = vocab.bin_velocity(vocab.velocity_bin(90))
    piece = template(vocab).replace(notes=(Note(0, 2, 60, default, 0), Note(0, 2, 64, default, 1),
                                           Note(0, 2, 67, v_high, 1), Note(3, 4, 48, v_high, 1),
                                           Note(3, 4, 72, v_low, 0)))
    names = [vocab.names[t] for t in encode(piece, vocab)]
    assert names == ["BOS", "PITCH_60", "DUR_2", "VOICE_1", "PITCH_64", "DUR_2", "VEL_6", "PITCH_67", "DUR_2",
                     "SHIFT_3", "VOICE_0", "VEL_1", "PITCH_72", "DUR_1", "VOICE_1", "VEL_6", "PITCH_48", "DUR_1",
                     "EOS"]
    assert decode(encode(piece, vocab), vocab) == piece


def test_empty_piece_is_bos_eos():
    vocab = VOCABS["mono"]
    ids = encode(template(vocab), vocab)
    assert list(ids) == [BOS, EOS]
    assert decode(ids, vocab).notes == ()


def test_velocity_bins_are_consistent():
    for bins in range(1, 128):
        vocab = Vocabulary(EncodingConfig(velocity_bins=bins))
        assigned = [vocab.velocity_bin(v) for v in range(1, 128)]
        assert assigned == sorted(assigned) and assigned[0] == 0 and assigned[-1] == bins - 1, bins
        assert set(assigned) == set(range(bins)), bins  # every bin is used
        for b in range(bins):
            velocity = vocab.bin_velocity(b)
            assert 1 <= velocity <= 127, (bins, b)
            assert vocab.velocity_bin(velocity) == b, (bins, b)  # a bin's velocity falls back into the bin
            members = [v for v in range(1, 128) if assigned[v - 1] == b]
            assert velocity == (members[0] + members[-1]) // 2, (bins, b)  # the middle of the bin's range


def test_127_velocity_bins_are_exact():
    vocab = VOCABS["satb_vel127"]
    assert [vocab.bin_velocity(vocab.velocity_bin(v)) for v in range(1, 128)] == list(range(1, 128))


def test_velocity_is_binned_without_velocity_bins_default_is_used():
    vocab = VOCABS["mono"]
    piece = template(vocab).replace(notes=(Note(0, 4, 60, velocity=17),))
    assert decode(encode(piece, vocab), vocab).notes == (Note(0, 4, 60, velocity=vocab.config.default_velocity),)
    vocab = VOCABS["mono_vel8"]
    back = decode(encode(piece.replace(), vocab), vocab).notes[0]
    assert back.velocity == vocab.bin_velocity(vocab.velocity_bin(17)) and vocab.velocity_bin(back.velocity) == 1


# -- what encode refuses ---------------------------------------------------------------------------------
def test_encode_rejects_piece_on_another_grid():
    vocab = VOCABS["mono"]
    with pytest.raises(ValueError, match="ticks per beat"):
        encode(Piece(notes=(Note(0, 4, 60),), ticks_per_beat=480), vocab)


@pytest.mark.parametrize("pitch", [20, 109, 0, 127])
def test_encode_rejects_pitch_out_of_range(pitch):
    vocab = VOCABS["mono"]  # 21..108
    with pytest.raises(ValueError, match=str(pitch)):
        encode(template(vocab).replace(notes=(Note(0, 4, 60), Note(4, 8, pitch))), vocab)


@pytest.mark.parametrize(("name", "voice"), [("mono", 1), ("satb", 4), ("satb", 9)])
def test_encode_rejects_voice_out_of_range(name, voice):
    vocab = VOCABS[name]
    piece = template(vocab).replace(notes=(Note(0, 4, 60, voice=voice),))
    with pytest.raises(ValueError, match="voice"):
        encode(piece, vocab)


# -- the grammar mask -------------------------------------------------------------------------------------
def sample_under_mask(vocab: Vocabulary, mask: np.ndarray, rng: np.random.Generator, soft_cap: int) -> list[int]:
    """Walk the mask from BOS choosing uniformly among allowed tokens until EOS; past ``soft_cap``
    tokens, steer towards EOS (EOS if allowed, else a pitch, else anything but another long DUR)."""
    seq = [BOS]
    longest_dur = vocab.duration(vocab.config.max_duration)
    while seq[-1] != EOS:
        allowed = np.flatnonzero(mask[seq[-1]])
        assert allowed.size, f"dead end after {vocab.names[seq[-1]]}"
        if len(seq) >= soft_cap:
            if EOS in allowed:
                allowed = np.array([EOS])
            elif any(t in vocab.pitch_ids for t in allowed):
                allowed = np.array([t for t in allowed if t in vocab.pitch_ids])
            else:
                allowed = allowed[allowed != longest_dur]
        seq.append(int(rng.choice(allowed)))
        assert len(seq) < soft_cap + 10
    return seq


def reference_notes(seq: list[int], vocab: Vocabulary) -> list[Note]:
    """An independent reading of a grammatical sequence, by token name rather than id arithmetic."""
    config = vocab.config
    cursor, voice = 0, 0
    velocity = vocab.bin_velocity(vocab.velocity_bin(config.default_velocity)) if config.velocity_bins \
        else config.default_velocity
    notes: list[list[int]] = []
    for token in seq[1:-1]:
        kind, _, value = vocab.names[token].partition("_")
        if kind == "SHIFT":
            cursor += int(value)
        elif kind == "VOICE":
            voice = int(value)
        elif kind == "VEL":
            velocity = vocab.bin_velocity(int(value))
        elif kind == "PITCH":
            notes.append([cursor, cursor, int(value), velocity, voice])
        elif kind == "DUR":
            notes[-1][1] += int(value)  # the grammar puts a DUR only after a PITCH or a longest DUR
            if config.durations_advance:
                cursor += int(value)
        else:
            raise AssertionError(f"unexpected {vocab.names[token]} inside a sequence")
    return [Note(*n) for n in notes]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_sequences_sampled_under_the_grammar_decode_in_full(name):
    vocab, mask = VOCABS[name], MASKS[name]
    rng = np.random.default_rng(sorted(CONFIGS).index(name))
    note_counts = []
    for _ in range(60):
        seq = sample_under_mask(vocab, mask, rng, soft_cap=300)
        seq = seq + [PAD] * 3  # padding after EOS is allowed and ignored
        assert token_pairs_allowed(seq, mask)
        piece = decode(seq, vocab)
        expected = reference_notes(seq[: seq.index(EOS) + 1], vocab)
        assert piece.notes == Piece(notes=tuple(expected), ticks_per_beat=1).notes  # every token was consumed
        assert len(piece.notes) == sum(vocab.kind(t) == "PITCH" for t in seq)
        if vocab.config.monophonic:
            assert len({n.start for n in piece.notes}) == len(piece.notes)  # one note per onset
        # the decoded piece, cleaned, is a valid piece that encodes and decodes to itself
        cleaned = clean(piece)
        ids = encode(cleaned, vocab)
        assert ids[0] == BOS and ids[-1] == EOS
        assert decode(ids, vocab) == cleaned
        assert token_pairs_allowed(ids, mask)
        note_counts.append(len(piece.notes))
    assert max(note_counts) >= 3  # the walk did produce real music, not just BOS EOS


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_grammar_mask_shape(name):
    vocab, mask = VOCABS[name], MASKS[name]
    size = len(vocab)
    assert mask.shape == (size, size) and mask.dtype == bool
    pitches = [t for t in range(size) if vocab.kind(t) == "PITCH"]
    durations = [t for t in range(size) if vocab.kind(t) == "DUR"]
    assert pitches == list(vocab.pitch_ids)
    for p in pitches:  # a pitch is always followed by its length
        assert np.flatnonzero(mask[p]).tolist() == durations
    assert np.flatnonzero(mask[EOS]).tolist() == [PAD] and np.flatnonzero(mask[PAD]).tolist() == [PAD]
    assert not mask[:, BOS].any()  # nothing leads back to BOS
    longest = vocab.duration(vocab.config.max_duration)
    assert all(mask[longest, d] for d in durations)
    assert not any(mask[d, d2] for d in durations if d != longest for d2 in durations)
    if vocab.config.monophonic and not vocab.config.durations_advance:  # after a note, time must move on
        assert not any(mask[d, p] for d in durations for p in pitches)
    else:  # (when durations advance, the note's length has moved it on)
        assert all(mask[durations[0], p] for p in pitches)


@PROPERTY
@given(st.sampled_from(sorted(CONFIGS)), st.lists(st.integers(-3, 400), max_size=200))
def test_any_token_sequence_decodes_to_a_valid_piece(name, ids):
    vocab = VOCABS[name]
    config = vocab.config
    piece = decode(ids, vocab)
    for n in piece.notes:
        assert n.end > n.start >= 0
        assert config.min_pitch <= n.pitch <= config.max_pitch
        assert 0 <= n.voice < config.num_voices
        assert 1 <= n.velocity <= 127
    assert decode(encode(clean(piece), vocab), vocab) == clean(piece)


# -- vocabulary and config --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_vocabulary_layout(name):
    vocab = VOCABS[name]
    config = vocab.config
    assert vocab.names[:3] == ["PAD", "BOS", "EOS"]
    assert len(set(vocab.names)) == len(vocab)
    kinds = [vocab.kind(t) for t in range(len(vocab))]
    assert kinds.count("SHIFT") == config.max_shift
    assert kinds.count("VOICE") == (config.num_voices if config.num_voices > 1 else 0)
    assert kinds.count("VEL") == config.velocity_bins
    assert kinds.count("PITCH") == config.max_pitch - config.min_pitch + 1
    assert kinds.count("DUR") == config.max_duration
    assert vocab.names[vocab.shift(3)] == "SHIFT_3" and vocab.shift_steps[vocab.shift(3)] == 3
    assert vocab.names[vocab.pitch(config.min_pitch)] == f"PITCH_{config.min_pitch}"
    assert vocab.names[vocab.duration(config.max_duration)] == f"DUR_{config.max_duration}"
    advance = config.max_duration * (config.max_duration + 1) // 2 if config.durations_advance else 0
    assert int(vocab.shift_steps.sum()) == config.max_shift * (config.max_shift + 1) // 2 + advance


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_vocabulary_dict_round_trip(name):
    vocab = VOCABS[name]
    saved = json.loads(json.dumps(vocab.to_dict()))  # as stored in a model file
    again = Vocabulary.from_dict(saved)
    assert again.names == vocab.names
    assert again.config == vocab.config
    assert np.array_equal(again.grammar_mask(), MASKS[name])
    assert EncodingConfig.from_dict(vocab.config.to_dict()) == vocab.config


def test_vocabulary_from_dict_rejects_mismatched_tokens():
    saved = VOCABS["poly"].to_dict()
    renamed = dict(saved, tokens=[*saved["tokens"][:-1], "DUR_999"])
    with pytest.raises(ValueError, match="does not match"):
        Vocabulary.from_dict(renamed)
    shorter = dict(saved, tokens=saved["tokens"][:-1])
    with pytest.raises(ValueError):
        Vocabulary.from_dict(shorter)
    other_settings = dict(saved, config=dict(saved["config"], max_pitch=100))  # tokens of the old settings
    with pytest.raises(ValueError):
        Vocabulary.from_dict(other_settings)
    with pytest.raises(ValueError, match="unknown"):
        Vocabulary.from_dict(dict(saved, config=dict(saved["config"], colour="blue")))


@pytest.mark.parametrize("changes", [
    {"ticks_per_beat": 0}, {"max_shift": 0}, {"max_duration": -1}, {"num_voices": 0}, {"num_voices": 17},
    {"velocity_bins": 128}, {"velocity_bins": -1}, {"min_pitch": 60, "max_pitch": 59}, {"max_pitch": 128},
    {"min_pitch": -1}, {"default_velocity": 0}, {"default_velocity": 128},
    {"durations_advance": True, "monophonic": False}, {"durations_advance": True, "num_voices": 2},
])
def test_config_rejects_bad_settings(changes):
    with pytest.raises(ValueError, match="EncodingConfig"):
        EncodingConfig(**changes)


# -- prepare ----------------------------------------------------------------------------------------------
def test_prepare_folds_pitches_by_octaves():
    config = EncodingConfig(monophonic=False)  # 21..108
    piece = Piece(notes=(Note(0, 12, 5), Note(0, 12, 60), Note(12, 24, 127), Note(24, 36, 20), Note(24, 36, 109)),
                  ticks_per_beat=12)
    ready = prepare(piece, config)
    assert ready.notes == (Note(0, 12, 29), Note(0, 12, 60), Note(12, 24, 103), Note(24, 36, 32), Note(24, 36, 97))
    assert [n.pitch for n in piece.notes] == [5, 60, 127, 20, 109]  # the input is untouched


def test_prepare_drops_pitches_that_cannot_fold_into_a_narrow_range():
    config = EncodingConfig(monophonic=False, min_pitch=60, max_pitch=64)
    piece = Piece(notes=(Note(0, 1, 66), Note(1, 2, 50), Note(2, 3, 77), Note(3, 4, 100)), ticks_per_beat=12)
    assert prepare(piece, config).notes == (Note(1, 2, 62), Note(3, 4, 64))


def test_prepare_quantizes():
    config = EncodingConfig(monophonic=False, ticks_per_beat=4)
    piece = Piece(notes=(Note(59, 300, 60), Note(130, 170, 62)), ticks_per_beat=480,
                  tempos=(TempoChange(0, 100.0), TempoChange(960, 80.0)))
    ready = prepare(piece, config)
    assert ready.ticks_per_beat == 4
    assert ready.notes == (Note(0, 3, 60), Note(1, 2, 62))
    assert ready.tempos == (TempoChange(0, 100.0), TempoChange(8, 80.0))


def test_prepare_reduces_to_one_line_when_monophonic():
    voices = (Voice("S"), Voice("A"))
    piece = Piece(notes=(Note(0, 24, 60, voice=1), Note(0, 12, 67, voice=0), Note(12, 24, 65, voice=0),
                         Note(24, 36, 55, voice=1)), ticks_per_beat=12, voices=voices)
    mono = prepare(piece, EncodingConfig())
    assert mono.notes == (Note(0, 12, 67), Note(12, 24, 65), Note(24, 36, 55))
    assert len(mono.voices) == 1 and mono.is_monophonic()
    poly = prepare(piece, EncodingConfig(monophonic=False, num_voices=2))
    assert poly.notes == piece.notes and poly.voices == voices


def test_prepare_drops_voices_the_encoding_cannot_hold():
    voices = (Voice("S"), Voice("A"), Voice("T"), Voice("B"))
    piece = Piece(notes=tuple(Note(0, 4, 70 - 5 * v, voice=v) for v in range(4)), ticks_per_beat=4, voices=voices)
    ready = prepare(piece, EncodingConfig(ticks_per_beat=4, num_voices=2, monophonic=False))
    assert ready.voices == voices[:2]
    assert ready.notes == (Note(0, 4, 70, voice=0), Note(0, 4, 65, voice=1))


@st.composite
def any_pieces(draw):
    """Pieces from anywhere: any resolution, any pitch 0..127, up to 6 voices, any velocity."""
    tpb = draw(st.sampled_from([1, 3, 4, 12, 96, 220, 480]))
    count = draw(st.integers(0, 30))
    notes = []
    for _ in range(count):
        start = draw(st.integers(0, 40 * tpb))
        notes.append(Note(start, start + draw(st.integers(1, 8 * tpb)), draw(st.integers(0, 127)),
                          draw(st.integers(1, 127)), draw(st.integers(0, 5))))
    return Piece(notes=tuple(notes), ticks_per_beat=tpb, voices=tuple(Voice(f"v{i}") for i in range(6)))


@PROPERTY
@given(st.sampled_from(["mono", "mono_short_tokens", "satb", "poly_vel8"]), any_pieces())
def test_prepare_makes_any_piece_encodable(name, piece):
    vocab = VOCABS[name]
    config = vocab.config
    ready = prepare(piece, vocab.config)
    assert ready.ticks_per_beat == config.ticks_per_beat
    assert len(ready.voices) <= config.num_voices
    if config.monophonic:
        assert ready.is_monophonic()
        assert {n.start for n in ready.notes} == {n.start for n in quantize(piece, config.ticks_per_beat).notes}
    back = decode(encode(ready, vocab), vocab)

    def as_decoded(n: Note) -> Note:
        velocity = vocab.bin_velocity(vocab.velocity_bin(n.velocity)) if config.velocity_bins \
            else config.default_velocity
        return dataclasses.replace(n, velocity=velocity)

    assert back.notes == Piece(notes=tuple(as_decoded(n) for n in ready.notes), ticks_per_beat=1).notes


# -- token-level transposition ------------------------------------------------------------------------------
@PROPERTY
@given(st.sampled_from(["poly", "satb", "poly_vel8", "mono_short_tokens"]), st.data())
def test_transpose_ids_and_pitch_span_agree_with_the_piece(name, data):
    vocab = VOCABS[name]
    config = vocab.config
    piece = data.draw(grid_pieces(vocab))
    ids = encode(piece, vocab)
    original = ids.copy()
    pitches = [n.pitch for n in piece.notes]
    assert pitch_span(ids, vocab) == ((min(pitches), max(pitches)) if pitches else None)
    low = config.min_pitch - (min(pitches) if pitches else config.min_pitch)
    high = config.max_pitch - (max(pitches) if pitches else config.max_pitch)
    semitones = data.draw(st.integers(low, high))
    moved = transpose_ids(ids, semitones, vocab)
    assert np.array_equal(ids, original)  # a copy; the input is untouched
    assert np.array_equal(moved, encode(transpose(piece, semitones), vocab))
    assert pitch_span(moved, vocab) == ((min(pitches) + semitones, max(pitches) + semitones) if pitches else None)
    assert decode(moved, vocab).notes == transpose(piece, semitones).notes


# -- the real corpora -------------------------------------------------------------------------------------
def test_round_trip_on_every_chorale_in_four_voices(chorale_pieces):
    config = EncodingConfig(ticks_per_beat=4, num_voices=4, monophonic=False)
    vocab = Vocabulary(config)
    mask = vocab.grammar_mask()
    failures = []
    for path, piece in chorale_pieces:
        ready = prepare(piece, config)
        coarse = quantize(piece, 4)
        assert len(ready.voices) == 4 and ready.voices == piece.voices, path.name
        assert len(ready.notes) == len(coarse.notes), path.name  # nothing lost to the pitch range
        ids = encode(ready, vocab)
        assert token_pairs_allowed(ids, mask), path.name
        back = decode(ids, vocab, qpm=ready.qpm, voices=ready.voices, key=ready.key, name=ready.name)
        expected = tuple(dataclasses.replace(n, velocity=config.default_velocity) for n in ready.notes)
        if back.notes != expected:
            failures.append(f"{path.name}: {len(set(expected) - set(back.notes))} notes differ")
    assert failures == []


def test_round_trip_on_folk_sample_with_default_config(folk_pieces):
    config = EncodingConfig()
    vocab = Vocabulary(config)
    mask = vocab.grammar_mask()
    failures = []
    assert len(folk_pieces) >= 300
    for path, piece in folk_pieces:
        ready = prepare(piece, config)
        assert ready.notes and ready.is_monophonic(), path.name
        ids = encode(ready, vocab)
        assert token_pairs_allowed(ids, mask), path.name
        back = decode(ids, vocab)
        expected = tuple(dataclasses.replace(n, velocity=config.default_velocity) for n in ready.notes)
        if back.notes != expected:
            failures.append(f"{path.name}: {len(set(expected) - set(back.notes))} notes differ")
    assert failures == []


def test_durations_advance_refuses_overlapping_notes():
    vocab = VOCABS["mono_advance"]
    piece = template(vocab).replace(notes=(Note(0, 24, 60, 90, 0), Note(12, 36, 62, 90, 0)))
    with pytest.raises(ValueError, match="starts before the previous one ends"):
        encode(piece, vocab)


def test_durations_advance_round_trips_the_folk_sample_in_two_thirds_of_the_tokens(folk_pieces):
    plain, advancing = Vocabulary(EncodingConfig()), Vocabulary(EncodingConfig(durations_advance=True))
    mask = advancing.grammar_mask()
    plain_tokens = advancing_tokens = 0
    for path, piece in folk_pieces:
        ready = prepare(piece, advancing.config)
        ids = encode(ready, advancing)
        assert token_pairs_allowed(ids, mask), path.name
        assert decode(ids, advancing).notes == decode(encode(ready, plain), plain).notes, path.name
        plain_tokens += len(encode(ready, plain))
        advancing_tokens += len(ids)
    # a folk tune is mostly legato: nearly every SHIFT goes
    assert advancing_tokens < 0.72 * plain_tokens, (advancing_tokens, plain_tokens)
