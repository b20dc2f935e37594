"""Measuring what a melody model writes: how well it follows chords, and (``composer evaluate``, issue 14)
nats per note on held-out MIDI files beside the form statistics (:mod:`composer.melody.form`) of what it
generates and of those files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer.melody.form import FormStatistics, bootstrap_interval, form_match, form_statistics, summarize
from composer.melody.generate import GenerationRequest, generate
from composer.melody.scoring import piece_losses
from composer.music.chords import chord_tone_fraction, parse_progression, progression_spans
from composer.music.notes import TimeSignature


def measure_chord_following(model, vocab, progression: tuple[str, ...], other: tuple[str, ...] | None,
                            count: int = 64, bars: int = 16, seed: int = 0, temperature: float = 1.0,
                            key: str | None = None) -> list[float]:
    """Chord-tone fractions of generated melodies, measured against ``progression``.

    The melodies are generated with the chords of ``other`` (or of ``progression`` when ``other`` is
    the same; with no chords at all when ``other`` is None and the model takes none), then each is
    scored against ``progression`` laid out bar by bar. Comparing "asked for P" with "asked for Q" and
    with an unconditioned model measures how much the chords move the output.

    Args:
        model, vocab: a model and its vocabulary (see :func:`composer.core.modelfile.load_model`).
        progression: the chords scored against.
        other: the chords asked for (None: none).
        count, bars, seed, temperature, key: the generation request.

    Returns:
        One chord-tone fraction per generated melody.
    """
    request = GenerationRequest(count=count, bars=bars, seed=seed, temperature=temperature, key=key,
                                chords=tuple(other) if other is not None else None)
    result = generate(model, vocab, request)
    bar_ticks = TimeSignature(0, 4, 4).ticks_per_bar(vocab.config.ticks_per_beat)
    spans = progression_spans(parse_progression(progression), 0, result.length_ticks, bar_ticks,
                              vocab.config.ticks_per_beat)
    return [chord_tone_fraction(piece, spans) for piece in result.pieces]


MIN_NOTES = 8   # as training's corpus: shorter files are not scored

Progress = Callable[[str, int, "int | None"], None]   # progress(what, done, total): total None when not known


@dataclass
class HeldOutPiece:
    """One usable file of the folder: its path (relative to the folder), the piece as prepared for the model's
    encoding, and its token ids."""

    path: str
    piece: object
    ids: np.ndarray


def read_held_out(data_dir: str | Path, vocab, min_notes: int = MIN_NOTES,
                  progress: Progress | None = None) -> tuple[list[HeldOutPiece], dict]:
    """Every MIDI file under ``data_dir``, prepared and encoded for ``vocab`` as training does
    (:func:`composer.melody.encoding.prepare` then ``encode``); ``progress("reading", files done, files)``
    is called before each file.

    Returns:
        The usable pieces (sorted by path) and {relative path: why it was skipped} for the others.
    """
    from composer.core.corpus_files import find_midi_files
    from composer.melody.encoding import encode, prepare
    from composer.music.midi_io import MidiReadError, read_midi

    root = Path(data_dir)
    pieces, skipped = [], {}
    paths = find_midi_files(root)
    for index, path in enumerate(paths):
        if progress is not None:
            progress("reading", index, len(paths))
        name = path.relative_to(root).as_posix()
        try:
            piece = prepare(read_midi(path), vocab.config)
        except MidiReadError as error:
            skipped[name] = error.reason
            continue
        if len(piece.notes) < min_notes:
            skipped[name] = f"{len(piece.notes)} usable notes, fewer than {min_notes}"
            continue
        try:
            ids = encode(piece, vocab)
        except ValueError as error:
            skipped[name] = str(error)
            continue
        pieces.append(HeldOutPiece(name, piece, ids))
    return pieces, skipped


def _ratio_interval(numerators: np.ndarray, denominators: np.ndarray, resamples: int = 1000,
                    seed: int = 14) -> tuple[float, float]:
    """Bootstrap 95 % interval, over pieces, of sum(numerators) / sum(denominators)."""
    if len(numerators) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(numerators), size=(resamples, len(numerators)))
    ratios = numerators[picks].sum(1) / denominators[picks].sum(1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def nats_per_note(net, pieces: list[HeldOutPiece], vocab=None, progress: Progress | None = None) -> dict:
    """Nats per note of ``pieces``: every token of a piece scored (pitch, duration and timing tokens, the key
    token where the encoding has one, and EOS), the total divided by the number of notes, so models with
    different encodings compare. Also nats per token, and a bootstrap 95 % interval over pieces.

    Args:
        vocab: the model's vocabulary (needed for a model with form inputs, which reads each piece's bar lines).
        progress: called after each batch scored (see :func:`piece_losses`).
    """
    forms = None
    if getattr(net, "form", None) is not None:
        from composer.melody.form_inputs import sequence_ids
        from composer.music.metre import metre_of

        forms = [sequence_ids(p.ids, vocab, net.layout, metre_of(p.piece)) for p in pieces]
    losses = piece_losses(net, [p.ids for p in pieces], forms=forms, progress=progress)
    notes = np.array([len(p.piece.notes) for p in pieces], dtype=float)
    tokens = np.array([len(p.ids) - 1 for p in pieces], dtype=float)
    total = float(losses.sum())
    return {"pieces": len(pieces), "notes": int(notes.sum()), "tokens": int(tokens.sum()), "nats": total,
            "nats_per_note": total / notes.sum() if len(pieces) else float("nan"),
            "nats_per_note_ci95": list(_ratio_interval(losses, notes)),
            "nats_per_token": total / tokens.sum() if len(pieces) else float("nan"),
            "tokens_per_note": float(tokens.sum() / notes.sum()) if len(pieces) else float("nan")}


def evaluate_melody_model(model, data_dir: str | Path, count: int = 64, bars: int = 16, seed: int = 11,
                          form: str = "", time_signature: str | None = None, cadence: bool = True,
                          key_guide: bool = True, progress: Progress | None = None) -> dict:
    """``composer evaluate``: a melody model scored on a folder of MIDI files it was not trained on.

    Args:
        model: a loaded :class:`composer.melody.model.MelodyModel`.
        data_dir: the held-out MIDI files (searched recursively).
        count, bars, seed, form, time_signature, cadence, key_guide: the generated pieces whose form is measured
            (``composer generate --count --bars --seed --form --time-signature [--no-cadence] [--no-key-guide]``,
            other settings at their defaults).
        progress: called as ``progress(what, done, total)`` while the files are read (``"reading"``, files),
            scored (``"scoring"``, pieces) and the pieces generated (``"generating"``, sampling steps, total None).

    Returns:
        A JSON-ready dict: ``likelihood`` (see :func:`nats_per_note`), ``form`` with ``generated`` and
        ``corpus`` summaries (see :func:`composer.melody.form.summarize`), with ``form`` asked for also
        ``form_match`` (see :func:`composer.melody.form.form_match`: mean and bootstrap interval of ``same`` and
        ``different`` over the generated pieces), the per-piece statistics, the skipped files and the settings.
    """
    started = time.perf_counter()
    pieces, skipped = read_held_out(data_dir, model.vocab, progress=progress)
    likelihood = nats_per_note(model.net, pieces, model.vocab, progress=progress)
    scored = time.perf_counter()
    on_step = None if progress is None else (lambda step, _tokens: progress("generating", step, None))
    result = generate(model.net, model.vocab, GenerationRequest(count=count, bars=bars, seed=seed, form=form,
                                                                time_signature=time_signature, cadence=cadence,
                                                                key_guide=key_guide), on_step=on_step)
    generated = [form_statistics(p) for p in result.pieces]
    corpus = [form_statistics(p.piece) for p in pieces]
    summary = {"generated": summarize(generated), "corpus": summarize(corpus)}
    if form:
        summary["form_match"] = _form_match_summary([form_match(p, form) for p in result.pieces])
    return {
        "model": str(getattr(model, "path", "")),
        "data": str(data_dir),
        "settings": {"count": count, "bars": bars, "seed": seed, "form": form, "time_signature": time_signature,
                     "cadence": cadence, "key_guide": key_guide, "temperature": GenerationRequest.temperature},
        "likelihood": likelihood,
        "form": summary,
        "pieces": {"generated": [_piece_entry(f"variation {i + 1}", s) for i, s in enumerate(generated)],
                   "corpus": [_piece_entry(p.path, s) for p, s in zip(pieces, corpus)]},
        "skipped": skipped,
        "seconds": {"likelihood": scored - started, "generation_and_form": time.perf_counter() - scored},
    }


def _form_match_summary(matches: list[dict[str, float]]) -> dict:
    """Mean and bootstrap 95 % interval over pieces of each :func:`form_match` share."""
    summary = {}
    for name in ("same", "different"):
        values = np.array([m[name] for m in matches if not np.isnan(m[name])])
        summary[name] = {"mean": float(values.mean()) if len(values) else float("nan"),
                         "ci95": list(bootstrap_interval(values))}
    return summary


def _piece_entry(name: str, statistics: FormStatistics | None) -> dict:
    return {"name": name, **(statistics.to_dict() if statistics is not None else {})}

