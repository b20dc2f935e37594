"""Harmonize, regenerate a region and write chorales with a real (tiny) trained harmony model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from composer.core.modelfile import ModelFileError
from composer.harmony.inference import (HarmonyError, generate_chorale, harmonize, load_harmony_model, regenerate_region,
                              soprano_shift)
from composer.music.midi_io import read_midi
from composer.music.notes import Note, Piece, TimeSignature, Voice, select_voices, transpose
from composer.harmony.grid import HOLD, piece_to_frames, sounding_pitches, to_frame
from tests.harmony.conftest import REPO, chorale_paths

FOLK = REPO / "midi_data" / "folk_melodies"


def soprano_of(path) -> Piece:
    return select_voices(read_midi(path), [0])


def notes_of(piece: Piece, voice: int) -> list[tuple]:
    return sorted((n.start, n.end, n.pitch, n.velocity) for n in piece.notes if n.voice == voice)


def check_four_parts_in_limits(piece: Piece, model, shift: int = 0) -> None:
    assert [v.name for v in piece.voices] == ["Soprano", "Alto", "Tenor", "Bass"]
    for voice in (1, 2, 3):
        low, high = model.voice_limits[voice]
        pitches = [n.pitch + shift for n in piece.notes if n.voice == voice]
        assert pitches, f"voice {voice} is empty"
        assert low <= min(pitches) and max(pitches) <= high


@pytest.mark.parametrize("offset", [1, 7, 33])
def test_harmonizing_a_chorale_soprano_keeps_it_exactly(tiny_harmony, offset):
    path = chorale_paths(40, offset)[0]
    melody = soprano_of(path)
    result = harmonize(tiny_harmony, melody, count=2, temperature=1.0, seed=offset)
    assert len(result.pieces) == 2 and result.transposed == 0
    for piece in result.pieces:
        assert notes_of(piece, 0) == notes_of(melody, 0)
        assert piece.ticks_per_beat == melody.ticks_per_beat
        assert piece.time_signatures == melody.time_signatures and piece.tempos == melody.tempos
        check_four_parts_in_limits(piece, tiny_harmony)
        assert max(n.end for n in piece.notes) <= melody.end + melody.ticks_per_beat // 4


def test_a_folk_tune_with_triplets_and_pickup_keeps_every_note(tiny_harmony):
    """Folk tunes sit on a 12-per-beat grid (triplets); the model hears 16ths, the soprano stays as written."""
    for path in sorted(FOLK.glob("*/*.mid"))[:40]:
        melody = read_midi(path)
        if any(n.start % 3 for n in melody.notes):       # has notes off the 16th grid
            break
    else:
        pytest.fail("no folk tune with off-grid notes among the first 40")
    result = harmonize(tiny_harmony, melody, seed=1)
    piece = result.pieces[0]
    assert notes_of(piece, 0) == sorted((n.start, n.end, n.pitch, n.velocity) for n in melody.notes)


def test_a_melody_outside_the_soprano_range_is_moved_in_and_back(tiny_harmony):
    melody = soprano_of(chorale_paths(10, 3)[0])
    low_melody = transpose(melody, -24)                  # two octaves down: far below any soprano
    result = harmonize(tiny_harmony, low_melody, seed=4)
    assert result.transposed == 24
    piece = result.pieces[0]
    assert notes_of(piece, 0) == notes_of(low_melody, 0)
    check_four_parts_in_limits(piece, tiny_harmony, shift=24)   # lower voices moved back down with it


def test_a_harmony_that_would_leave_the_midi_range_is_refused(tiny_harmony):
    melody = Piece((Note(0, 12, 2), Note(12, 24, 5)), 12)   # so low that the bass would fall below MIDI 0
    with pytest.raises(HarmonyError, match="too low"):
        harmonize(tiny_harmony, melody)


def test_a_melody_too_wide_for_a_soprano_is_refused(tiny_harmony):
    wide = Piece((Note(0, 12, 40), Note(12, 24, 90)), 12)
    with pytest.raises(HarmonyError, match="spans 50 semitones"):
        harmonize(tiny_harmony, wide)


def test_soprano_shift_prefers_octaves():
    assert soprano_shift([60, 72], [55, 83]) == 0
    assert soprano_shift([36, 48], [55, 83]) == 24
    assert soprano_shift([50, 75], [55, 83]) == 5        # no octave fits a 25-semitone line here


@pytest.mark.parametrize("melody, message", [
    (Piece((), 12), "no notes"),
    (Piece((Note(0, 24, 60), Note(12, 36, 64)), 12), "two notes sound together at bar 1, beat 2"),
    (Piece((Note(0, 24, 60, voice=0), Note(24, 36, 64, voice=1)), 12, voices=(Voice("a"), Voice("b"))),
     "2 parts"),
])
def test_bad_melodies_get_clear_errors(tiny_harmony, melody, message):
    with pytest.raises(HarmonyError, match=message):
        harmonize(tiny_harmony, melody)


def test_a_fiddle_tune_with_double_stops_is_sung_by_its_top_notes(tiny_harmony):
    """A real tune (airdsAirs book 4, no. 0) has four-note chords on two downbeats: its top line is sung."""
    tune = read_midi(REPO / "midi_data" / "folk_melodies" / "airdsAirs" / "book4_0000.mid")
    onsets = Counter(n.start for n in tune.notes)
    chord_starts = sorted(start for start, count in onsets.items() if count > 1)
    assert len(chord_starts) >= 2
    result = harmonize(tiny_harmony, tune, seed=1)
    assert result.chords_reduced == len(chord_starts)
    tops = {}
    for note in tune.notes:
        if note.start not in tops or note.pitch > tops[note.start].pitch:
            tops[note.start] = note
    soprano = [(n.start, n.end, n.pitch) for n in result.pieces[0].notes if n.voice == 0]
    assert soprano == [(n.start, n.end, n.pitch) for _, n in sorted(tops.items())]


def test_chords_at_many_onsets_are_not_a_melody(tiny_harmony):
    notes = [Note(12 * i, 12 * i + 12, 72 - i % 5) for i in range(20)]
    few = notes + [Note(0, 12, 60), Note(120, 132, 55)]            # chords at 2 of 20 onsets: fine
    assert harmonize(tiny_harmony, Piece(tuple(sorted(few, key=lambda n: (n.start, n.pitch))), 12),
                     seed=0).chords_reduced == 2
    many = notes + [Note(12 * i, 12 * i + 12, 55) for i in range(0, 20, 4)]   # 5 of 20
    with pytest.raises(HarmonyError, match="chords at 5 of its 20 onsets"):
        harmonize(tiny_harmony, Piece(tuple(sorted(many, key=lambda n: (n.start, n.pitch))), 12))


def test_legato_overlaps_are_not_polyphony(tiny_harmony):
    melody = Piece((Note(0, 13, 67), Note(12, 24, 69), Note(24, 48, 71)), 12)
    piece = harmonize(tiny_harmony, melody, seed=2).pieces[0]
    assert [(n.start, n.end, n.pitch) for n in piece.notes if n.voice == 0] == [(0, 12, 67), (12, 24, 69),
                                                                              (24, 48, 71)]


def test_any_length_one_note_and_very_long(tiny_harmony):
    one = harmonize(tiny_harmony, Piece((Note(0, 3, 72),), 12), seed=0).pieces[0]
    assert notes_of(one, 0) == [(0, 3, 72, 90)]
    long_line = Piece(tuple(Note(6 * i, 6 * i + 6, 60 + (i * 7) % 12) for i in range(2000)), 12,
                      time_signatures=(TimeSignature(0, 3, 4),))   # 250 bars of 3/4 eighth notes
    piece = harmonize(tiny_harmony, long_line, seed=0).pieces[0]
    assert len(notes_of(piece, 0)) == 2000


def test_same_seed_same_harmony_and_count_rows_differ(tiny_harmony):
    melody = soprano_of(chorale_paths(10, 5)[0])
    first = harmonize(tiny_harmony, melody, count=3, temperature=1.0, seed=11)
    again = harmonize(tiny_harmony, melody, count=3, temperature=1.0, seed=11)
    assert [p.notes for p in first.pieces] == [p.notes for p in again.pieces]
    assert len({p.notes for p in first.pieces}) > 1


def test_cancelling_returns_none(tiny_harmony):
    melody = soprano_of(chorale_paths(10, 6)[0])
    calls = []
    assert harmonize(tiny_harmony, melody, on_step=lambda done, total: calls.append((done, total)) or done >= 5) \
        is None
    assert calls[-1][0] == 5 and calls[-1][1] > 5


def clipped(piece: Piece, voice: int, low: int, high: int) -> list[tuple]:
    """The voice's notes cut to [low, high): (start, end, pitch) of what sounds there."""
    return sorted((max(n.start, low), min(n.end, high), n.pitch) for n in piece.notes
                  if n.voice == voice and n.start < high and n.end > low)


def outside_is_untouched(before: Piece, after: Piece, start: int, end: int, voices: list[int]) -> None:
    """Every note of other voices identical; chosen voices sound exactly the same outside [start, end)."""
    for voice in range(4):
        if voice not in voices:
            assert notes_of(after, voice) == notes_of(before, voice)
    grid_before = sounding_pitches(piece_to_frames(before))
    grid_after = sounding_pitches(piece_to_frames(after, len(grid_before)))
    first, last = to_frame(start, before.ticks_per_beat), to_frame(end, before.ticks_per_beat)
    outside = np.ones(len(grid_before), dtype=bool)
    outside[first:last] = False
    assert (grid_after[outside] == grid_before[outside]).all()
    for voice in voices:          # to the tick: what sounds before and after the region is unchanged
        for low, high in ((0, start), (end, 10**9)):
            assert clipped(after, voice, low, high) == clipped(before, voice, low, high)
    for note in after.notes:      # a new note lies in the region, or is the outside part of a cut note
        if note.voice in voices and note not in before.notes:
            assert (start <= note.start and note.end <= end) or note.end == start or note.start == end


@pytest.mark.parametrize("bars, voices", [((2, 4), [1, 2]), ((0, 1), [3]), ((3, 5), [0, 1, 2, 3])])
def test_regenerating_a_region_leaves_everything_outside_it_untouched(tiny_harmony, bars, voices):
    piece = read_midi(chorale_paths(10, 2)[0])
    bar = piece.ticks_per_bar
    half_beat = piece.ticks_per_beat // 2
    start, end = bars[0] * bar + half_beat, bars[1] * bar + half_beat        # edges inside notes
    results = regenerate_region(tiny_harmony, piece, start, end, voices, count=4, temperature=1.0, seed=3)
    changed = 0
    for after in results.pieces:
        outside_is_untouched(piece, after, start, end, voices)
        changed += after.notes != piece.notes
    assert changed >= 1
    inside = [n for n in results.pieces[0].notes if n.voice in voices and start <= n.start < end]
    assert inside, "the region was left empty"


def test_regeneration_never_extends_a_note_held_into_the_region(tiny_harmony):
    piece = read_midi(chorale_paths(10, 4)[0])
    start = piece.ticks_per_beat * 4 + piece.ticks_per_beat // 4
    grids = [piece_to_frames(p) for p in regenerate_region(tiny_harmony, piece, start, start * 2, [1, 2],
                                                          count=8, seed=9).pieces]
    first = to_frame(start, piece.ticks_per_beat)
    assert all(grid[first, v] != HOLD for grid in grids for v in (1, 2))


def test_bad_regions_and_voices(tiny_harmony):
    piece = read_midi(chorale_paths(10, 4)[0])
    with pytest.raises(HarmonyError, match="shorter than a 16th"):
        regenerate_region(tiny_harmony, piece, 100, 101, [1])
    with pytest.raises(HarmonyError, match="choose voices"):
        regenerate_region(tiny_harmony, piece, 0, 10080, [])
    with pytest.raises(HarmonyError, match="four-part"):
        regenerate_region(tiny_harmony, select_voices(piece, [0]).replace(voices=piece.voices[:1]), 0, 10080, [0])


def test_free_chorales_have_four_voices_and_the_asked_length(tiny_harmony):
    result = generate_chorale(tiny_harmony, bars=4, count=2, seed=1)
    for piece in result.pieces:
        assert piece.end <= 4 * piece.ticks_per_bar
        assert {n.voice for n in piece.notes} <= {0, 1, 2, 3}
        for voice, (low, high) in enumerate(tiny_harmony.voice_limits):
            assert all(low <= n.pitch <= high for n in piece.notes if n.voice == voice)


def test_a_melody_model_file_is_not_a_harmony_model():
    with pytest.raises(ModelFileError, match="melody .event. model file; this needs a 4-part harmony model file"):
        load_harmony_model(REPO / "midi_data" / "models" / "melody.pt")


def test_harmony_file_is_plain_data_and_keeps_limits(tiny_harmony_path):
    import torch

    checkpoint = torch.load(tiny_harmony_path, weights_only=True)
    assert checkpoint["kind"] == "composer-harmony-model" and checkpoint["format_version"] == 1
    assert len(checkpoint["satb"]["voice_limits"]) == 4
    assert "valid" in checkpoint["metrics"] and "resume" in checkpoint


def test_the_key_is_told_to_the_model_and_reported(tiny_harmony):
    melody = soprano_of(chorale_paths(10, 5)[0])
    assert harmonize(tiny_harmony, melody, seed=1).key == melody.key          # the file's key signature
    result = harmonize(tiny_harmony, melody.replace(key=None), seed=1, key="Dm")
    assert result.key == "Dm" and result.pieces[0].key == "Dm"
    low = harmonize(tiny_harmony, transpose(melody, -24).replace(key="G"), seed=1)
    assert low.key == "G" and low.transposed == 24                             # told in the moved key, reported as is
    with pytest.raises(HarmonyError, match="H"):
        harmonize(tiny_harmony, melody, key="H")
    assert generate_chorale(tiny_harmony, bars=2, key="Em", seed=1).pieces[0].key == "Em"


def test_the_fused_decoder_step_matches_the_module(tiny_harmony):
    import torch

    from composer.core.lstm_step import FusedStack

    lstm = tiny_harmony.net.decoder
    x = torch.randn(3, 5, lstm.input_size)
    expected, _ = lstm(x)
    step = FusedStack(lstm)
    state = step.zeros(3)
    for t in range(5):
        out, state = step(x[:, t], state)
        assert torch.allclose(out, expected[:, t], atol=1e-6)


@pytest.mark.parametrize("offset", [0, 3, 12])
def test_with_rules_there_are_no_parallels_crossings_or_wide_spacing(tiny_harmony, offset):
    from composer.harmony.evaluate import voice_leading_counts

    melody = soprano_of(chorale_paths(20, offset)[0])
    raw = rules = 0
    for seed in range(3):
        with_rules = harmonize(tiny_harmony, melody, count=2, temperature=1.0, seed=seed).pieces
        without = harmonize(tiny_harmony, melody, count=2, temperature=1.0, seed=seed, rules=False).pieces
        for piece in with_rules:
            counts = voice_leading_counts(piece_to_frames(piece))
            rules += counts["parallel_fifths"] + counts["parallel_octaves"] + counts["crossings"] + counts["spacing"]
        for piece in without:
            counts = voice_leading_counts(piece_to_frames(piece))
            raw += counts["parallel_fifths"] + counts["parallel_octaves"] + counts["crossings"] + counts["spacing"]
    assert rules == 0
    assert raw > 0      # the tiny model left to itself does break them: the rules are doing the work



def test_search_keeps_the_likeliest_of_several_draws(tiny_harmony):
    import torch

    from composer.harmony.sampler import _fill, fill
    from composer.harmony.grid import MASK, UNKNOWN_KEY, positions_for

    melody = soprano_of(chorale_paths(10, 5)[0])
    result = harmonize(tiny_harmony, melody, count=2, temperature=1.0, seed=3, search=4)
    assert len(result.pieces) == 2 and all(notes_of(p, 0) == notes_of(melody, 0) for p in result.pieces)
    piece = read_midi(chorale_paths(10, 5)[0])
    given = piece_to_frames(piece)
    given[:, 1:] = MASK
    positions = positions_for(piece.time_signatures, piece.ticks_per_beat, len(given))
    best = fill(tiny_harmony, given, positions, count=1, temperature=1.0, seed=3, search=4)[0]
    with torch.no_grad():
        draws, scores = _fill(tiny_harmony, given, positions, 4, 1.0, 3, None, True, UNKNOWN_KEY, score=True)
    assert len(set(scores.tolist())) > 1                 # the draws differ in likelihood
    assert (best == draws[scores.argmax()]).all()


def test_a_time_capped_harmony_run_ends_with_the_learning_rate_decayed(tmp_path):
    """1000 epochs asked, time for about four allowed: the cosine is fitted to the epochs that fit."""
    import shutil
    import time

    from composer.harmony.train import train_harmony
    from tests.harmony.conftest import TINY_HARMONY

    folder = tmp_path / "chorales"
    folder.mkdir()
    for path in chorale_paths(16, 2):
        shutil.copyfile(path, folder / path.name)
    started = time.perf_counter()
    train_harmony(folder, tmp_path / "one.pt", TINY_HARMONY.replace(epochs=1))   # sizes the budget
    one_epoch = time.perf_counter() - started
    config = TINY_HARMONY.replace(epochs=1000, max_minutes=4 * one_epoch / 60, patience=1000)
    history = train_harmony(folder, tmp_path / "capped.pt", config)["history"]
    assert 2 <= len(history) < 1000
    # fitted to the epochs that fit: falling from the first epoch on, well below the top by the last (how far
    # depends on how the machine's speed moved during the run); a cosine over 1000 epochs would still be
    # warming up here, its learning rate rising
    assert history[-1]["lr"] < min(history[0]["lr"], 0.9 * config.lr)
