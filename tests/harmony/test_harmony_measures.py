"""evaluate-harmony's musical measures: attacks, on-beat clashes, final bass and chord, bootstrap intervals.

Hand-built four-part grids with known counts check the functions; real bundled chorales check them against
counts taken another way (the notes in the MIDI file); the shipped chorale.pt checks that the seeded
scores are exactly those of ``harmonize`` with its defaults.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from composer.cli.harmony import DEFAULT_TEMPERATURE
from composer.harmony.evaluate import (attack_counts, bootstrap_interval, clash_counts, compare, evaluate_harmony,
                                       final_bass, final_chord, report_lines, texture_counts)
from composer.harmony.grid import chorale_from_piece, piece_to_frames
from composer.harmony.inference import DEFAULT_HARMONY_MODEL, harmonize, load_harmony_model
from composer.music.midi_io import read_midi
from composer.music.notes import select_voices, to_monophonic
from tests.harmony.conftest import CHORALES, chorale_paths
from tests.harmony.grids import grid

SHORT_CHORALES = ("bwv286.mid", "bwv255.mid", "bwv265.mid")     # 96, 128 and 128 frames


# -- hand-built grids --------------------------------------------------------------------------------------
def test_attacks_count_new_notes_per_voice_and_frames_where_any_lower_voice_attacks():
    frames = grid([72, "-", "-", "-", 74, "-", "-", "-"],
                  [67, "-", 65, "-", 67, "-", "-", "-"],         # 3 attacks
                  [64, "-", "-", "-", 64, "-", None, 60],        # 3: a repeated pitch is a new note
                  [48, "-", "-", "-", "-", "-", "-", "-"])       # 1
    assert attack_counts(frames) == {"alto": 3, "tenor": 3, "bass": 1, "chord": 4}   # frames 0, 2, 4, 7
    soprano_only = grid([72, 74, 76, 77], [60, "-", "-", "-"], [None] * 4, [48, "-", "-", "-"])
    assert attack_counts(soprano_only) == {"alto": 1, "tenor": 0, "bass": 1, "chord": 1}   # S attacks don't count


def test_clashes_count_beats_with_a_semitone_or_major_seventh_against_the_soprano():
    s, a, t, b = ([None] * 24 for _ in range(4))
    chord = lambda frame, *pitches: [col.__setitem__(frame, p) for col, p in zip((s, a, t, b), pitches)]
    chord(0, 72, 67, 64, 48)       # C major: no clash
    chord(2, 72, 71, 64, 48)       # m2 off the beat (frame 2): not counted
    chord(4, 74, 73, 64, 50)       # alto a minor second below: clash
    chord(8, 72, 67, 64, 49)       # bass C#3 under C5: 23 semitones, a compound major seventh: clash
    chord(12, 74, 67, 61, 50)      # tenor C#4 under D5: a minor ninth: clash
    chord(16, 72, 73, 64, 48)      # alto crossed a semitone above the soprano: clash
    chord(20, 72, 70, 62, 50)      # major second, ninth (14 semitones): no clash
    chord(21, None, 61, 62, 50)
    assert clash_counts(grid(s, a, t, b)) == (4, 6)
    s[20] = None                   # a beat with the soprano silent is not a beat counted
    assert clash_counts(grid(s, a, t, b)) == (4, 5)
    held = grid([72, "-", "-", "-", "-"], [67, "-", "-", "-", 71], [64] + ["-"] * 4, [48] + ["-"] * 4)
    assert clash_counts(held) == (1, 2)   # a held soprano still sounds on the next beat (frame 4)
    counts = texture_counts(grid(s, a, t, b))
    assert counts["clash_beats"] == 4 and counts["soprano_beats"] == 5 and counts["chord_attacks"] == 8


def test_final_bass_and_chord_read_the_last_sounding_notes():
    frames = grid([72, "-", 71, "-", 72, "-", None, None],
                  [67, "-", 65, "-", 64, "-", None, None],
                  [64, "-", 62, "-", 55, "-", "-", None],
                  [43, "-", 43, "-", 36, "-", "-", "-"])
    assert final_bass(frames) == 0                           # C2, held past the upper voices
    assert final_bass(frames[:4]) == 7                       # G2
    assert final_chord(frames) == {0}                        # the last sounding frame holds only the bass
    assert final_chord(frames[:6]) == {0, 4, 7}              # C major, doubled C
    assert final_bass(grid([72], [67], [64], [None])) is None and final_chord(grid(*[[None]] * 4)) == frozenset()
    picardy = grid([72, 72], [67, 67], [63, 64], [48, 48])
    assert final_chord(picardy[:1]) == {0, 3, 7} and final_chord(picardy) == {0, 4, 7}


def test_compare_matches_final_bass_by_pitch_class_and_chord_by_pitch_class_set():
    original = grid([72, "-"], [67, "-"], [64, "-"], [48, "-"])
    octave_lower = grid([72, "-"], [64, "-"], [60, "-"], [36, "-"])      # bass C2, chord C-E (no G)
    scores = compare(octave_lower, original)
    assert scores["final_bass_match"] == 1.0 and scores["final_chord_match"] == 0.0
    other = grid([72, "-"], [67, "-"], [64, "-"], [45, "-"])              # A bass: A minor seventh
    assert compare(other, original)["final_bass_match"] == 0.0
    assert compare(original, original)["final_chord_match"] == 1.0
    assert compare(original, original)["note_accuracy"] == [1.0, 1.0, 1.0]


# -- real chorales --------------------------------------------------------------------------------------
def test_attacks_equal_the_notes_of_each_voice_in_real_chorales():
    for path in chorale_paths(12, 3):
        piece = read_midi(path)
        counts = attack_counts(chorale_from_piece(piece).frames)
        assert [counts[v] for v in ("alto", "tenor", "bass")] == [len(piece.voice_notes(v)) for v in (1, 2, 3)]
        assert max(counts["alto"], counts["tenor"], counts["bass"]) <= counts["chord"] <= sum(
            counts[v] for v in ("alto", "tenor", "bass"))


def test_bach_clashes_rarely_and_ends_where_his_final_chord_says():
    clashes = beats = 0
    for path in chorale_paths(12, 5):
        frames = chorale_from_piece(read_midi(path)).frames
        c, b = clash_counts(frames)
        clashes, beats = clashes + c, beats + b
        assert final_bass(frames) in final_chord(frames)
    assert beats > 300 and clashes / beats < 0.06       # the issue measures about 2 % of Bach's beats


def test_bootstrap_interval_holds_the_estimate_and_narrows_with_more_pieces():
    rates, weights = [], []
    for path in chorale_paths(32, 1):
        frames = chorale_from_piece(read_midi(path)).frames
        rates.append(100 * attack_counts(frames)["chord"])
        weights.append(len(frames) / 4)
    rates, weights = np.array(rates, dtype=float), np.array(weights)
    widths = []
    for count in (4, 8, 32):
        low, high = bootstrap_interval(rates[:count], weights[:count])
        assert low <= rates[:count].sum() / weights[:count].sum() <= high
        widths.append(high - low)
    assert widths[0] > widths[2] and widths[1] > widths[2]
    four = bootstrap_interval(np.tile(rates[:8], 4), np.tile(weights[:8], 4))   # same pieces, 4 times as many
    assert four[1] - four[0] < 0.7 * widths[1]
    assert bootstrap_interval(rates[:8], weights[:8]) == bootstrap_interval(rates[:8], weights[:8])   # fixed seed
    assert bootstrap_interval([0.3] * 5) == pytest.approx([0.3, 0.3])
    low, high = bootstrap_interval([0, 1, 1, 0, 1, 1])
    assert 0 <= low < 4 / 6 < high <= 1
    assert all(np.isnan(bootstrap_interval([])))


# -- the shipped model ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load_harmony_model(DEFAULT_HARMONY_MODEL)


@pytest.fixture(scope="module")
def short_chorales(tmp_path_factory):
    folder = tmp_path_factory.mktemp("short-chorales")
    for name in SHORT_CHORALES[:2]:
        shutil.copyfile(CHORALES / name, folder / name)
    return folder


@pytest.mark.slow
def test_seeded_scores_are_those_of_harmonize_with_its_defaults(shipped, short_chorales):
    report = evaluate_harmony(shipped, short_chorales, temperature=DEFAULT_TEMPERATURE, seed=3, seeds=2)
    totals = report.totals()
    assert totals["pieces"] == 2 and totals["seeds"] == 2 and totals["per_seed"]["seed"] == [3, 4]
    piece = read_midi(short_chorales / SHORT_CHORALES[0])
    original = chorale_from_piece(piece).frames
    soprano = to_monophonic(select_voices(piece, [0]))
    scored = next(p for p in report.pieces if p["name"] == SHORT_CHORALES[0])
    for run in scored["per_seed"]:
        written = harmonize(shipped, soprano, temperature=DEFAULT_TEMPERATURE, seed=run["seed"]).pieces[0]
        direct = compare(piece_to_frames(written, len(original)), original)
        assert run["note_accuracy"] == pytest.approx(np.mean(direct["note_accuracy"]))
        assert run["final_bass_match"] == direct["final_bass_match"]
        assert run["chord_attacks"] == direct["model"]["chord_attacks"]
    assert scored["original"] == {**scored["original"], **texture_counts(original)}
    assert totals["note_accuracy"]["mean"] == pytest.approx(np.mean(totals["per_seed"]["note_accuracy"]))
    assert totals["final_bass_match"] == pytest.approx(np.mean(totals["per_seed"]["final_bass_match"]))
    for key in ("note_accuracy", "final_bass_match", "final_chord_match"):
        value = totals[key]["mean"] if key == "note_accuracy" else totals[key]
        assert totals[f"{key}_ci"][0] <= value <= totals[f"{key}_ci"][1]
    for side in ("original", "model"):
        low, high = totals["chord_attacks_ci"][side]
        assert low <= totals["attacks_per_100_beats"][side]["chord"] <= high
        assert totals["clash_rate_ci"][side][0] <= totals["clash_rate"][side] <= totals["clash_rate_ci"][side][1]
    lines = "\n".join(report_lines(totals))
    assert "spread over 2 seeds (3..4)" in lines and "chord attacks per 100 beats" in lines
