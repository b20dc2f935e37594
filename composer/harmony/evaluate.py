"""How good is a harmony model? Harmonize real chorales' sopranos and compare with the originals.

Per piece: alto/tenor/bass token accuracy per 16th-note frame (the written token: pitch attack, HOLD or
REST) and sounding-pitch accuracy, the NLL of the true alto/tenor/bass given the soprano, and
voice-leading counts per 100 frames for the original and for the model's version:

    parallel_fifths, parallel_octaves  two voices moving in the same direction from a perfect fifth (or
                                       octave/unison, compound included) to another
    crossings                          adjacent voices (S/A, A/T, T/B) with the lower one above
    spacing                            more than an octave between soprano and alto, or alto and tenor
    out_of_range                       attacks outside each voice's textbook range (satb.VOICE_RANGES)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from composer.core.corpus_files import find_midi_files, split_of
from composer.harmony.inference import HarmonyModel, harmonize
from composer.harmony.sampler import average_over_keys, key_ensemble_index, key_views
from composer.music.midi_io import MidiReadError, read_midi
from composer.music.notes import select_voices, to_monophonic
from composer.harmony.grid import (MASK, NUM_VOICES, PITCH_OFFSET, VOICE_RANGES, Chorale, HarmonyError,
                           chorale_from_piece, piece_to_frames, sounding_pitches, token_pitch)

VOICE_LEADING = ("parallel_fifths", "parallel_octaves", "crossings", "spacing", "out_of_range")
LOWER_VOICES = ("alto", "tenor", "bass")


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
        """Scores over all pieces: frame-weighted accuracies and NLL, counts per 100 frames."""
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
        return out


def score_piece(model: HarmonyModel, chorale: Chorale, piece, temperature: float, seed: int,
                rules: bool = True, search: int = 1) -> dict:
    """Harmonize one piece's soprano and compare with its real lower voices."""
    soprano = to_monophonic(select_voices(piece, [0]))   # a few files hold two soprano notes at once
    result = harmonize(model, soprano, temperature=temperature, seed=seed, rules=rules, search=search)
    written = piece_to_frames(result.pieces[0], len(chorale.frames))
    original, ours = chorale.frames, written
    nll = lower_voice_nll(model, chorale)                                # [T, 3]
    same_pitch = sounding_pitches(ours) == sounding_pitches(original)    # [T, 4]
    same_attack = (ours >= PITCH_OFFSET) == (original >= PITCH_OFFSET)   # [T, 4]
    return {
        "name": piece.name, "frames": len(original),
        "token_accuracy": [float((ours[:, v] == original[:, v]).mean()) for v in (1, 2, 3)],
        "pitch_accuracy": [float(same_pitch[:, v].mean()) for v in (1, 2, 3)],
        "note_accuracy": [float((same_pitch[:, v] & same_attack[:, v]).mean()) for v in (1, 2, 3)],
        "nll_per_token": [float(x) for x in nll.mean(0)],
        "original": voice_leading_counts(original), "model": voice_leading_counts(ours),
    }


def evaluate_harmony(model: HarmonyModel, data_dir: str | os.PathLike, split: str = "all",
                     temperature: float = 0.0, seed: int = 0, valid_fraction: float = 0.1,
                     test_fraction: float = 0.05, rules: bool = True, search: int = 1) -> HarmonyReport:
    """Score ``model`` on every four-part MIDI file under ``data_dir`` (or one split of them).

    Args:
        model: a loaded harmony model.
        data_dir: folder of four-part MIDI files.
        split: ``all``, or ``train``/``valid``/``test`` by the same path hash as training uses.
        temperature: harmonization temperature (0: the likeliest tokens).
        seed: random seed of the harmonizations.
        rules: harmonize with the sampler's voice-leading rules (False: the raw model).
        search: candidates per harmonization, the likeliest kept.
    """
    report = HarmonyReport()
    root = Path(data_dir)
    for path in find_midi_files(root):
        relative = path.relative_to(root).as_posix()
        if split != "all" and split_of(relative, valid_fraction, test_fraction) != split:
            continue
        try:
            piece = read_midi(path)
            chorale = chorale_from_piece(piece)
            report.pieces.append(score_piece(model, chorale, piece.replace(name=relative), temperature, seed,
                                              rules, search))
        except (MidiReadError, HarmonyError) as error:
            report.skipped.append((relative, getattr(error, "reason", str(error))))
    return report
