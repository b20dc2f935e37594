"""Measuring what a melody model writes."""

from __future__ import annotations

from composer.melody.generate import GenerationRequest, generate
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
