"""How good is a harmony model? Harmonize real chorales' sopranos and compare with the originals.

Per piece: alto/tenor/bass token accuracy per 16th-note frame (the written token: pitch attack, HOLD or
REST) and sounding-pitch accuracy, the NLL of the true alto/tenor/bass given the soprano, and
voice-leading counts per 100 frames for the original and for the model's version:

    parallel_fifths, parallel_octaves  two voices moving in the same direction from a perfect fifth (or
                                       octave/unison, compound included) to another
    crossings                          adjacent voices (S/A, A/T, T/B) with the lower one above
    spacing                            more than an octave between soprano and alto, or alto and tenor
    out_of_range                       attacks outside each voice's textbook range (satb.VOICE_RANGES)

and what a musician hears first, for the original and the model's version (see :func:`texture_counts`,
:func:`final_bass` and :func:`final_chord`):

    final bass / final chord           the model ends on the original's bass pitch class / on the same set
                                       of pitch classes
    attacks per 100 beats              new notes per voice (alto, tenor, bass; a beat is a quarter note,
                                       4 frames), and "chord attacks": frames where any lower voice attacks
    clash rate                         share of beats as they are felt (quarter notes, frame % 4 == 0, but
                                       the dotted quarters of 6/8, 9/8 and 12/8: :func:`felt_beats`)
                                       with the soprano sounding where a lower voice sounds a minor second,
                                       major seventh or minor ninth against it: any interval of 1 or 11
                                       semitones mod 12 (compounds included, either voice above)

A piece may be harmonized with several seeds (``seeds``): its numbers are the mean over the seeds, and
each seed's headline numbers are kept for their spread. Headline totals get 95 % bootstrap intervals
over pieces (:func:`bootstrap_interval`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from composer.core.corpus_files import find_midi_files, split_of
from composer.harmony.grid import (FRAMES_PER_BEAT, MASK, NUM_VOICES, PITCH_OFFSET, VOICE_RANGES, Chorale,
                                   HarmonyError, chorale_from_piece, compound_beats, piece_to_frames,
                                   sounding_pitches, token_pitch)
from composer.harmony.inference import HarmonyModel, harmonize
from composer.harmony.sampler import average_over_keys, key_ensemble_index, key_views
from composer.music.midi_io import MidiReadError, read_midi
from composer.music.notes import select_voices, to_monophonic

VOICE_LEADING = ("parallel_fifths", "parallel_octaves", "crossings", "spacing", "out_of_range")
LOWER_VOICES = ("alto", "tenor", "bass")
TEXTURE = ("alto_attacks", "tenor_attacks", "bass_attacks", "chord_attacks", "clash_beats", "soprano_beats")
CLASH_INTERVALS = (1, 11)        # semitones mod 12: minor second / minor ninth, major seventh
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
BOOTSTRAP_LEVEL = 0.95


def voice_leading_counts(frames: np.ndarray) -> dict[str, int]:
    """Voice-leading faults in a four-part grid of tokens [T, 4] (see the module docstring)."""
    pitch = sounding_pitches(frames)                                     # [T, 4], -1 silent
    sounding = pitch >= 0
    counts = dict.fromkeys(VOICE_LEADING, 0)
    moved = np.zeros_like(sounding)
    moved[1:] = sounding[1:] & sounding[:-1] & (pitch[1:] != pitch[:-1])
    for upper in range(NUM_VOICES):
        for lower in range(upper + 1, NUM_VOICES):
            both = moved[1:, upper] & moved[1:, lower]
            same_direction = np.sign(pitch[1:, upper] - pitch[:-1, upper]) == \
                np.sign(pitch[1:, lower] - pitch[:-1, lower])
            before = (pitch[:-1, upper] - pitch[:-1, lower]) % 12
            after = (pitch[1:, upper] - pitch[1:, lower]) % 12
            parallel = both & same_direction
            counts["parallel_fifths"] += int((parallel & (before == 7) & (after == 7)).sum())
            counts["parallel_octaves"] += int((parallel & (before == 0) & (after == 0)).sum())
    for upper in range(NUM_VOICES - 1):
        lower = upper + 1
        both = sounding[:, upper] & sounding[:, lower]
        counts["crossings"] += int((both & (pitch[:, lower] > pitch[:, upper])).sum())
        if upper < 2:
            counts["spacing"] += int((both & (pitch[:, upper] - pitch[:, lower] > 12)).sum())
    for voice, (low, high) in enumerate(VOICE_RANGES):
        attacks = frames[:, voice][frames[:, voice] >= PITCH_OFFSET]
        pitches = np.array([token_pitch(t) for t in attacks])
        counts["out_of_range"] += int(((pitches < low) | (pitches > high)).sum()) if len(pitches) else 0
    return counts


def attack_counts(frames: np.ndarray) -> dict[str, int]:
    """New notes in a grid of tokens [T, 4]: per lower voice (``alto``, ``tenor``, ``bass``), and ``chord``,
    the frames where at least one lower voice starts a note (a repeated pitch counts; HOLD and REST do not)."""
    attacks = frames[:, 1:] >= PITCH_OFFSET                                      # [T, 3]
    counts = {voice: int(attacks[:, i].sum()) for i, voice in enumerate(LOWER_VOICES)}
    counts["chord"] = int(attacks.any(1).sum())
    return counts


def clash_counts(frames: np.ndarray, beats: np.ndarray | None = None) -> tuple[int, int]:
    """On-beat clashes with the soprano in a grid of tokens [T, 4] (frame 0 on a beat).

    Args:
        frames: the grid.
        beats: bool [T], the frames that are beats (default: every quarter note; :func:`felt_beats` gives the
            dotted quarters of compound metres).

    Returns:
        (clashing beats, beats): beats are the frames at quarter-note starts (frame % FRAMES_PER_BEAT == 0)
        where the soprano sounds; a beat clashes when any sounding lower voice is 1 or 11 semitones mod 12
        from the soprano (minor second, major seventh, minor ninth and their compounds).
    """
    pitch = sounding_pitches(frames)                                             # [T, 4], -1 silent
    soprano, lower = pitch[:, :1], pitch[:, 1:]
    quarters = np.arange(len(frames)) % FRAMES_PER_BEAT == 0
    on_beat = (quarters if beats is None else beats[:len(frames)]) & (soprano[:, 0] >= 0)
    clash = (lower >= 0) & np.isin(np.abs(soprano - lower) % 12, CLASH_INTERVALS)
    return int((on_beat & clash.any(1)).sum()), int(on_beat.sum())


def felt_beats(piece, length: int) -> np.ndarray:
    """bool [length]: the beats of a piece's frames as a musician counts them: quarter notes, but the dotted
    quarters of compound metres (6/8, 9/8, 12/8)."""
    beats, compound = compound_beats(piece.time_signatures, piece.ticks_per_beat, length)
    return np.where(compound, beats, np.arange(length) % FRAMES_PER_BEAT == 0)


def texture_counts(frames: np.ndarray, beats: np.ndarray | None = None) -> dict[str, int]:
    """:func:`attack_counts` and :func:`clash_counts` (on ``beats``: see there) of a grid, as the keys of
    ``TEXTURE``."""
    attacks = attack_counts(frames)
    clashes, beats = clash_counts(frames, beats)
    return {"alto_attacks": attacks["alto"], "tenor_attacks": attacks["tenor"],
            "bass_attacks": attacks["bass"], "chord_attacks": attacks["chord"],
            "clash_beats": clashes, "soprano_beats": beats}


def final_bass(frames: np.ndarray) -> int | None:
    """Pitch class (0..11) of the last bass note that sounds in a grid [T, 4]; None if the bass is silent."""
    bass = sounding_pitches(frames)[:, 3]
    sounding = np.flatnonzero(bass >= 0)
    return int(bass[sounding[-1]] % 12) if len(sounding) else None


def final_chord(frames: np.ndarray) -> frozenset[int]:
    """Pitch classes sounding in the last frame of a grid [T, 4] where anything sounds (empty if none)."""
    pitch = sounding_pitches(frames)
    sounding = np.flatnonzero((pitch >= 0).any(1))
    if not len(sounding):
        return frozenset()
    last = pitch[sounding[-1]]
    return frozenset(int(p) % 12 for p in last[last >= 0])


def bootstrap_interval(numerators, denominators=None, resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = BOOTSTRAP_SEED, level: float = BOOTSTRAP_LEVEL) -> list[float]:
    """Percentile bootstrap interval over pieces of sum(numerators) / sum(denominators).

    Pieces are resampled with replacement ``resamples`` times (a fixed ``seed``: the same resamples for every
    measure of the same pieces). Without ``denominators`` the statistic is the mean of ``numerators``.

    Returns:
        [low, high]; [nan, nan] with no pieces.
    """
    top = np.asarray(numerators, dtype=np.float64)
    bottom = np.ones_like(top) if denominators is None else np.asarray(denominators, dtype=np.float64)
    if not len(top):
        return [float("nan"), float("nan")]
    index = np.random.default_rng(seed).integers(0, len(top), size=(resamples, len(top)))
    totals = bottom[index].sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = top[index].sum(1) / totals
    values = values[totals > 0]
    if not len(values):
        return [float("nan"), float("nan")]
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


@torch.no_grad()
def lower_voice_nll(model: HarmonyModel, chorale: Chorale) -> np.ndarray:
    """NLL (nats) of each true alto/tenor/bass token given the whole soprano: float [T, 3].

    The probabilities are those the sampler draws from before its range limits and rules: the model's
    key ensemble (see :func:`composer.harmony.model.key_shifts`), renormalized.
    """
    net = model.net.eval()
    shifts, target, keys = key_views(model, chorale.frames, chorale.key)                      # [S], [S, T, 4]
    given = target.clone()
    given[..., 1:] = MASK
    positions = torch.from_numpy(chorale.positions)[None].expand(len(shifts), -1)
    logits = net(given, target, positions, keys=keys)                                          # [S, T, 4, V]
    index = key_ensemble_index(shifts, net.config.vocab_size)
    averaged = average_over_keys(logits.permute(1, 2, 0, 3), index)                            # [T, 4, V]
    log_probs = torch.log_softmax(averaged, -1)
    truth = torch.from_numpy(chorale.frames)                                                   # [T, 4]
    nll = -log_probs.gather(-1, truth[..., None])[..., 0]
    return nll[:, 1:].numpy()


@dataclass
class HarmonyReport:
    """Scores of one model on a set of four-part pieces."""

    pieces: list[dict] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def totals(self) -> dict:
        """Scores over all pieces: frame-weighted accuracies and NLL, counts per 100 frames; and the musical
        measures of :meth:`musical_totals`."""
        frames = sum(p["frames"] for p in self.pieces)
        if not frames:
            return {"pieces": 0, "frames": 0}
        weighted = lambda key, i: sum(p[key][i] * p["frames"] for p in self.pieces) / frames   # noqa: E731
        out = {"pieces": len(self.pieces), "frames": frames,
               "token_accuracy": {v: weighted("token_accuracy", i) for i, v in enumerate(LOWER_VOICES)},
               "pitch_accuracy": {v: weighted("pitch_accuracy", i) for i, v in enumerate(LOWER_VOICES)},
               "note_accuracy": {v: weighted("note_accuracy", i) for i, v in enumerate(LOWER_VOICES)},
               "nll_per_token": {v: weighted("nll_per_token", i) for i, v in enumerate(LOWER_VOICES)}}
        out["token_accuracy"]["mean"] = float(np.mean(list(out["token_accuracy"].values())))
        out["pitch_accuracy"]["mean"] = float(np.mean(list(out["pitch_accuracy"].values())))
        out["note_accuracy"]["mean"] = float(np.mean(list(out["note_accuracy"].values())))
        out["nll_per_frame"] = sum(out["nll_per_token"].values())
        for side in ("original", "model"):
            out[side] = {k: 100 * sum(p[side][k] for p in self.pieces) / frames for k in VOICE_LEADING}
        out.update(self.musical_totals())
        return out

    def musical_totals(self) -> dict:
        """Final bass/chord agreement (share of pieces), attacks per 100 beats and the on-beat clash rate
        (original and model), with 95 % bootstrap intervals over pieces (``*_ci``, [low, high]) for note
        accuracy (mean of A/T/B), final bass and chord, chord attacks and clash rate; ``per_seed``: the
        headline numbers of each seed's harmonizations."""
        pieces = self.pieces
        frames = np.array([p["frames"] for p in pieces], dtype=np.float64)
        beats = frames / FRAMES_PER_BEAT
        note = np.array([np.mean(p["note_accuracy"]) for p in pieces])
        bass = np.array([p["final_bass_match"] for p in pieces], dtype=np.float64)
        chord = np.array([p["final_chord_match"] for p in pieces], dtype=np.float64)
        out = {"beats": float(beats.sum()), "seeds": len(pieces[0]["per_seed"]),
               "final_bass_match": float(bass.mean()), "final_chord_match": float(chord.mean()),
               "attacks_per_100_beats": {}, "clash_rate": {},
               "note_accuracy_ci": bootstrap_interval(note * frames, frames),
               "final_bass_match_ci": bootstrap_interval(bass), "final_chord_match_ci": bootstrap_interval(chord),
               "chord_attacks_ci": {}, "clash_rate_ci": {}}
        for side in ("original", "model"):
            counts = {key: _column([p[side] for p in pieces], key) for key in TEXTURE}
            out["attacks_per_100_beats"][side] = {voice: float(100 * counts[f"{voice}_attacks"].sum() / beats.sum())
                                                  for voice in (*LOWER_VOICES, "chord")}
            out["chord_attacks_ci"][side] = bootstrap_interval(100 * counts["chord_attacks"], beats)
            clashes, on_beat = counts["clash_beats"], counts["soprano_beats"]
            out["clash_rate"][side] = float(clashes.sum() / on_beat.sum()) if on_beat.sum() else float("nan")
            out["clash_rate_ci"][side] = bootstrap_interval(clashes, on_beat)
        out["per_seed"] = self.per_seed()
        return out

    def per_seed(self) -> dict:
        """Headline numbers of each seed's harmonizations alone: lists in seed order."""
        frames = np.array([p["frames"] for p in self.pieces], dtype=np.float64)
        beats = frames / FRAMES_PER_BEAT
        out = {"seed": [], "note_accuracy": [], "final_bass_match": [], "final_chord_match": [],
               "chord_attacks_per_100_beats": [], "clash_rate": []}
        for k in range(len(self.pieces[0]["per_seed"])):
            runs = [p["per_seed"][k] for p in self.pieces]
            on_beat = _column(runs, "soprano_beats").sum()
            out["seed"].append(int(runs[0]["seed"]))
            out["note_accuracy"].append(float((_column(runs, "note_accuracy") * frames).sum() / frames.sum()))
            out["final_bass_match"].append(float(_column(runs, "final_bass_match").mean()))
            out["final_chord_match"].append(float(_column(runs, "final_chord_match").mean()))
            out["chord_attacks_per_100_beats"].append(float(100 * _column(runs, "chord_attacks").sum() / beats.sum()))
            out["clash_rate"].append(float(_column(runs, "clash_beats").sum() / on_beat) if on_beat else float("nan"))
        return out


def _column(rows: list[dict], key: str) -> np.ndarray:
    """``row[key]`` of every row, float64 [len(rows)]."""
    return np.array([row[key] for row in rows], dtype=np.float64)


def compare(ours: np.ndarray, original: np.ndarray, beats: np.ndarray | None = None) -> dict:
    """One harmonization ``ours`` against the original, both grids [T, 4]: accuracies per lower voice, final
    bass and chord agreement (1.0 or 0.0), and the model's voice-leading and texture counts (clashes on
    ``beats``, bool [T]: default every quarter note; see :func:`clash_counts`)."""
    same_pitch = sounding_pitches(ours) == sounding_pitches(original)    # [T, 4]
    same_attack = (ours >= PITCH_OFFSET) == (original >= PITCH_OFFSET)   # [T, 4]
    bass = final_bass(ours)
    return {
        "token_accuracy": [float((ours[:, v] == original[:, v]).mean()) for v in (1, 2, 3)],
        "pitch_accuracy": [float(same_pitch[:, v].mean()) for v in (1, 2, 3)],
        "note_accuracy": [float((same_pitch[:, v] & same_attack[:, v]).mean()) for v in (1, 2, 3)],
        "final_bass_match": float(bass is not None and bass == final_bass(original)),
        "final_chord_match": float(final_chord(ours) == final_chord(original) != frozenset()),
        "model": {**voice_leading_counts(ours), **texture_counts(ours, beats)},
    }


def _mean(values: list):
    """Element-wise mean of equally shaped numbers, lists and dicts."""
    first = values[0]
    if isinstance(first, dict):
        return {key: _mean([v[key] for v in values]) for key in first}
    if isinstance(first, list):
        return [_mean([v[i] for v in values]) for i in range(len(first))]
    return float(np.mean(values))


def score_piece(model: HarmonyModel, chorale: Chorale, piece, temperature: float, seed: int,
                rules: bool = True, search: int = 1, seeds: int = 1) -> dict:
    """Harmonize one piece's soprano and compare with its real lower voices.

    With ``seeds`` > 1 the soprano is harmonized with seeds ``seed`` .. ``seed + seeds - 1`` (each exactly what
    ``harmonize(..., seed=s)`` writes) and the model's numbers are their means; ``per_seed`` lists each
    harmonization's headline numbers. Clashes are counted on the beats as felt in the piece's metre
    (:func:`felt_beats`: the dotted quarters of 6/8, 9/8 and 12/8), in the original and the model's version.
    """
    soprano = to_monophonic(select_voices(piece, [0]))   # a few files hold two soprano notes at once
    original = chorale.frames
    beats = felt_beats(piece, len(original))
    runs = []
    for run_seed in range(seed, seed + seeds):
        result = harmonize(model, soprano, temperature=temperature, seed=run_seed, rules=rules, search=search)
        runs.append(compare(piece_to_frames(result.pieces[0], len(original)), original, beats))
    nll = lower_voice_nll(model, chorale)                                # [T, 3]
    scores = runs[0] if seeds == 1 else _mean(runs)
    return {
        "name": piece.name, "frames": len(original),
        "token_accuracy": scores["token_accuracy"], "pitch_accuracy": scores["pitch_accuracy"],
        "note_accuracy": scores["note_accuracy"],
        "nll_per_token": [float(x) for x in nll.mean(0)],
        "original": {**voice_leading_counts(original), **texture_counts(original, beats)},
        "model": scores["model"],
        "final_bass_match": scores["final_bass_match"], "final_chord_match": scores["final_chord_match"],
        "per_seed": [{"seed": s, "note_accuracy": float(np.mean(run["note_accuracy"])),
                      "final_bass_match": run["final_bass_match"], "final_chord_match": run["final_chord_match"],
                      **{key: run["model"][key] for key in ("chord_attacks", "clash_beats", "soprano_beats")}}
                     for s, run in zip(range(seed, seed + seeds), runs)],
    }


def evaluate_harmony(model: HarmonyModel, data_dir: str | os.PathLike, split: str = "all",
                     temperature: float = 0.0, seed: int = 0, valid_fraction: float = 0.1,
                     test_fraction: float = 0.05, rules: bool = True, search: int = 1,
                     seeds: int = 1, progress: Callable[[str, int, int], None] | None = None) -> HarmonyReport:
    """Score ``model`` on every four-part MIDI file under ``data_dir`` (or one split of them).

    ``composer evaluate-harmony`` scores what ``composer harmonize`` writes by default (temperature 0.4, rules,
    key ensemble); this function's own default temperature stays 0 (greedy, deterministic).

    Args:
        model: a loaded harmony model.
        data_dir: folder of four-part MIDI files.
        split: ``all``, or ``train``/``valid``/``test`` by the same path hash as training uses.
        temperature: harmonization temperature (0: the likeliest tokens).
        seed: random seed of the (first) harmonization of each piece.
        rules: harmonize with the sampler's voice-leading rules (False: the raw model).
        search: candidates per harmonization, the likeliest kept.
        seeds: harmonizations per piece, with seeds ``seed`` .. ``seed + seeds - 1``, averaged.
        progress: called as ``progress("harmonizing", files done, files of the split)`` first and after each file.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    report = HarmonyReport()
    root = Path(data_dir)
    paths = [path for path in find_midi_files(root)
             if split == "all" or split_of(path.relative_to(root).as_posix(), valid_fraction, test_fraction) == split]
    if progress is not None:
        progress("harmonizing", 0, len(paths))
    for done, path in enumerate(paths, 1):
        relative = path.relative_to(root).as_posix()
        try:
            piece = read_midi(path)
            chorale = chorale_from_piece(piece)
            report.pieces.append(score_piece(model, chorale, piece.replace(name=relative), temperature, seed,
                                              rules, search, seeds))
        except (MidiReadError, HarmonyError) as error:
            report.skipped.append((relative, getattr(error, "reason", str(error))))
        if progress is not None:
            progress("harmonizing", done, len(paths))
    return report


def report_lines(totals: dict) -> list[str]:
    """The musical measures of :meth:`HarmonyReport.totals` as printed lines, original beside model, each
    headline with its bootstrap interval."""
    pieces = totals["pieces"]
    note = _percent(totals["note_accuracy"]["mean"], totals["note_accuracy_ci"])
    lines = [f"\nmusical measures [95% bootstrap interval over the {pieces} pieces, {BOOTSTRAP_RESAMPLES} resamples]",
             f"{'note accuracy (A/T/B mean)':32}{note}"]
    for key, label in (("final_bass_match", "final bass = original's"), ("final_chord_match",
                                                                        "final chord = original's")):
        lines.append(f"{label:32}{_percent(totals[key], totals[key + '_ci'])}  "
                     f"({totals[key] * pieces:g} of {pieces} pieces)")
    attacks, chord_ci = totals["attacks_per_100_beats"], totals["chord_attacks_ci"]
    clash, clash_ci = totals["clash_rate"], totals["clash_rate_ci"]
    rows = [(f"{voice} attacks per 100 beats", f"{attacks['original'][voice]:6.1f}",
             f"{attacks['model'][voice]:6.1f}") for voice in LOWER_VOICES]
    rows.append(("chord attacks per 100 beats", _rate(attacks["original"]["chord"], chord_ci["original"]),
                 _rate(attacks["model"]["chord"], chord_ci["model"])))
    rows.append(("on-beat clashes with soprano", _percent(clash["original"], clash_ci["original"]),
                 _percent(clash["model"], clash_ci["model"])))
    lines.append(f"{'':32}{'original':<24}model")
    lines.extend(f"{label:32}{original:<24}{model:<24}".rstrip() for label, original, model in rows)
    lines.extend(_seed_lines(totals["per_seed"]))
    lines.append("attacks: new notes (a beat is a quarter note); chord attacks: 16ths where any of A/T/B attacks; "
                 "clashes: share of beats (dotted quarters in 6/8, 9/8, 12/8) with the soprano sounding where A, T or B "
                 "is 1 or 11 semitones (mod 12) from it (m2, M7, m9)")
    return lines


def _percent(value: float, interval: list[float]) -> str:
    return f"{100 * value:5.1f}% [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"


def _rate(value: float, interval: list[float]) -> str:
    return f"{value:6.1f} [{interval[0]:.1f}, {interval[1]:.1f}]"


def _seed_lines(per_seed: dict) -> list[str]:
    seeds = per_seed["seed"]
    if len(seeds) < 2:
        return []
    lines = [f"spread over {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}): min .. max (standard deviation)"]
    rows = (("note_accuracy", "note accuracy %", 100), ("final_bass_match", "final bass = original's %", 100),
            ("chord_attacks_per_100_beats", "chord attacks per 100 beats", 1), ("clash_rate", "on-beat clashes %", 100))
    for key, label, scale in rows:
        values = scale * np.array(per_seed[key])
        lines.append(f"  {label:30}{values.min():6.1f} .. {values.max():6.1f}  ({values.std(ddof=1):.1f})")
    return lines
