"""Batch generation: a model and a request in, pieces (and MIDI files with a manifest) out."""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch

from composer.core.output_folder import PieceFolder
from composer.melody.conditioning import codes_per_tick, condition_vectors
from composer.melody.encoding import BOS, Vocabulary, decode, encode, prepare
from composer.melody.form_plan import FormPlan, parse_form
from composer.melody.model import ComposerLM, MelodyModel
from composer.melody.primer_key import likeliest_key
from composer.melody.sample import Sampler, SamplingOptions
from composer.music.bounds import check_length
from composer.music.chords import ChordSpan, infer_key, parse_progression, progression_spans
from composer.music.keys import parse_key
from composer.music.metre import Metre, beat_ticks, metre_of, parse_time_signature
from composer.music.midi_io import read_midi
from composer.music.notes import Piece, TimeSignature, Voice, crop, to_monophonic

DEFAULT_TEMPERATURE = 0.9   # chosen against the validation tunes' form statistics (midi_data/models/README.md)


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate.

    Attributes:
        count: variations, sampled together as one batch.
        bars: bars of new music after the primer (the primer's last bar is completed first).
        temperature, top_k, top_p, key: see :class:`~composer.melody.sample.SamplingOptions`.
        seed: random seed; None picks one (it is reported, so a result can be made again).
        qpm: tempo of the output; None keeps the primer's, or 120.
        beam: beam width; 0 samples instead.
        keep_primer: put the primer at the start of each output.
        chords: chord symbols for a chord-conditioned model (see :mod:`composer.music.chords`): each lasts one
            bar, or ``SYMBOL:BEATS``; the progression repeats to fill ``bars``, starting with the first
            new bar. None: no chords (a chord model then plays as if over "no chord").
        form: section letters such as ``AABB``, ``AABA`` or ``ABAC`` (see :mod:`composer.melody.form_plan`);
            "" for through-composed. The form spans the whole piece, primer included, in equal sections.
        time_signature: the metre of new music without a primer, as ``"6/8"`` (None: 4/4; a primer keeps its own).
        cadence: end every piece on the tonic (of ``key``, else of the model's KEY token; see
            :mod:`composer.melody.cadence`); False leaves the ending to the model.
        key_guide: without ``key``, keep each piece in the mode of the model's KEY token, a soft pull away from
            notes outside it (see :mod:`composer.melody.mode`); False leaves the notes to the model.
    """

    count: int = 8
    bars: int = 16
    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = 0
    top_p: float = 1.0
    key: str | None = None
    seed: int | None = None
    qpm: float | None = None
    beam: int = 0
    keep_primer: bool = True
    chords: tuple[str, ...] | None = None
    form: str = ""
    time_signature: str | None = None
    cadence: bool = True
    key_guide: bool = True

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if self.bars < 1:
            raise ValueError(f"bars must be at least 1, got {self.bars}")
        if self.qpm is not None and not 20 <= self.qpm <= 400:
            raise ValueError(f"tempo must be 20..400 QPM, got {self.qpm}")
        if self.beam < 0:
            raise ValueError(f"beam must be 0 (off) or a width, got {self.beam}")
        if self.key is not None:
            parse_key(self.key)
        SamplingOptions(self.temperature, self.top_k, self.top_p, self.key, 0)  # validates the rest
        if self.chords is not None:
            if isinstance(self.chords, str):
                object.__setattr__(self, "chords", tuple(self.chords.split()))
            parse_progression(self.chords)  # names a bad symbol
        object.__setattr__(self, "form", parse_form(self.form))
        if self.form and self.beam:
            raise ValueError("a form is sampled, not searched: use --form without --beam")
        if self.time_signature is not None:
            parse_time_signature(self.time_signature)


@dataclass
class GenerationResult:
    """Pieces and the facts needed to report them."""

    pieces: list[Piece]
    seed: int
    primer_ticks: int   # where new music starts in each piece (0 without primer or with continuation only)
    length_ticks: int   # length of each piece: the bar line where generation stopped
    seconds: float
    chord_spans: list[ChordSpan] = field(default_factory=list)  # the chords asked for, in output ticks
    prompt_key: str | None = None  # the KEY token given to the model (asked for, or inferred from chords)


def generate(model: ComposerLM, vocab: Vocabulary, request: GenerationRequest, primer: Piece | None = None,
             on_step: Callable[[int, object], bool] | None = None) -> GenerationResult:
    """Generate ``request.count`` variations.

    Args:
        model: a trained model in eval mode.
        vocab: its vocabulary.
        request: what to generate.
        primer: music to continue (any resolution; it is prepared for the model's encoding).
        on_step: progress callback (step, tokens); returning True cancels (partial pieces are returned).

    Returns:
        The pieces, at the model's grid, each cut at the requested length.

    Raises:
        ValueError: the primer has no notes the model can use; chords for a model without chord
            conditioning.
    """
    if request.chords and not model.config.condition_size:
        raise ValueError("chords were given, but this model was trained without chord conditioning; "
                         "use a chord model such as midi_data/models/melody_chords.pt")
    started = time.perf_counter()
    seed = request.seed if request.seed is not None else random.randrange(2**31)
    config = vocab.config
    prompt = _prompt(vocab, request, primer, model)
    metre = prompt.metre
    start = metre.bar_start(max(0, -(-(prompt.primer_end - metre.phase) // metre.bar_ticks)))
    until = start + request.bars * metre.bar_ticks
    plan = FormPlan.build(request.form, metre.bar_index(until), metre) if request.form else None
    qpm = request.qpm or prompt.qpm
    spans, condition = _chord_condition(model, request, start, until, metre.bar_ticks, config.ticks_per_beat)
    sampler = Sampler(model, vocab)
    if request.beam:
        rows = sampler.beam_search(prompt.tokens, request.beam, until, key=request.key, count=request.count,
                                   condition=condition, metre=metre, cadence=request.cadence,
                                   key_guide=request.key_guide)
    else:
        options = SamplingOptions(request.temperature, request.top_k, request.top_p, request.key, seed,
                                  request.cadence, request.key_guide)
        rows = sampler.sample(prompt.tokens, request.count, until, options, on_step=on_step, condition=condition,
                              metre=metre, plan=plan)
    pieces = []
    for index, ids in enumerate(rows):
        piece = decode(ids, vocab, qpm=qpm, time_signature=prompt.time_signature, voices=prompt.voices,
                       key=prompt.key, name=f"variation {index + 1}")
        piece = piece.replace(time_signatures=prompt.signatures)
        piece = _keep_primer_intact(piece, prompt.primer_notes, config.monophonic)
        piece = crop(piece, 0 if request.keep_primer else start, until)
        pieces.append(piece.replace(voices=piece.voices if prompt.voices else (Voice("Melody"),)))
    offset = 0 if request.keep_primer else start
    spans = [ChordSpan(s.start - offset, s.end - offset, s.chord) for s in spans]
    key_token = vocab.key_of(int(prompt.tokens[1])) if len(prompt.tokens) > 1 else None
    return GenerationResult(pieces, seed, start - offset, until - offset, time.perf_counter() - started, spans,
                            key_token)


@dataclass
class _Prompt:
    """What the model is given before it generates, and what the output keeps of the primer."""

    tokens: np.ndarray                        # BOS (and a KEY token), or the encoded primer without its EOS
    metre: Metre                              # bar lines of the output
    signatures: tuple[TimeSignature, ...]     # the output's time signatures (a pickup's, then the tune's)
    time_signature: tuple[int, int] = (4, 4)
    qpm: float = 120.0
    key: str | None = None                    # the output's key signature
    voices: tuple | None = None               # the primer's voices (None: one "Melody" voice)
    primer_end: int = 0                       # the primer's last tick at the model's grid
    primer_notes: tuple = ()                  # the primer's notes at the model's grid


def _prompt(vocab: Vocabulary, request: GenerationRequest, primer: Piece | None,
            model: ComposerLM | None = None) -> _Prompt:
    """The prompt: the primer's music, or BOS and, for a model with key tokens, the key asked for (or the key
    the chords imply). A primer without a key signature (and no key asked for) is continued in the key the
    ``model`` reads it in (:mod:`composer.melody.primer_key`), which the output's signature then names.

    Raises:
        ValueError: the primer has no notes the model can use.
    """
    config = vocab.config
    if primer is not None:
        prepared = prepare(primer, config)
        if not prepared.notes:
            raise ValueError("the primer has no notes this model can use")
        check_length(prepared, "the primer")   # bounded before any work (issue 17, item 10)
        metre = metre_of(prepared)
        if model is not None and not prepared.key and not request.key and config.key_tokens:
            end = prepared.end + request.bars * metre.bar_ticks
            prepared = prepared.replace(key=likeliest_key(model, vocab, prepared, metre, end))
        sig = prepared.time_signatures[1 if metre.phase else 0]
        signatures = tuple(prepared.time_signatures[:2] if metre.phase else prepared.time_signatures[:1])
        return _Prompt(encode(prepared, vocab)[:-1], metre, signatures, (sig.numerator, sig.denominator),  # no EOS
                       prepared.qpm, request.key or prepared.key, prepared.voices, prepared.end, prepared.notes)
    tokens = np.array([BOS], dtype=np.int64)
    if config.key_tokens and (request.key or request.chords):
        prompt_key = request.key or infer_key([c for c, _ in parse_progression(request.chords)])
        if prompt_key:
            tokens = np.array([BOS, vocab.key(prompt_key)], dtype=np.int64)  # ask for the key
    signature = TimeSignature(0, *parse_time_signature(request.time_signature or "4/4"))
    metre = Metre(signature.ticks_per_bar(config.ticks_per_beat), beat_ticks(signature, config.ticks_per_beat))
    return _Prompt(tokens, metre, (signature,), (signature.numerator, signature.denominator), key=request.key)


def _chord_condition(model: ComposerLM, request: GenerationRequest, start: int, until: int, bar_ticks: int,
                     ticks_per_beat: int) -> tuple[list[ChordSpan], torch.Tensor | None]:
    """The chord spans asked for and the per-tick condition vectors ([until + 1, 25]) of a chord model.

    The primer's ticks, and every tick when no chords are given, are "no chord".
    """
    if not model.config.condition_size:
        return [], None
    spans = []
    if request.chords:
        spans = progression_spans(parse_progression(request.chords), start, until, bar_ticks, ticks_per_beat)
    codes = codes_per_tick(spans, until + 1)                                  # [until + 1]
    return spans, condition_vectors(torch.from_numpy(codes))                  # [until + 1, 25]


def new_notes(piece: Piece, primer_notes) -> list:
    """The notes of ``piece`` that are not the primer's (each primer note taken out once, as a multiset)."""
    remaining = Counter(primer_notes)
    new = []
    for note in piece.notes:
        if remaining[note] > 0:
            remaining[note] -= 1
        else:
            new.append(note)
    return new


def _keep_primer_intact(piece: Piece, primer_notes: tuple, monophonic: bool) -> Piece:
    """Make the primer's notes come out exactly as given.

    For a monophonic model, a generated note that starts before the primer's last note ends would cut
    that note short; such notes are dropped, and the rest is reduced to one line.
    """
    if not primer_notes:
        return to_monophonic(piece) if monophonic else piece
    generated = new_notes(piece, primer_notes)
    if monophonic:
        primer_end = max(n.end for n in primer_notes)
        line = to_monophonic(piece.replace(notes=tuple(n for n in generated if n.start >= primer_end)))
        generated = [dataclasses.replace(n, voice=primer_notes[0].voice) for n in line.notes]
    return piece.replace(notes=tuple(primer_notes) + tuple(generated))


GENERATE_CHUNK = 16   # variations sampled together: memory stays flat in --count, files appear as they are ready


def generate_to_folder(model: MelodyModel, out_dir: str | os.PathLike, request: GenerationRequest,
                       primer: str | os.PathLike | None = None, prefix: str = "variation",
                       progress: Callable[[dict], None] | None = None) -> dict:
    """Generate variations and write them as ``PREFIX_NN.mid`` files plus ``manifest.json`` into ``out_dir``.

    The variations are sampled :data:`GENERATE_CHUNK` at a time and each batch is written as soon as it is ready,
    so memory does not grow with ``request.count`` and a long run's first files are there early. The first batch
    is exactly what :func:`generate` gives for its size and ``seed``; batch ``i`` uses ``seed + i`` (the same
    seed gives the same files).

    Args:
        model: the loaded melody model file (see :func:`composer.melody.model.load_melody_model`).
        out_dir: the folder (created if missing).
        request: what to generate.
        primer: a MIDI file whose music the variations continue.
        prefix: file name prefix.
        progress: called with ``{"event": "step", "step", "done", "batch", "count"}`` while a batch is sampled and
            ``{"event": "written", "files": [entries], "done", "count", "seconds"}`` after each batch is written.

    Returns:
        The manifest (also written as JSON; its shape: :mod:`composer.core.output_folder`): parameters (the
        request, the seed used and the primer), the model file, primer_ticks, key_token, chords, and per
        file its note count, length in bars, beats and seconds, pitch range and estimated key.

    Raises:
        MidiReadError: the primer cannot be read.
        ValueError: the primer has no usable notes, or is too long; chords for a model without chord conditioning.
    """
    emit = progress or (lambda event: None)
    primer_piece = read_midi(primer) if primer is not None else None
    seed = request.seed if request.seed is not None else random.randrange(2**31)
    folder, seconds, result = None, 0.0, None
    for index, first in enumerate(range(0, request.count, GENERATE_CHUNK)):
        size = min(GENERATE_CHUNK, request.count - first)
        chunk = dataclasses.replace(request, count=size, seed=(seed + index) % 2**31)

        def on_step(step: int, _tokens, done: int = first, batch: int = size) -> bool:
            emit({"event": "step", "step": step, "done": done, "batch": batch, "count": request.count})
            return False

        result = generate(model.net, model.vocab, chunk, primer_piece, on_step=on_step)
        seconds += result.seconds
        if folder is None:
            folder = PieceFolder(out_dir, request.count, result.length_ticks, prefix, result.chord_spans)
        entries = folder.add([piece.replace(name=f"variation {first + number}")
                              for number, piece in enumerate(result.pieces, 1)])
        emit({"event": "written", "files": entries, "done": first + size, "count": request.count,
              "seconds": seconds})
    parameters = {**asdict(request), "seed": seed, "primer": str(primer) if primer else None}
    return folder.finish(model=model, parameters=parameters, ticks_per_beat=model.vocab.config.ticks_per_beat,
                         generation_seconds=seconds, primer_ticks=result.primer_ticks, key_token=result.prompt_key)
