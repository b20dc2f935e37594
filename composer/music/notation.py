"""Scores in and out: MusicXML (for MuseScore, Dorico, Finale, Sibelius) and ABC (for folk musicians). The only
module of Composer that reads or writes notation files; MIDI stays in :mod:`composer.music.midi_io`.

Writing builds a music21 score from a :class:`~composer.music.notes.Piece` bar by bar: the piece's bar lines
(:func:`composer.music.metre.metre_of`; a pickup, which Composer writes as a short first time signature, becomes
an incomplete opening bar numbered 0 under the tune's own time signature), its key signature (the piece's key,
else the key given, else the estimated key: :func:`score_key` says which), one named part (one staff) per voice
with a clef that suits its range (a 4-part piece: Soprano, Alto, Tenor and Bass on four staves), notes held over a
bar line as tied notes, notes sounding together in a voice as chords, overlapping lines in a voice as a second
notation voice, and chord symbols (:class:`~composer.music.chords.ChordSpan`) above the first part. The piece is
first put on a grid of :data:`GRID` ticks per beat (sixteenths and triplets). ABC is written as text here
(music21 reads ABC but does not write it): a header, one ``V:`` voice per part, chord symbols in quotes.

Reading (:func:`read_score`) takes ABC and MusicXML through music21's parsers into a piece with one voice per
part, its key, time signatures (an incomplete first bar becomes a pickup), tempo and ties joined. Anything that
cannot be read or written raises :class:`NotationError` naming the file and the reason in one line.

music21 (BSD licence) loads only when a score is read or written, so importing this module costs nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from composer.core.atomic import write_atomically
from composer.music.analysis import estimate_key
from composer.music.chords import ChordSpan
from composer.music.keys import parse_key
from composer.music.metre import COMPOUND_NUMERATORS, metre_of, pickup_signatures
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice, quantize

GRID = 12                # ticks per beat of written scores: sixteenths and triplets
READ_TICKS_PER_BEAT = 480
SCORE_SUFFIXES = {"musicxml": ".musicxml", "abc": ".abc"}
READABLE_SUFFIXES = (".abc", ".musicxml", ".xml", ".mxl")
MAX_SCORE_BYTES = 8 * 1024 * 1024
# The relative major's pitch class -> sharps (+) or flats (-) of its key signature.
_FIFTHS = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 1: -5, 8: -4, 3: -3, 10: -2, 5: -1}
_MAJOR_OFFSET = {"major": 0, "minor": 3, "dorian": 10, "phrygian": 8, "lydian": 7, "mixolydian": 5,
                 "aeolian": 3, "locrian": 1}
_MUSIC21_MODE = {"minor": "minor", "aeolian": "minor"}


class NotationError(Exception):
    """A score file could not be read or written. ``path`` and ``reason`` say which and why."""

    def __init__(self, path: str | os.PathLike, reason: str, action: str = "read") -> None:
        self.path = str(path)
        reason = " ".join(str(reason).split()) or "unknown error"
        self.reason = reason if len(reason) <= 300 else reason[:297] + "..."
        super().__init__(f"cannot {action} score {self.path}: {self.reason}")


def is_score_file(path: str | os.PathLike) -> bool:
    """True when ``path`` names a file :func:`read_score` reads (by its suffix: .abc, .musicxml, .xml, .mxl)."""
    return Path(path).suffix.lower() in READABLE_SUFFIXES


def score_path(midi: str | os.PathLike, fmt: str) -> Path:
    """The score file written beside a MIDI file in format ``fmt`` (``musicxml`` or ``abc``)."""
    return Path(midi).with_suffix(SCORE_SUFFIXES[fmt])


def _music21():
    """music21, imported on first use (it takes most of a second)."""
    import music21

    return music21


# -- the key --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreKey:
    """The key signature a score is written in, and where it comes from.

    Attributes:
        name: a key name (``G``, ``Em``, ``Ddorian``), or None when the piece has no notes to estimate from.
        source: ``"key signature"`` (the piece's own key: a file's key signature, the key a model wrote in),
            ``"asked"`` or ``"estimated"``.
    """

    name: str | None
    source: str


def score_key(piece: Piece, key: str | None = None) -> ScoreKey:
    """The key a score of ``piece`` is written in: the piece's own key, else ``key``, else the estimate."""
    if piece.key:
        return ScoreKey(piece.key, "key signature")
    if key:
        return ScoreKey(key, "asked")
    estimate = estimate_key(piece)
    return ScoreKey(estimate.key if estimate else None, "estimated")


def _m21_key(name: str | None):
    """The music21 key of a key name (its signature spelled as the major key with the fewest accidentals)."""
    m21 = _music21()
    if not name:
        return m21.key.Key("C")
    tonic, mode = parse_key(name)
    sharps = _FIFTHS[(tonic + _MAJOR_OFFSET[mode]) % 12]
    return m21.key.KeySignature(sharps).asKey(_MUSIC21_MODE.get(mode, "major" if mode == "major" else mode))


# Notes outside the scale, by semitones above the tonic: +1 spells one as the scale note below it raised, -1 as the
# scale note above it lowered. Major: #1, b3, #4, #5, b7; minor: b2, #3 (a Picardy third), #4, #6, #7; any other
# note of a mode as _OTHER_CHROMATIC says (b2, 2, b3, 3, 4, #4, 5, b6, 6, b7, 7).
_CHROMATIC = {"major": {1: 1, 3: -1, 6: 1, 8: 1, 10: -1}, "minor": {1: -1, 4: 1, 6: 1, 9: 1, 11: 1}}
_OTHER_CHROMATIC = {1: -1, 2: 1, 3: -1, 4: 1, 5: -1, 6: 1, 7: 1, 8: -1, 9: 1, 10: -1, 11: 1}
_MINOR_LIKE = ("minor", "aeolian", "dorian", "phrygian", "locrian")


def _speller(m21_key) -> dict[int, str]:
    """Pitch class -> music21 note name: the key's scale as the key spells it, other notes as a neighbouring scale
    note raised or lowered (:data:`_CHROMATIC`), the other way when that would need a double sharp or flat."""
    names = {p.pitchClass: p.name for p in m21_key.pitches}
    tonic = m21_key.tonic.pitchClass
    table = _CHROMATIC["minor" if m21_key.mode in _MINOR_LIKE else "major"]
    for pc in set(range(12)) - set(names):
        step = table.get((pc - tonic) % 12, _OTHER_CHROMATIC[(pc - tonic) % 12])
        for direction in (step, -step):
            neighbour = names.get((pc - direction) % 12)
            if neighbour is None:
                continue
            alter = neighbour.count("#") - neighbour.count("-") + direction
            if abs(alter) <= 1:
                names[pc] = neighbour[0] + {1: "#", -1: "-", 0: ""}[alter]
                break
        else:
            names[pc] = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")[pc]
    return names


@dataclass(frozen=True)
class Spelling:
    """A MIDI pitch spelled: its letter (``C``..``B``), alteration in semitones and octave (middle C is C4)."""

    letter: str
    alter: int
    octave: int

    @property
    def music21(self) -> str:
        """music21's name for it: ``F#4``, ``B-3``."""
        return self.letter + ("#" * self.alter if self.alter > 0 else "-" * -self.alter) + str(self.octave)


_LETTER_PCS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def spelled(pitch: int, spell: dict[int, str]) -> Spelling:
    """``pitch`` spelled by ``spell`` (see :func:`_speller`), its octave following the letter (B#3 is C4)."""
    name = spell[pitch % 12]
    alter = name.count("#") - name.count("-")
    return Spelling(name[0], alter, (pitch - alter - _LETTER_PCS[name[0]]) // 12 - 1)


# -- bars ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    """One bar of a score: ``start`` to ``stop`` in ticks, the time signature it is written under, its number
    (0 for a pickup) and whether it is a pickup (shorter than its time signature)."""

    start: int
    stop: int
    signature: TimeSignature
    number: int
    pickup: bool = False


def bars_of(piece: Piece, end: int) -> list[Bar]:
    """The bars of ``piece`` up to ``end`` (at least one): its time signatures laid out, a bar cut short by the
    next signature ending there; a pickup (see :func:`composer.music.metre.metre_of`) is bar 0 under the tune's
    signature."""
    signatures = list(piece.time_signatures or (TimeSignature(0, 4, 4),))
    tpb = piece.ticks_per_beat
    bars: list[Bar] = []
    if metre_of(piece).phase:
        first, signatures = signatures[0], signatures[1:]
        bars.append(Bar(0, signatures[0].tick, signatures[0], 0, pickup=True))
        del first
    for index, signature in enumerate(signatures):
        limit = signatures[index + 1].tick if index + 1 < len(signatures) else max(end, signature.tick + 1)
        tick = signature.tick
        while tick < limit:
            stop = min(limit, tick + signature.ticks_per_bar(tpb)) if index + 1 < len(signatures) \
                else tick + signature.ticks_per_bar(tpb)
            bars.append(Bar(tick, stop, signature, len(bars) + (0 if bars and bars[0].pickup else 1)))
            tick = stop
    return bars


# -- layers: the lines a voice's notes fall into -----------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """Pitches sounding together from ``start`` to ``end`` in one line (no pitches: a rest)."""

    start: int
    end: int
    pitches: tuple[int, ...]


def voice_layers(notes: list[Note]) -> list[list[Event]]:
    """A voice's notes as lines: notes with the same start and end are one chord; a chord that overlaps the
    previous one in a line goes to the next line that is free (the first line is the main one)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for note in notes:
        groups.setdefault((note.start, note.end), []).append(note.pitch)
    layers: list[list[Event]] = []
    for (start, end), pitches in sorted(groups.items()):
        event = Event(start, end, tuple(sorted(set(pitches))))
        line = next((line for line in layers if line[-1].end <= start), None)
        if line is None:
            layers.append([event])
        else:
            line.append(event)
    return layers or [[]]


def bar_events(line: list[Event], bar: Bar) -> list[tuple[Event, bool, bool]]:
    """The events of ``line`` within ``bar``, cut at its bar lines, rests filling the gaps: (event, tied from
    the bar before, tied into the next bar)."""
    out: list[tuple[Event, bool, bool]] = []
    cursor = bar.start
    for event in line:
        if event.end <= bar.start or event.start >= bar.stop:
            continue
        start, end = max(event.start, bar.start), min(event.end, bar.stop)
        if start > cursor:
            out.append((Event(cursor, start, ()), False, False))
        out.append((Event(start, end, event.pitches), event.start < bar.start, event.end > bar.stop))
        cursor = end
    if cursor < bar.stop:
        out.append((Event(cursor, bar.stop, ()), False, False))
    return out


# -- MusicXML ------------------------------------------------------------------------------------------------
def write_musicxml(piece: Piece, path: str | os.PathLike, chords: list[ChordSpan] = (), key: str | None = None,
                   title: str | None = None) -> ScoreKey:
    """Write ``piece`` as a MusicXML score (see the module docstring), atomically.

    Args:
        piece: the music, at any resolution.
        path: the .musicxml file.
        chords: chord symbols, in the piece's ticks, written above the first part.
        key: the key when the piece has none (else the key is estimated).
        title: the score's title (default: the piece's name, else the file name).

    Returns:
        The key the score is written in, and its source.

    Raises:
        NotationError: the score cannot be made or written.
    """
    piece, chords = _on_grid(piece, chords)
    written = score_key(piece, key)
    try:
        score = build_score(piece, chords, written.name, title or piece.name or Path(path).stem)
        exporter = _music21().musicxml.m21ToXml.GeneralObjectExporter(score)
        data = exporter.parse()
    except Exception as error:   # music21 raises many kinds; the file is not written
        raise NotationError(path, f"{type(error).__name__}: {error}", "write") from error
    write_atomically(Path(path), lambda handle: handle.write(data))
    return written


def _on_grid(piece: Piece, chords: list[ChordSpan]) -> tuple[Piece, list[ChordSpan]]:
    """``piece`` on the :data:`GRID` and ``chords`` moved with it."""
    if piece.ticks_per_beat == GRID:
        return piece, list(chords)
    scale = Fraction(GRID, piece.ticks_per_beat)
    moved = [ChordSpan(round(s.start * scale), round(s.end * scale), s.chord) for s in chords]
    return quantize(piece, GRID), [s for s in moved if s.end > s.start]


def build_score(piece: Piece, chords: list[ChordSpan], key: str | None, title: str):
    """The music21 score of ``piece`` (on the :data:`GRID`): one part per voice, bar by bar."""
    m21 = _music21()
    score = m21.stream.Score()
    score.insert(0, m21.metadata.Metadata(title=title, composer="Composer"))
    m21_key = _m21_key(key)
    end = max([piece.end, *(span.end for span in chords)])
    bars = bars_of(piece, end)
    for index, voice in enumerate(piece.voices or (Voice(),)):
        notes = [n for n in piece.notes if n.voice == index]
        if not notes and len(piece.voices) > 1:
            continue
        part = _part(piece, voice, index, notes, bars, m21_key)
        score.insert(0, part)
    parts = list(score.parts)
    if parts:
        _add_chord_symbols(parts[0], chords, bars, piece.ticks_per_beat)
        _add_tempo(parts[0], piece, _main_signature(bars))
    return score


def _main_signature(bars: list[Bar]) -> TimeSignature:
    """The time signature of the first full bar (a pickup's is the tune's too)."""
    return next((bar.signature for bar in bars if not bar.pickup), bars[0].signature)


def tempo_beat(qpm: float, signature: TimeSignature) -> tuple[Fraction, float]:
    """The tempo as a notation program shows it: (the beat in quarter notes, beats per minute); a compound metre
    (6/8, 9/8, 12/8) counts dotted quarters, others quarters."""
    if signature.numerator in COMPOUND_NUMERATORS and signature.denominator == 8:
        return Fraction(3, 2), qpm / 1.5
    return Fraction(1), qpm


def _part(piece: Piece, voice: Voice, index: int, notes: list[Note], bars: list[Bar], m21_key):
    """One part (one staff) of the score: the voice's bars, named, with its clef, key and time signatures."""
    m21 = _music21()
    part = m21.stream.Part()
    part.partName = voice.name or f"Voice {index + 1}"
    part.id = f"P{index + 1}"
    instrument = m21.instrument.Instrument(instrumentName=part.partName)
    instrument.partName, instrument.midiProgram = part.partName, voice.program
    part.insert(0, instrument)
    layers = voice_layers(notes)
    spelling = _Spelling(_speller(m21_key), _signature_alters(m21_key), piece.ticks_per_beat)
    shown = None
    for bar in bars:
        measure = _measure(bar, layers, spelling)
        if (bar.signature.numerator, bar.signature.denominator) != shown:
            shown = (bar.signature.numerator, bar.signature.denominator)
            measure.insert(0, m21.meter.TimeSignature(f"{shown[0]}/{shown[1]}"))
        part.append(measure)
    part.getElementsByClass("Measure").last().rightBarline = m21.bar.Barline("final")
    first = part.getElementsByClass("Measure").first()
    first.insert(0, _clef(voice, notes))
    first.insert(0, m21.key.Key(m21_key.tonic.name, m21_key.mode))
    return part


@dataclass(frozen=True)
class _Spelling:
    """How a part's notes are spelled: pitch class -> name, the key signature's alterations by letter, and the
    ticks per beat."""

    names: dict[int, str]
    signature: dict[str, int]
    tpb: int


def _signature_alters(m21_key) -> dict[str, int]:
    """Letter -> alteration (semitones) of the key signature of a music21 key."""
    return {p.step: int(p.alter) for p in m21_key.alteredPitches}


def accidental_needed(spelling: Spelling, accidentals: dict[str, int]) -> bool:
    """Whether a note needs an accidental in its bar: its alteration is not the one in force (an earlier
    accidental on that letter and octave in the bar, else the key signature's). ``accidentals`` is updated."""
    slot = f"{spelling.letter}{spelling.octave}"
    if spelling.alter == accidentals.get(slot, accidentals.get(spelling.letter, 0)):
        return False
    accidentals[slot] = spelling.alter
    return True


def _measure(bar: Bar, layers: list[list[Event]], spelling: _Spelling):
    """One bar of one part: its main line, and further lines as notation voices."""
    m21 = _music21()
    measure = m21.stream.Measure(number=bar.number)
    if bar.pickup:
        full = Fraction(bar.signature.ticks_per_bar(spelling.tpb), spelling.tpb)
        measure.paddingLeft = float(full - Fraction(bar.stop - bar.start, spelling.tpb))
        measure.showNumber = m21.stream.enums.ShowNumber.NEVER
    lines = [layers[0]] + [line for line in layers[1:] if any(e.end > bar.start and e.start < bar.stop for e in line)]
    accidentals = dict(spelling.signature)
    for number, line in enumerate(lines, 1):
        container = measure if len(lines) == 1 else m21.stream.Voice(id=str(number))
        for event, tied_in, tied_out in bar_events(line, bar):
            container.append(_element(event, (tied_in, tied_out), spelling, accidentals))
        if container is not measure:
            measure.insert(0, container)
    return measure


def _element(event: Event, ties: tuple[bool, bool], spelling: _Spelling, accidentals: dict[str, int]):
    """A music21 note, chord or rest for one event, tied to its neighbours as ``ties`` (from the one before, into
    the next) says, its accidentals shown where the bar needs them (not on a note tied over the bar line)."""
    m21 = _music21()
    length = Fraction(event.end - event.start, spelling.tpb)
    if not event.pitches:
        return m21.note.Rest(quarterLength=length)
    pitches = []
    for midi in event.pitches:
        spelled_as = spelled(midi, spelling.names)
        pitch = m21.pitch.Pitch(spelled_as.music21)
        pitch.accidental = m21.pitch.Accidental(spelled_as.alter)
        pitch.accidental.displayStatus = not ties[0] and accidental_needed(spelled_as, accidentals)
        pitches.append(pitch)
    element = m21.note.Note(pitches[0], quarterLength=length) if len(pitches) == 1 else \
        m21.chord.Chord(pitches, quarterLength=length)
    tie = {(True, True): "continue", (True, False): "stop", (False, True): "start"}.get(ties)
    if tie:
        element.tie = m21.tie.Tie(tie)
    return element


def _clef(voice: Voice, notes: list[Note]):
    """The clef of a part: by its name for tenor and bass voices, else by its range."""
    m21 = _music21()
    name = voice.name.strip().lower()
    if name.startswith("bass"):
        return m21.clef.BassClef()
    if name.startswith("tenor"):
        return m21.clef.Treble8vbClef()
    if not notes:
        return m21.clef.TrebleClef()
    middle = sorted(n.pitch for n in notes)[len(notes) // 2]
    return m21.clef.TrebleClef() if middle >= 57 else m21.clef.BassClef()


def chord_symbol(chord):
    """The music21 chord symbol of a :class:`~composer.music.chords.Chord` (``N`` is "no chord"): its MusicXML
    kind (with an added degree for ``7sus4`` and ``add9``; ``other`` for a shape with no standard name), its slash
    bass, and its suffix as Composer names it for the text shown (``C7sus4``, ``F/C``)."""
    m21 = _music21()
    if chord.root is None:
        return m21.harmony.NoChord()
    kind, added = _KINDS.get(chord.quality_intervals, ("other", None))
    bass = m21.pitch.Pitch(_FLAT_NAMES[chord.bass]) if chord.bass is not None else None
    symbol = m21.harmony.ChordSymbol(root=m21.pitch.Pitch(_FLAT_NAMES[chord.root]), bass=bass, kind=kind)
    if added:
        symbol.addChordStepModification(m21.harmony.ChordStepModification("add", *added))
    symbol.chordKindStr = chord.suffix
    return symbol


_FLAT_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
# A chord's intervals -> its MusicXML kind (music21's name for it) and an added degree (number, alteration).
_KINDS = {(0, 4, 7): ("major", None), (0, 3, 7): ("minor", None), (0, 3, 6): ("diminished", None),
          (0, 4, 8): ("augmented", None), (0, 4, 7, 10): ("dominant-seventh", None),
          (0, 4, 7, 11): ("major-seventh", None), (0, 3, 7, 10): ("minor-seventh", None),
          (0, 3, 6, 10): ("half-diminished-seventh", None), (0, 3, 6, 9): ("diminished-seventh", None),
          (0, 2, 7): ("suspended-second", None), (0, 5, 7): ("suspended-fourth", None), (0, 7): ("power", None),
          (0, 4, 7, 9): ("major-sixth", None), (0, 3, 7, 9): ("minor-sixth", None),
          (0, 3, 7, 11): ("minor-major-seventh", None), (0, 5, 7, 10): ("suspended-fourth", (7, -1)),
          (0, 2, 4, 7, 10): ("dominant-ninth", None), (0, 2, 4, 7, 11): ("major-ninth", None),
          (0, 2, 3, 7, 10): ("minor-ninth", None), (0, 2, 4, 7): ("major", (9, 0))}


def _add_chord_symbols(part, chords: list[ChordSpan], bars: list[Bar], tpb: int) -> None:
    """Chord symbols above ``part``, each where its span starts (a chord repeated bar after bar is shown in
    every bar its span starts in)."""
    measures = list(part.getElementsByClass("Measure"))
    for span in chords:
        index = next((i for i, bar in enumerate(bars) if bar.start <= span.start < bar.stop), None)
        if index is None:
            continue
        offset = Fraction(span.start - bars[index].start, tpb)
        measures[index].insert(float(offset) if offset.denominator == 1 else offset, chord_symbol(span.chord))


def _add_tempo(part, piece: Piece, signature: TimeSignature) -> None:
    """The opening tempo as a metronome mark in the first bar (quarter = QPM, or dotted quarter in 6/8)."""
    m21 = _music21()
    beat, bpm = tempo_beat(piece.qpm, signature)
    mark = m21.tempo.MetronomeMark(number=round(bpm, 1), referent=m21.duration.Duration(beat))
    mark.placement = "above"
    part.getElementsByClass("Measure").first().insert(0, mark)


# -- ABC ---------------------------------------------------------------------------------------------------------
ABC_UNIT = 6             # ticks of the ABC unit note length, L:1/8, on the GRID
_ABC_MODES = {"major": "", "minor": "m", "dorian": "Dor", "phrygian": "Phr", "lydian": "Lyd", "mixolydian": "Mix",
              "aeolian": "m", "locrian": "Loc"}


def write_abc(piece: Piece, path: str | os.PathLike, chords: list[ChordSpan] = (), key: str | None = None,
              title: str | None = None) -> ScoreKey:
    """Write ``piece`` as an ABC tune (one ``V:`` voice per part when it has several), atomically.

    A voice is written as one line of notes and chords (notes sounding together); where a voice overlaps
    itself, only its main line is written. Chord symbols go above the first voice, in quotes.

    Args:
        piece, chords, key, title: as for :func:`write_musicxml`.
        path: the .abc file.

    Returns:
        The key the tune is written in, and its source.
    """
    piece, chords = _on_grid(piece, chords)
    written = score_key(piece, key)
    text = abc_text(piece, chords, written.name, title or piece.name or Path(path).stem)
    write_atomically(Path(path), lambda handle: handle.write(text.encode()))
    return written


def abc_text(piece: Piece, chords: list[ChordSpan], key: str | None, title: str) -> str:
    """The ABC tune of ``piece`` (on the :data:`GRID`): header, then each voice bar by bar."""
    m21_key = _m21_key(key)
    end = max([piece.end, *(span.end for span in chords)])
    bars = bars_of(piece, end)
    main = _main_signature(bars)
    mode = _ABC_MODES.get(parse_key(key)[1], "") if key else ""
    beat, bpm = tempo_beat(piece.qpm, main)
    lines = ["X:1", f"T:{' '.join(title.split()) or 'Untitled'}", f"M:{main.numerator}/{main.denominator}",
             "L:1/8", f"Q:{beat / 4}={round(bpm)}", f"K:{m21_key.tonic.name.replace('-', 'b')}{mode}"]
    voices = [index for index in range(len(piece.voices)) if any(n.voice == index for n in piece.notes)] or [0]
    for number, index in enumerate(voices, 1):
        if len(voices) > 1:
            name = piece.voices[index].name or f"Voice {number}"
            lines.append(f'V:{number} name="{name}"')
        notes = [n for n in piece.notes if n.voice == index]
        lines += _abc_voice(voice_layers(notes)[0], bars, chords if number == 1 else (), m21_key)
    return "\n".join(lines) + "\n"


def _abc_voice(line: list[Event], bars: list[Bar], chords: list[ChordSpan], m21_key) -> list[str]:
    """A voice's bars in ABC, four bars (after a pickup) a line, ending with ``|]``."""
    spell = _speller(m21_key)
    signature = _signature_alters(m21_key)
    starts = {span.start: span.chord.name for span in chords}
    texts = []
    for bar in bars:
        events = _split_at(bar_events(line, bar), sorted(t for t in starts if bar.start < t < bar.stop))
        accidentals = dict(signature)
        texts.append(" ".join(_abc_group(events, starts, spell, accidentals)))
    rows, row = [], []
    for bar, text in zip(bars, texts):
        row.append(text)
        if not bar.pickup and (bar.number % 4 == 0 or bar is bars[-1]):
            rows.append(" | ".join(row) + (" |]" if bar is bars[-1] else " |"))
            row = []
    return rows + ([" | ".join(row) + " |]"] if row else [])


def _split_at(events: list[tuple[Event, bool, bool]], ticks: list[int]) -> list[tuple[Event, bool, bool]]:
    """``events`` cut (tied) at ``ticks``, so a chord symbol there has a note or rest to stand on."""
    for tick in ticks:
        out = []
        for event, tied_in, tied_out in events:
            if event.start < tick < event.end:
                out += [(Event(event.start, tick, event.pitches), tied_in, bool(event.pitches)),
                        (Event(tick, event.end, event.pitches), bool(event.pitches), tied_out)]
            else:
                out.append((event, tied_in, tied_out))
        events = out
    return events


def _abc_group(events: list[tuple[Event, bool, bool]], starts: dict[int, str], spell: dict[int, str],
               accidentals: dict[str, int]) -> list[str]:
    """The ABC of one bar's events: three equal notes of a triplet length as ``(3``, others one by one."""
    words, index = [], 0
    while index < len(events):
        triplet = _is_triplet(events[index:index + 3])
        group = events[index:index + (3 if triplet else 1)]
        word = "(3" if triplet else ""
        for event, _, tied_out in group:
            length = Fraction(event.end - event.start, ABC_UNIT) * (Fraction(3, 2) if triplet else 1)
            chord = f'"{starts[event.start]}"' if event.start in starts else ""
            word += chord + _abc_notes(event.pitches, spell, accidentals) + _abc_length(length) + \
                ("-" if tied_out else "")
        words.append(word)
        index += len(group)
    return words


def _is_triplet(group: list[tuple[Event, bool, bool]]) -> bool:
    """Three events of the same length that is two thirds of a plain one (a triplet)."""
    lengths = {event.end - event.start for event, _, _ in group}
    if len(group) < 3 or len(lengths) != 1:
        return False
    length = Fraction(lengths.pop(), ABC_UNIT)
    return length.denominator % 3 == 0 and (length * Fraction(3, 2)).denominator in (1, 2, 4)


def _abc_notes(pitches: tuple[int, ...], spell: dict[int, str], accidentals: dict[str, int]) -> str:
    """A rest (``z``), a note (``^F``, ``c'``) or a chord (``[CEG]``), with the accidentals the bar needs."""
    if not pitches:
        return "z"
    words = [_abc_pitch(spelled(p, spell), accidentals) for p in pitches]
    return words[0] if len(words) == 1 else "[" + "".join(words) + "]"


def _abc_pitch(spelling: Spelling, accidentals: dict[str, int]) -> str:
    """One ABC pitch with the accidental the bar needs (see :func:`accidental_needed`)."""
    mark = {0: "=", 1: "^", 2: "^^", -1: "_", -2: "__"}[spelling.alter] if accidental_needed(spelling, accidentals) \
        else ""
    octave = spelling.octave
    letter = spelling.letter if octave <= 4 else spelling.letter.lower()
    marks = "," * max(0, 4 - octave) + "'" * max(0, octave - 5)
    return mark + letter + marks


def _abc_length(length: Fraction) -> str:
    """An ABC length in units of L: ``""`` for one, ``2``, ``3/2``, ``/2``."""
    if length == 1:
        return ""
    if length.denominator == 1:
        return str(length.numerator)
    return (str(length.numerator) if length.numerator != 1 else "") + f"/{length.denominator}"


# -- reading ABC and MusicXML ----------------------------------------------------------------------------------
def read_score(path: str | os.PathLike) -> Piece:
    """Read an ABC tune (the first of a tune book) or a MusicXML score into a piece.

    Returns:
        One voice per part (named as the part), at :data:`READ_TICKS_PER_BEAT` ticks per beat, with the key,
        the time signatures (an incomplete first bar as a pickup), the opening tempo and ties joined; grace notes
        and chord symbols are left out.

    Raises:
        NotationError: the file is missing, too large, not a score, or has no notes.
    """
    path = Path(path)
    score = _parse(path)
    piece = _piece_of(score, path)
    if not piece.notes:
        raise NotationError(path, "it has no notes")
    return piece


def _parse(path: Path):
    """The music21 score in ``path`` (the first tune of an ABC tune book)."""
    if not path.is_file():
        raise NotationError(path, "no such file" if not path.exists() else "not a regular file")
    if path.stat().st_size > MAX_SCORE_BYTES:
        raise NotationError(path, f"over {MAX_SCORE_BYTES // 2**20} MB; no score is this large")
    m21 = _music21()
    fmt = "abc" if path.suffix.lower() == ".abc" else "musicxml"
    try:
        score = m21.converter.parse(str(path), format=fmt, forceSource=True)
    except Exception as error:   # music21 raises many kinds on bad input
        raise NotationError(path, f"not a readable {'ABC' if fmt == 'abc' else 'MusicXML'} file "
                            f"({type(error).__name__}: {error})") from error
    if isinstance(score, m21.stream.Opus):
        tunes = list(score.scores)
        if not tunes:
            raise NotationError(path, "it holds no tune")
        score = tunes[0]
    return score


def _piece_of(score, path: Path) -> Piece:
    """A :class:`Piece` of a music21 score (see :func:`read_score`)."""
    m21 = _music21()
    parts = list(score.parts) or [score]
    notes, voices = [], []
    for part in parts:
        flat = part.stripTies().flatten()
        sounding = [n for n in flat.notes if not isinstance(n, m21.harmony.ChordSymbol) and n.quarterLength > 0]
        if not sounding:
            continue
        index = len(voices)
        voices.append(Voice(part.partName or f"Voice {index + 1}"))
        notes += [Note(_tick(n.offset), max(_tick(n.offset + n.quarterLength), _tick(n.offset) + 1), p.midi, 90,
                       index) for n in sounding for p in n.pitches]
    return Piece(tuple(notes), READ_TICKS_PER_BEAT, tuple(voices) or (Voice(),), _tempos(score),
                 _signatures(parts[0]), _key_of(score), path.stem)


def _tick(quarters) -> int:
    return round(Fraction(quarters) * READ_TICKS_PER_BEAT)


def _signatures(part) -> tuple[TimeSignature, ...]:
    """The part's time signatures, a short first bar as a pickup signature."""
    m21 = _music21()
    found = [(_tick(ts.getOffsetInHierarchy(part)), ts.numerator, ts.denominator)
             for ts in part.recurse().getElementsByClass(m21.meter.TimeSignature)]
    signatures = [TimeSignature(t, n, d) for i, (t, n, d) in enumerate(found) if i == 0 or t > found[i - 1][0]]
    if not signatures:
        return (TimeSignature(0, 4, 4),)
    measures = list(part.getElementsByClass("Measure"))
    if measures and signatures[0].tick == 0:
        first = _tick(measures[0].duration.quarterLength)
        bar = signatures[0].ticks_per_bar(READ_TICKS_PER_BEAT)
        if 0 < first < bar and measures[0].paddingLeft:
            return pickup_signatures(signatures[0], first, READ_TICKS_PER_BEAT) + tuple(
                TimeSignature(s.tick, s.numerator, s.denominator) for s in signatures[1:])
    return tuple(signatures)


def _tempos(score) -> tuple[TempoChange, ...]:
    """The opening tempo (quarter notes per minute) of the score's first metronome mark, else 120."""
    m21 = _music21()
    for mark in score.recurse().getElementsByClass(m21.tempo.MetronomeMark):
        qpm = mark.getQuarterBPM()
        if qpm:
            return (TempoChange(0, float(min(400.0, max(20.0, qpm)))),)
    return (TempoChange(0, 120.0),)


def _key_of(score) -> str | None:
    """The key of the score's first key signature (``G``, ``Em``, ``Ddorian``), or None."""
    m21 = _music21()
    for signature in score.recurse().getElementsByClass(m21.key.KeySignature):
        found = signature if isinstance(signature, m21.key.Key) else signature.asKey("major")
        mode = found.mode if found.mode in ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian",
                                            "aeolian", "locrian") else "major"
        suffix = {"major": "", "minor": "m"}.get(mode, mode)
        return found.tonic.name.replace("-", "b") + suffix
    return None


# -- scores beside MIDI files, and scores where MIDI files are read ----------------------------------------------
def read_music(path: str | os.PathLike) -> Piece:
    """The piece in a MIDI file, or in a score (ABC, MusicXML: by its suffix, see :func:`is_score_file`).

    Raises:
        MidiReadError, NotationError: it cannot be read (one-line messages).
    """
    if is_score_file(path):
        return read_score(path)
    from composer.music.midi_io import read_midi

    return read_midi(path)


def no_notes_reason(path: str | os.PathLike) -> str:
    """Why a file gives no notes: ``has only drums (channel 10); choose a pitched track`` when it is a MIDI file
    holding drum notes (which are not read as music), else ``has no notes``."""
    if not is_score_file(path):
        from composer.music.midi_io import MidiReadError, read_midi

        try:
            if read_midi(path, include_drums=True).notes:
                return "has only drums (channel 10); choose a pitched track"
        except MidiReadError:
            pass
    return "has no notes"


class ScorePrimer(os.PathLike):
    """A score given where an API reads a MIDI file (a primer): the score is read (:class:`NotationError` when it
    cannot be) and written as a MIDI file in a temporary folder, which this object's path names, while ``str()``
    still names the score (a manifest records it). A context manager: the temporary file is removed on exit.
    """

    def __init__(self, score: str | os.PathLike) -> None:
        from composer.music.midi_io import write_midi

        piece = read_score(score)
        self.score = Path(score)
        self.folder = tempfile.TemporaryDirectory(prefix="composer-primer-")
        self.midi = Path(self.folder.name) / f"{self.score.stem}.mid"
        write_midi(piece, self.midi)

    def __fspath__(self) -> str:
        return str(self.midi)

    def __str__(self) -> str:
        return str(self.score)

    def __enter__(self) -> ScorePrimer:
        return self

    def __exit__(self, *exc) -> None:
        self.folder.cleanup()


def key_contradiction(asked: str | None, piece_key: str | None, what: str) -> str | None:
    """A warning line when a key asked for (``--key``) has another key signature than the one ``what`` (the
    primer, the melody's key signature) is in; None when they agree (a relative minor agrees) or either is unknown."""
    if not asked or not piece_key:
        return None
    if _signature_of(asked) == _signature_of(piece_key):
        return None
    return f"warning: --key {asked} contradicts {what}, written in {piece_key}; the music is made in {asked} as asked"


def _signature_of(key: str) -> int:
    """The sharps (+) or flats (-) of a key's signature."""
    tonic, mode = parse_key(key)
    return _FIFTHS[(tonic + _MAJOR_OFFSET[mode]) % 12]


def write_beside(midi: str | os.PathLike, fmt: str, chords: list[dict] = ()) -> str:
    """Write the MIDI file ``midi`` as a score beside it (``NAME.musicxml`` or ``NAME.abc``).

    Args:
        midi: a MIDI file just written.
        fmt: ``musicxml`` or ``abc``.
        chords: chord symbols as a generate manifest lists them: ``[{chord, start_beat, beats}]``.

    Returns:
        The line to print: the score and the key it is written in, with where that key comes from.

    Raises:
        MidiReadError, NotationError: the MIDI file cannot be read or the score written.
    """
    from composer.music.chords import parse_chord
    from composer.music.midi_io import read_midi

    piece = read_midi(midi)
    tpb = piece.ticks_per_beat
    spans = [ChordSpan(round(c["start_beat"] * tpb), round((c["start_beat"] + c["beats"]) * tpb),
                       parse_chord(c["chord"])) for c in chords]
    path = score_path(midi, fmt)
    written = (write_musicxml if fmt == "musicxml" else write_abc)(piece, path, spans)
    source = {"key signature": "its key signature", "estimated": "estimated, the file has no key signature"}
    key = f"in {written.name} ({source.get(written.source, written.source)})" if written.name else "without a key"
    return f"{path}: {'MusicXML' if fmt == 'musicxml' else 'ABC'} score {key}"


def manifest_chords(manifest: str | os.PathLike | None) -> list[dict]:
    """The chords a generate manifest lists (``[{chord, start_beat, beats}]``; none without one)."""
    if manifest is None or not Path(manifest).is_file():
        return []
    return json.loads(Path(manifest).read_text()).get("chords", [])
