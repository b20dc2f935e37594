"""MIDI files in and out. The only module of Composer that reads or writes MIDI files.

Reading turns any standard MIDI file (format 0 or 1) into a :class:`~composer.notes.Piece` at the file's
own resolution: one voice per (track, channel) that plays notes, drums (channel 10) dropped unless asked
for, tempo and time-signature changes from every track, the first key signature. Anything that cannot be
read raises :class:`MidiReadError` naming the file and the reason.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path

import mido

from composer.atomic import write_atomically
from composer.notes import Note, Piece, TempoChange, TimeSignature, Voice, clean

DRUM_CHANNEL = 9
MAX_FILE_BYTES = 32 * 1024 * 1024  # no real song is this large; a bigger file is refused unread
WRITE_TICKS_PER_BEAT = 480  # what DAWs expect; coarse grids are scaled up to a multiple of it


class MidiReadError(Exception):
    """A MIDI file could not be read. ``path`` and ``reason`` say which and why."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read MIDI file {self.path}: {reason}")


def read_midi(path: str | os.PathLike, include_drums: bool = False) -> Piece:
    """Read a MIDI file.

    Args:
        path: the .mid file.
        include_drums: keep channel-10 drum notes as voices of their own.

    Returns:
        The piece, at the file's resolution, cleaned of zero-length and overlapping duplicate notes.
        A file without notes gives a piece without notes.

    Raises:
        MidiReadError: the file is missing, too large, not MIDI, corrupt, or of an unsupported kind.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise MidiReadError(path, error.strerror or str(error)) from None
    if size > MAX_FILE_BYTES:
        raise MidiReadError(path, f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
    try:
        midi = mido.MidiFile(path)
    except Exception as error:  # mido raises many types on corrupt data; all mean the same here
        raise MidiReadError(path, _describe(error)) from None
    try:
        return piece_from_mido(midi, path, include_drums)
    except MidiReadError:
        raise
    except Exception as error:  # nonsense values that parse (a message type mido made up, ...)
        raise MidiReadError(path, f"unusable content: {_describe(error)}") from None


def _describe(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def piece_from_mido(midi: mido.MidiFile, path: str | os.PathLike = "", include_drums: bool = False) -> Piece:
    """Convert a parsed :class:`mido.MidiFile` to a piece (see :func:`read_midi`).

    Raises:
        MidiReadError: the file uses SMPTE time, is format 2, or has no tracks.
    """
    if midi.type == 2:
        raise MidiReadError(path, "format 2 (independent sequences) is not supported")
    if not midi.tracks:
        raise MidiReadError(path, "the file has no tracks")
    tpb = midi.ticks_per_beat
    if not 0 < tpb < 0x8000:
        raise MidiReadError(path, f"time division {tpb} is SMPTE or invalid; only ticks per beat is supported")

    tempos, signatures, keys = [], [], []
    voice_notes: dict[tuple[int, int], list[Note]] = defaultdict(list)
    voice_info: dict[tuple[int, int], Voice] = {}
    for track_index, track in enumerate(midi.tracks):
        track_name = ""
        programs = defaultdict(int)
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (ch, pitch) -> [(tick, vel)]
        tick = 0
        for message in track:
            tick += message.time
            kind = message.type
            if kind == "track_name" and not track_name:
                track_name = message.name.strip()
            elif kind == "set_tempo":
                if message.tempo <= 0:
                    raise MidiReadError(path, f"tempo of 0 microseconds per beat at tick {tick}")
                tempos.append(TempoChange(tick, round(mido.tempo2bpm(message.tempo), 6)))
            elif kind == "time_signature":
                signatures.append(TimeSignature(tick, message.numerator, message.denominator))
            elif kind == "key_signature":
                keys.append((tick, message.key))
            elif kind == "program_change":
                programs[message.channel] = message.program
            elif kind == "note_on" and message.velocity > 0:
                if message.channel == DRUM_CHANNEL and not include_drums:
                    continue
                sounding[(message.channel, message.note)].append((tick, message.velocity))
                ident = (track_index, message.channel)
                if ident not in voice_info:
                    voice_info[ident] = Voice(track_name, programs[message.channel], message.channel == DRUM_CHANNEL)
            elif kind in ("note_off", "note_on"):
                starts = sounding.get((message.channel, message.note))
                if starts:
                    start, velocity = starts.pop(0)  # first in, first out
                    voice_notes[(track_index, message.channel)].append(
                        Note(start, tick, message.note, velocity, 0))
        for (channel, pitch), starts in sounding.items():  # notes never released end with the track
            for start, velocity in starts:
                voice_notes[(track_index, channel)].append(Note(start, max(tick, start), pitch, velocity, 0))
    return _assemble(path, tpb, voice_notes, voice_info, tempos, signatures, keys)


def _assemble(path, tpb, voice_notes, voice_info, tempos, signatures, keys) -> Piece:
    """Number the voices in (track, channel) order and build the piece."""
    idents = sorted(i for i in voice_info if voice_notes.get(i))
    voices, notes = [], []
    for index, ident in enumerate(idents):
        info = voice_info[ident]
        name = info.name if info.name and sum(1 for t, _ in idents if t == ident[0]) == 1 else \
            (f"{info.name} ch{ident[1] + 1}" if info.name else f"Track {ident[0]} ch{ident[1] + 1}")
        voices.append(Voice(name, info.program, info.is_drum))
        notes.extend(Note(n.start, n.end, n.pitch, n.velocity, index) for n in voice_notes[ident])
    tempos = _first_at_zero(sorted(tempos, key=lambda t: t.tick), TempoChange(0, 120.0))
    signatures = _first_at_zero(sorted(signatures, key=lambda s: s.tick), TimeSignature(0, 4, 4))
    key = min(keys)[1] if keys else None
    piece = Piece(notes=tuple(notes), ticks_per_beat=tpb, voices=tuple(voices) or (Voice(),),
                  tempos=tempos, time_signatures=signatures, key=key, name=Path(path).stem if path else "")
    return clean(piece)


def _first_at_zero(events: list, default) -> tuple:
    """Events with one in force at tick 0 (the default when the file sets none before its first)."""
    by_tick = {}
    for event in events:
        by_tick[event.tick] = event
    ordered = [by_tick[t] for t in sorted(by_tick)]
    if not ordered or ordered[0].tick != 0:
        ordered.insert(0, default)
    return tuple(ordered)


# -- writing -------------------------------------------------------------------------------------------
def write_midi(piece: Piece, path: str | os.PathLike, end_tick: int | None = None) -> None:
    """Write a piece as a format-1 MIDI file, atomically (a crash never leaves half a file).

    Track 0 holds tempo, metre and key; then one track per voice, named after it, on its own channel
    (drum voices on channel 10). Coarse grids are written at a multiple of 480 ticks per beat.

    Args:
        piece: the piece to write.
        path: destination; its folder must exist.
        end_tick: where the file ends (e.g. the bar line after a closing rest); default the last note.
    """
    midi = piece_to_mido(piece, end_tick)
    write_atomically(path, lambda handle: midi.save(file=handle))


def piece_to_mido(piece: Piece, end_tick: int | None = None) -> mido.MidiFile:
    """Convert a piece to a :class:`mido.MidiFile` (see :func:`write_midi`)."""
    scale = 1 if piece.ticks_per_beat >= 96 else math.ceil(WRITE_TICKS_PER_BEAT / piece.ticks_per_beat)
    midi = mido.MidiFile(type=1, ticks_per_beat=piece.ticks_per_beat * scale)
    conductor = [(t.tick * scale, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(t.qpm))) for t in piece.tempos]
    conductor += [(s.tick * scale, 0, mido.MetaMessage("time_signature", numerator=s.numerator,
                                                        denominator=s.denominator)) for s in piece.time_signatures]
    if piece.key:
        conductor.append((0, 0, mido.MetaMessage("key_signature", key=_mido_key(piece.key))))
    midi.tracks.append(_to_track(conductor, (end_tick or 0) * scale))
    channels = _channels(piece.voices)
    for index, voice in enumerate(piece.voices):
        channel = channels[index]
        name = (voice.name or f"Voice {index + 1}").encode("latin-1", "replace").decode("latin-1")  # MIDI text
        events = [(0, 0, mido.MetaMessage("track_name", name=name))]
        if not voice.is_drum:
            events.append((0, 0, mido.Message("program_change", channel=channel, program=voice.program)))
        for n in piece.notes:
            if n.voice != index:
                continue
            velocity = min(127, max(1, n.velocity))
            events.append((n.start * scale, 2, mido.Message("note_on", channel=channel, note=n.pitch, velocity=velocity)))
            events.append((n.end * scale, 1, mido.Message("note_off", channel=channel, note=n.pitch, velocity=0)))
        midi.tracks.append(_to_track(events))
    return midi


def _channels(voices: tuple[Voice, ...]) -> list[int]:
    """A channel per voice: drums on 10, the others on 1..16 skipping 10, wrapping after 15 voices."""
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    result, next_index = [], 0
    for voice in voices:
        if voice.is_drum:
            result.append(DRUM_CHANNEL)
        else:
            result.append(melodic[next_index % len(melodic)])
            next_index += 1
    return result


def _to_track(events: list[tuple[int, int, mido.Message]], end_tick: int = 0) -> mido.MidiTrack:
    """Absolute-tick events (releases before onsets at the same tick) to a delta-time track ending no
    earlier than ``end_tick``."""
    track = mido.MidiTrack()
    last = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - last)))
    return track


def _mido_key(key: str) -> str:
    """Our key name as mido spells it (major or minor only; modes fall back to their relative major)."""
    from composer.keys import key_name, parse_key

    tonic, mode = parse_key(key)
    if mode not in ("major", "minor"):
        major_offset = {"dorian": 10, "phrygian": 8, "lydian": 7, "mixolydian": 5, "aeolian": 3, "locrian": 1}
        tonic, mode = (tonic + major_offset[mode]) % 12, "major"
    return key_name(tonic, mode)
