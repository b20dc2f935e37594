"""The one note data model of Composer, and the transforms on it.

Times are integer ticks on a grid of ``Piece.ticks_per_beat`` ticks per quarter-note beat. A piece read
from a MIDI file keeps the file's resolution; :func:`quantize` moves it to a coarse grid (for example 12
ticks per beat, which holds sixteenths and triplets) where every time is exact. Every transform returns a
new piece and leaves its input untouched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

MIN_PITCH = 0
MAX_PITCH = 127


@dataclass(frozen=True, order=True)
class Note:
    """One sounding note.

    Attributes:
        start: onset in ticks.
        end: release in ticks (exclusive); always greater than ``start``.
        pitch: MIDI pitch 0..127.
        velocity: MIDI velocity 1..127.
        voice: index into ``Piece.voices`` (a track, or an SATB part).
    """

    start: int
    end: int
    pitch: int
    velocity: int = 90
    voice: int = 0

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class TempoChange:
    tick: int
    qpm: float


@dataclass(frozen=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int

    def ticks_per_bar(self, ticks_per_beat: int) -> int:
        """Length of one bar in ticks (a beat is a quarter note); at least one tick on coarse grids."""
        return max(1, ticks_per_beat * 4 * self.numerator // self.denominator)


@dataclass(frozen=True)
class Voice:
    """A part of the piece: its name and General MIDI program (0..127), or a drum kit."""

    name: str = ""
    program: int = 0
    is_drum: bool = False


@dataclass(frozen=True)
class Piece:
    """A piece of music: notes on a tick grid, with tempo, metre and key where known.

    Attributes:
        notes: sorted by (start, voice, pitch).
        ticks_per_beat: grid resolution (ticks per quarter note).
        voices: one entry per voice index used by the notes.
        tempos: tempo changes, sorted, the first at tick 0.
        time_signatures: metre changes, sorted, the first at tick 0.
        key: key name such as ``"C"`` or ``"Am"``, or None when unknown.
        name: a label, usually the file name.
    """

    notes: tuple[Note, ...]
    ticks_per_beat: int
    voices: tuple[Voice, ...] = (Voice(),)
    tempos: tuple[TempoChange, ...] = (TempoChange(0, 120.0),)
    time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0, 4, 4),)
    key: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat must be positive, got {self.ticks_per_beat}")
        object.__setattr__(self, "notes", tuple(sorted(self.notes, key=_note_order)))

    # -- derived facts ---------------------------------------------------------------------------
    @property
    def end(self) -> int:
        """Tick at which the last note ends (0 for an empty piece)."""
        return max((n.end for n in self.notes), default=0)

    @property
    def qpm(self) -> float:
        """The opening tempo in quarter notes per minute."""
        return self.tempos[0].qpm

    @property
    def ticks_per_bar(self) -> int:
        """Bar length of the opening time signature, in ticks."""
        return self.time_signatures[0].ticks_per_bar(self.ticks_per_beat)

    def beats(self, tick: int) -> Fraction:
        """Exact position of ``tick`` in beats."""
        return Fraction(tick, self.ticks_per_beat)

    def seconds(self, tick: int) -> float:
        """Wall-clock time of ``tick``, following the tempo map."""
        elapsed, last_tick, qpm = 0.0, 0, self.tempos[0].qpm
        for change in self.tempos[1:]:
            if change.tick >= tick:
                break
            elapsed += (change.tick - last_tick) / self.ticks_per_beat * 60.0 / qpm
            last_tick, qpm = change.tick, change.qpm
        return elapsed + (tick - last_tick) / self.ticks_per_beat * 60.0 / qpm

    def voice_notes(self, voice: int) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.voice == voice)

    def is_monophonic(self, voice: int | None = None) -> bool:
        """True when no two notes (of ``voice``, or of the whole piece) sound at once."""
        notes = self.notes if voice is None else self.voice_notes(voice)
        return all(a.end <= b.start for a, b in zip(notes, notes[1:]))

    def replace(self, **changes) -> Piece:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


def _note_order(note: Note) -> tuple[int, int, int, int, int]:
    return (note.start, note.voice, note.pitch, note.end, note.velocity)


# -- transforms (each returns a new piece) ---------------------------------------------------------
def quantize(piece: Piece, ticks_per_beat: int) -> Piece:
    """Move a piece onto a grid of ``ticks_per_beat`` ticks per beat.

    Onsets and releases are rounded to the nearest grid point. A note that would vanish keeps one
    grid step, so every note survives; then the piece is cleaned (see :func:`clean`).

    Args:
        piece: the piece to quantize.
        ticks_per_beat: the new resolution, e.g. 4 for sixteenths, 12 for sixteenths and triplets.

    Returns:
        A new piece at the new resolution.
    """
    if ticks_per_beat <= 0:
        raise ValueError(f"ticks_per_beat must be positive, got {ticks_per_beat}")
    old = piece.ticks_per_beat

    def snap(tick: int) -> int:
        # round half up, in exact integer arithmetic
        return (2 * tick * ticks_per_beat + old) // (2 * old)

    notes = []
    for n in piece.notes:
        start = snap(n.start)
        notes.append(dataclasses.replace(n, start=start, end=max(snap(n.end), start + 1)))
    tempos = _dedupe_by_tick([dataclasses.replace(t, tick=snap(t.tick)) for t in piece.tempos])
    sigs = _dedupe_by_tick([dataclasses.replace(s, tick=snap(s.tick)) for s in piece.time_signatures])
    return clean(piece.replace(notes=tuple(notes), ticks_per_beat=ticks_per_beat, tempos=tempos,
                               time_signatures=sigs))


def _dedupe_by_tick(events: list) -> tuple:
    """Keep the last event at each tick, sorted by tick."""
    by_tick = {}
    for event in events:
        by_tick[event.tick] = event
    return tuple(by_tick[t] for t in sorted(by_tick))


def clean(piece: Piece) -> Piece:
    """Drop zero-length notes and resolve overlaps of the same pitch in the same voice.

    Two notes of one pitch and voice that overlap are cut so the first ends where the second starts;
    duplicates (same voice, pitch and onset) keep the longer.
    """
    kept: list[Note] = []
    last_of: dict[tuple[int, int], int] = {}  # (voice, pitch) -> index into kept
    for n in sorted(piece.notes, key=_note_order):
        if n.end <= n.start:
            continue
        key = (n.voice, n.pitch)
        if key in last_of:
            i = last_of[key]
            prev = kept[i]
            if prev.start == n.start:
                if n.end > prev.end:
                    kept[i] = n
                continue
            if prev.end > n.start:
                kept[i] = dataclasses.replace(prev, end=n.start)
        last_of[key] = len(kept)
        kept.append(n)
    return piece.replace(notes=tuple(kept))


def transpose(piece: Piece, semitones: int) -> Piece:
    """Shift every pitch by ``semitones``.

    Raises:
        ValueError: a pitch would leave 0..127.
    """
    pitches = [n.pitch for n in piece.notes]
    if pitches and not (MIN_PITCH <= min(pitches) + semitones and max(pitches) + semitones <= MAX_PITCH):
        raise ValueError(f"transposing by {semitones} moves pitches {min(pitches)}..{max(pitches)} out of 0..127")
    notes = tuple(dataclasses.replace(n, pitch=n.pitch + semitones) for n in piece.notes)
    return piece.replace(notes=notes, key=transpose_key_name(piece.key, semitones))


def transpose_key_name(key: str | None, semitones: int) -> str | None:
    """The name of ``key`` moved by ``semitones`` (sharps preferred), or None."""
    if key is None:
        return None
    from composer.music.keys import parse_key, key_name  # local: keys imports nothing of ours

    try:
        tonic, mode = parse_key(key)
    except ValueError:
        return None
    return key_name((tonic + semitones) % 12, mode)


def to_monophonic(piece: Piece) -> Piece:
    """Reduce a piece to one melodic line in voice 0 (the skyline).

    At each onset the highest note wins; a note still sounding when the next onset comes is cut there.
    """
    by_start: dict[int, Note] = {}
    for n in piece.notes:
        best = by_start.get(n.start)
        if best is None or n.pitch > best.pitch:
            by_start[n.start] = n
    line = [by_start[s] for s in sorted(by_start)]
    for i, n in enumerate(line):          # notes already right are kept as they are (replace() is slow)
        end = min(n.end, line[i + 1].start) if i + 1 < len(line) else n.end
        if n.voice != 0 or end != n.end:
            line[i] = Note(n.start, end, n.pitch, n.velocity, 0)
    top_voice = piece.voices[max(by_start.values(), key=lambda n: n.pitch).voice] if by_start else Voice()
    return piece.replace(notes=tuple(line), voices=(top_voice,))


def select_voices(piece: Piece, voices: list[int]) -> Piece:
    """Keep only the given voices, renumbered 0..len(voices)-1 in the order given."""
    for v in voices:
        if not 0 <= v < len(piece.voices):
            raise ValueError(f"voice {v} does not exist (the piece has {len(piece.voices)})")
    new_index = {v: i for i, v in enumerate(voices)}
    notes = tuple(dataclasses.replace(n, voice=new_index[n.voice]) for n in piece.notes if n.voice in new_index)
    return piece.replace(notes=notes, voices=tuple(piece.voices[v] for v in voices))


def crop(piece: Piece, start: int, end: int) -> Piece:
    """The part of a piece between ticks ``start`` and ``end``, shifted to begin at 0.

    Notes that cross a boundary are cut at it.
    """
    if end <= start:
        raise ValueError(f"crop needs end > start, got {start}..{end}")
    notes = []
    for n in piece.notes:
        s, e = max(n.start, start), min(n.end, end)
        if s < e:   # a note that needs no change is kept as it is (a thousand replace() calls cost milliseconds)
            unchanged = start == 0 and s == n.start and e == n.end
            notes.append(n if unchanged else Note(s - start, e - start, n.pitch, n.velocity, n.voice))
    return piece.replace(notes=tuple(notes), tempos=_events_from(piece.tempos, start),
                         time_signatures=_events_from(piece.time_signatures, start))


def _events_from(events: tuple, start: int) -> tuple:
    """Tempo or metre events as seen from ``start`` (the one in force there moves to tick 0)."""
    in_force = [e for e in events if e.tick <= start][-1:] or [events[0]]
    later = [e for e in events if e.tick > start]
    return tuple(dataclasses.replace(e, tick=max(0, e.tick - start)) for e in in_force + later)


def append(first: Piece, second: Piece, at: int | None = None) -> Piece:
    """``second`` placed after ``first`` (at tick ``at``, default where ``first`` ends).

    Both must share a resolution; the result keeps ``first``'s tempo, metre, key and voices.
    """
    if first.ticks_per_beat != second.ticks_per_beat:
        raise ValueError("append needs pieces of the same resolution")
    offset = first.end if at is None else at
    moved = tuple(dataclasses.replace(n, start=n.start + offset, end=n.end + offset) for n in second.notes)
    return first.replace(notes=first.notes + moved)
