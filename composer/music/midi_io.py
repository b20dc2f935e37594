"""MIDI files in and out. The only module of Composer that reads or writes MIDI files.

Reading turns any standard MIDI file (format 0 or 1) into a :class:`~composer.music.notes.Piece` at the file's
own resolution: one voice per (track, channel) that plays notes, drums (channel 10) dropped unless asked
for, tempo and time-signature changes from every track, the first key signature. Anything that cannot be
read raises :class:`MidiReadError` naming the file and the reason.

Files are parsed here, byte by byte, with hard bounds (variable-length numbers of at most 4 bytes as the
standard says, at most :data:`MAX_EVENTS` events and :data:`MAX_NOTES` notes, notes within
:data:`MAX_BEATS` beats), so that no file, however corrupt or hostile, can make reading hang or exhaust
memory. Writing goes through mido.
"""

from __future__ import annotations

import math
import os
import stat
from collections import defaultdict, deque
from pathlib import Path
from typing import NoReturn

import mido

from composer.core.atomic import write_atomically
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice, clean

DRUM_CHANNEL = 9
MAX_FILE_BYTES = 32 * 1024 * 1024  # no real song is this large; a bigger file is refused unread
MAX_EVENTS = 1_000_000  # events of all tracks together, far beyond any real piece (reading them takes ~1 s)
MAX_NOTES = 250_000  # notes of all tracks together
MAX_BEATS = 100_000  # a note ending later (14 hours at 120 QPM) comes from a corrupt delta time
WRITE_TICKS_PER_BEAT = 480  # what DAWs expect; coarse grids are scaled up to a multiple of it

# Data bytes after system common and real-time status bytes (not standard in files, but harmless).
_SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}
_MAJOR_KEYS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_KEYS = ("Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm", "Am", "Em", "Bm", "F#m", "C#m", "G#m", "D#m", "A#m")


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
        MidiReadError: the file is missing, too large, not MIDI, corrupt, of an unsupported kind, or
            beyond the bounds above (too many events or notes, notes too late).
    """
    return piece_from_bytes(read_midi_bytes(path), path, include_drums)


_SPECIAL_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                  (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def special_file_reason(path: str | os.PathLike) -> str | None:
    """Why ``path`` (links followed) is no file to read: a device, a named pipe, a socket, a folder, or a link
    to nothing. Reading a device or a pipe could block or never end, so these are refused unread.

    Args:
        path: a file named as MIDI.

    Returns:
        ``"not a regular file (a character device)"`` and the like; None for a regular file, and for a path
        that does not exist at all (the caller's "no such file").
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "a link to a file that does not exist" if os.path.islink(path) else None
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            return f"not a regular file ({kind})"
    return None


def read_midi_bytes(path: str | os.PathLike) -> bytes:
    """The raw bytes of a MIDI file, refusing files over :data:`MAX_FILE_BYTES` unread.

    Raises:
        MidiReadError: the file is missing, unreadable, or too large.
    """
    path = Path(path)
    special = special_file_reason(path)
    if special:
        raise MidiReadError(path, special)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise MidiReadError(path, error.strerror or str(error)) from None
    if size > MAX_FILE_BYTES:
        raise MidiReadError(path, f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise MidiReadError(path, error.strerror or str(error)) from None
    if len(data) > MAX_FILE_BYTES:  # it grew since stat
        raise MidiReadError(path, f"file is over the {MAX_FILE_BYTES} byte limit")
    return data


def piece_from_bytes(data: bytes, path: str | os.PathLike = "", include_drums: bool = False) -> Piece:
    """Parse the bytes of a standard MIDI file (see :func:`read_midi`; ``path`` only names it).

    Raises:
        MidiReadError: see :func:`read_midi`.
    """
    try:
        return _parse_file(bytes(data), path, include_drums)
    except MidiReadError:
        raise
    except Exception as error:  # never seen in fuzzing; should it happen, the caller still learns which file
        raise MidiReadError(path, f"unusable content: {_describe(error)}") from None


def _describe(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _parse_file(data: bytes, path, include_drums: bool) -> Piece:
    """Header, then each track chunk in turn (bytes after the last track are ignored)."""
    if len(data) < 4 or data[:4] != b"MThd":
        raise MidiReadError(path, "not a MIDI file (it does not start with MThd)" if data else "the file is empty")
    if len(data) < 14:
        raise MidiReadError(path, f"the file ends inside its header ({len(data)} bytes)")
    header_length = int.from_bytes(data[4:8], "big")
    if header_length < 6:
        raise MidiReadError(path, f"header chunk of {header_length} bytes is too short (6 are needed)")
    if 8 + header_length > len(data):
        raise MidiReadError(path, f"header chunk says {header_length} bytes, but the file has only "
                                  f"{len(data) - 8} after it")
    midi_format = int.from_bytes(data[8:10], "big")
    track_count = int.from_bytes(data[10:12], "big")
    division = int.from_bytes(data[12:14], "big")
    if midi_format == 2:
        raise MidiReadError(path, "format 2 (independent sequences) is not supported")
    if midi_format > 2:
        raise MidiReadError(path, f"format {midi_format} is not a MIDI file format (0, 1 or 2)")
    if track_count == 0:
        raise MidiReadError(path, "the file has no tracks")
    if division & 0x8000 or division == 0:
        raise MidiReadError(path, f"time division {division:#06x} is SMPTE or invalid; only ticks per beat is "
                                  f"supported")
    builder = _PieceBuilder(path, division, include_drums)
    pos = 8 + header_length
    events = 0
    for index in range(track_count):
        if pos + 8 > len(data):
            raise MidiReadError(path, f"the file ends after {index} of its {track_count} tracks")
        kind, length = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
        if kind != b"MTrk":
            raise MidiReadError(path, f"track {index + 1} of {track_count} does not start with MTrk "
                                      f"(found {bytes(kind)!r} at byte {pos})")
        start = pos + 8
        if start + length > len(data):
            raise MidiReadError(path, f"track {index + 1} is cut short: its header says {length} bytes, "
                                      f"{len(data) - start} remain")
        builder.start_track(index)
        events = _parse_track(data, start, start + length, index, builder, events)
        pos = start + length
    return builder.piece()


def _parse_track(data: bytes, pos: int, end: int, index: int, builder: _PieceBuilder, events: int) -> int:
    """Feed one track's events to ``builder``; returns the number of events read so far in the file."""
    reader = _TrackReader(data, end, index, builder)
    tick, running = 0, 0  # running status: the last channel status byte, 0 when none is in force
    while pos < end:
        events += 1
        if events > MAX_EVENTS:
            raise MidiReadError(builder.path, f"more than {MAX_EVENTS} events: too large to be a piece of music")
        event_at = pos
        delta, pos = reader.number(pos)
        tick += delta
        if pos >= end:
            reader.fail("the track ends after a delta time, without an event", event_at)
        status = data[pos]
        if status >= 0x80:
            pos += 1
        elif running:
            status = running  # running status: this byte is the first data byte
        else:
            reader.fail(f"data byte {status:#04x} without a status byte (no running status in force)", pos)
        if status < 0xF0:
            pos = reader.channel_message(status, pos, event_at, tick)
            running = status
        elif status == 0xFF:  # a meta event (running status stays in force, as most readers do)
            pos = reader.meta_event(pos, event_at, tick)
        else:
            pos = reader.system_message(status, pos, event_at)
            running = 0
    builder.end_track(tick)
    return events


class _TrackReader:
    """Reads the parts of one track chunk's events from ``data`` (never past ``end``), feeding ``builder``.

    Each method takes the position of what it reads and returns the position after it; a fault raises
    :class:`MidiReadError` naming the track and the byte.
    """

    def __init__(self, data: bytes, end: int, index: int, builder: _PieceBuilder) -> None:
        self.data, self.end, self.index, self.builder = data, end, index, builder

    def fail(self, reason: str, at: int) -> NoReturn:
        raise MidiReadError(self.builder.path, f"track {self.index + 1}, byte {at}: {reason}")

    def number(self, at: int) -> tuple[int, int]:
        """A variable-length quantity (at most 4 bytes, as the standard says) and the position after it."""
        data, end = self.data, self.end
        value = 0
        for i in range(at, min(at + 4, end)):
            byte = data[i]
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                return value, i + 1
        if at + 4 <= end:
            self.fail("variable-length number longer than 4 bytes", at)
        self.fail("the track ends inside a variable-length number", at)

    def channel_message(self, status: int, pos: int, event_at: int, tick: int) -> int:
        """The data bytes of a channel message (``pos``: the first); notes and program changes are kept."""
        data = self.data
        size = 1 if 0xC0 <= status < 0xE0 else 2
        if pos + size > self.end:
            self.fail("the track ends inside a channel message", event_at)
        first = data[pos]
        second = data[pos + 1] if size == 2 else 0
        if first > 0x7F or second > 0x7F:
            self.fail(f"data byte over 127 in channel message {status:#04x}", pos)
        kind, channel = status & 0xF0, status & 0x0F
        if kind == 0x90 and second:
            self.builder.note_on(tick, channel, first, second)
        elif kind == 0x80 or kind == 0x90:
            self.builder.note_off(tick, channel, first)
        elif kind == 0xC0:
            self.builder.programs[channel] = first
        return pos + size

    def meta_event(self, pos: int, event_at: int, tick: int) -> int:
        """A meta event after its 0xFF (``pos``: its type byte); track name, tempo, metre and key are kept."""
        if pos >= self.end:
            self.fail("the track ends inside a meta event", event_at)
        meta_type = self.data[pos]
        length, pos = self.number(pos + 1)
        if pos + length > self.end:
            self.fail(f"meta event of {length} bytes runs past the end of the track", event_at)
        if meta_type == 0x03:
            self.builder.name_track(self.data[pos:pos + length].decode("latin-1"))
        elif meta_type in (0x51, 0x58, 0x59):
            self.builder.meta(tick, meta_type, self.data[pos:pos + length], event_at)
        return pos + length

    def system_message(self, status: int, pos: int, event_at: int) -> int:
        """Skip a sysex (or escape) event or a system message whose status byte is before ``pos``."""
        if status == 0xF0 or status == 0xF7:  # sysex (or escape): skipped, and it cancels running status
            length, pos = self.number(pos)
            if pos + length > self.end:
                self.fail(f"sysex event of {length} bytes runs past the end of the track", event_at)
            return pos + length
        if status in _SYSTEM_DATA_BYTES:
            pos += _SYSTEM_DATA_BYTES[status]
            if pos > self.end:
                self.fail(f"the track ends inside system message {status:#04x}", event_at)
            return pos
        self.fail(f"undefined status byte {status:#04x}", pos - 1)


class _PieceBuilder:
    """Collects what a file's events say, track by track, and assembles the piece."""

    def __init__(self, path, ticks_per_beat: int, include_drums: bool) -> None:
        self.path, self.tpb, self.include_drums = path, ticks_per_beat, include_drums
        self.tempos: list[TempoChange] = []
        self.signatures: list[TimeSignature] = []
        self.keys: list[tuple[int, str]] = []
        self.voice_notes: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
        self.voice_info: dict[tuple[int, int], Voice] = {}
        self.note_count = 0
        self.start_track(0)

    def start_track(self, index: int) -> None:
        self.track, self.track_name = index, ""
        self.programs: dict[int, int] = defaultdict(int)
        self.sounding: dict[tuple[int, int], deque] = defaultdict(deque)  # (channel, pitch) -> (tick, velocity)

    def note_on(self, tick: int, channel: int, pitch: int, velocity: int) -> None:
        if channel == DRUM_CHANNEL and not self.include_drums:
            return
        self.sounding[(channel, pitch)].append((tick, velocity))
        ident = (self.track, channel)
        if ident not in self.voice_info:
            self.voice_info[ident] = Voice(self.track_name, self.programs[channel], channel == DRUM_CHANNEL)

    def note_off(self, tick: int, channel: int, pitch: int) -> None:
        starts = self.sounding.get((channel, pitch))
        if starts:
            start, velocity = starts.popleft()  # first in, first out
            self._add(channel, start, tick, pitch, velocity)

    def _add(self, channel: int, start: int, end: int, pitch: int, velocity: int) -> None:
        self.note_count += 1
        if self.note_count > MAX_NOTES:
            raise MidiReadError(self.path, f"more than {MAX_NOTES} notes: too large to be a piece of music")
        if end > MAX_BEATS * self.tpb:
            raise MidiReadError(self.path, f"a note ends at beat {end // self.tpb}, past the limit of {MAX_BEATS} "
                                           f"beats (a corrupt delta time?)")
        self.voice_notes[(self.track, channel)].append((start, end, pitch, velocity))

    def end_track(self, tick: int) -> None:
        """Notes never released end with the track."""
        for (channel, pitch), starts in self.sounding.items():
            for start, velocity in starts:
                self._add(channel, start, max(tick, start), pitch, velocity)
        self.sounding = defaultdict(deque)

    def name_track(self, name: str) -> None:
        """The first track-name event names the track."""
        if not self.track_name:
            self.track_name = name.strip()

    def meta(self, tick: int, meta_type: int, data: bytes, at: int) -> None:
        """Tempo, time signature or key signature, from the raw bytes of a meta event at byte ``at``."""
        where = f"track {self.track + 1}, byte {at}"
        if meta_type == 0x51:
            if len(data) < 3:
                raise MidiReadError(self.path, f"{where}: tempo event of {len(data)} bytes (3 are needed)")
            self.tempo(tick, int.from_bytes(data[:3], "big"))
        elif meta_type == 0x58:
            if len(data) < 2:
                raise MidiReadError(self.path, f"{where}: time signature of {len(data)} bytes (at least 2 are needed)")
            if data[0] == 0 or data[1] > 7:
                raise MidiReadError(self.path, f"{where}: time signature {data[0]}/2^{data[1]} is not a metre")
            self.signatures.append(TimeSignature(tick, data[0], 2 ** data[1]))
        elif meta_type == 0x59:
            if len(data) < 2:
                raise MidiReadError(self.path, f"{where}: key signature of {len(data)} bytes (at least 2 are needed)")
            sharps = data[0] - 256 if data[0] > 127 else data[0]
            if not -7 <= sharps <= 7 or data[1] > 1:
                raise MidiReadError(self.path, f"{where}: key signature with {sharps} sharps and mode {data[1]} "
                                               f"is not a key")
            self.keys.append((tick, (_MINOR_KEYS if data[1] else _MAJOR_KEYS)[sharps + 7]))

    def tempo(self, tick: int, microseconds_per_beat: int) -> None:
        if microseconds_per_beat <= 0:
            raise MidiReadError(self.path, f"tempo of 0 microseconds per beat at tick {tick}")
        self.tempos.append(TempoChange(tick, round(mido.tempo2bpm(microseconds_per_beat), 6)))

    def piece(self) -> Piece:
        """Number the voices in (track, channel) order and build the piece."""
        idents = sorted(i for i in self.voice_info if self.voice_notes.get(i))
        voices, notes = [], []
        for index, ident in enumerate(idents):
            info = self.voice_info[ident]
            name = info.name if info.name and sum(1 for t, _ in idents if t == ident[0]) == 1 else \
                (f"{info.name} ch{ident[1] + 1}" if info.name else f"Track {ident[0]} ch{ident[1] + 1}")
            voices.append(Voice(name, info.program, info.is_drum))
            notes.extend(Note(start, end, pitch, velocity, index)
                         for start, end, pitch, velocity in self.voice_notes[ident])
        tempos = _first_at_zero(sorted(self.tempos, key=lambda t: t.tick), TempoChange(0, 120.0))
        signatures = _first_at_zero(sorted(self.signatures, key=lambda s: s.tick), TimeSignature(0, 4, 4))
        key = min(self.keys)[1] if self.keys else None
        path = self.path
        piece = Piece(notes=tuple(notes), ticks_per_beat=self.tpb, voices=tuple(voices) or (Voice(),),
                      tempos=tempos, time_signatures=signatures, key=key, name=Path(path).stem if path else "")
        return clean(piece)


def piece_from_mido(midi: mido.MidiFile, path: str | os.PathLike = "", include_drums: bool = False) -> Piece:
    """Convert a parsed :class:`mido.MidiFile` to a piece (see :func:`read_midi`).

    Raises:
        MidiReadError: the file uses SMPTE time, is format 2, has no tracks, or breaks the bounds above.
    """
    if midi.type == 2:
        raise MidiReadError(path, "format 2 (independent sequences) is not supported")
    if not midi.tracks:
        raise MidiReadError(path, "the file has no tracks")
    tpb = midi.ticks_per_beat
    if not 0 < tpb < 0x8000:
        raise MidiReadError(path, f"time division {tpb} is SMPTE or invalid; only ticks per beat is supported")
    builder = _PieceBuilder(path, tpb, include_drums)
    for track_index, track in enumerate(midi.tracks):
        builder.start_track(track_index)
        tick = 0
        for message in track:
            tick += message.time
            kind = message.type
            if kind == "track_name":
                builder.name_track(message.name)
            elif kind == "set_tempo":
                builder.tempo(tick, message.tempo)
            elif kind == "time_signature":
                builder.signatures.append(TimeSignature(tick, message.numerator, message.denominator))
            elif kind == "key_signature":
                builder.keys.append((tick, message.key))
            elif kind == "program_change":
                builder.programs[message.channel] = message.program
            elif kind == "note_on" and message.velocity > 0:
                builder.note_on(tick, message.channel, message.note, message.velocity)
            elif kind in ("note_off", "note_on"):
                builder.note_off(tick, message.channel, message.note)
        builder.end_track(tick)
    return builder.piece()


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
def write_midi(piece: Piece, path: str | os.PathLike, end_tick: int | None = None,
               markers: tuple[tuple[int, str], ...] = ()) -> None:
    """Write a piece as a format-1 MIDI file, atomically (a crash never leaves half a file).

    Track 0 holds tempo, metre and key; then one track per voice, named after it, on its own channel
    (drum voices on channel 10). Coarse grids are written at a multiple of 480 ticks per beat.

    Args:
        piece: the piece to write.
        path: destination; its folder must exist.
        end_tick: where the file ends (e.g. the bar line after a closing rest); default the last note.
        markers: (tick, text) marker meta events for track 0, e.g. chord symbols.
    """
    midi = piece_to_mido(piece, end_tick, markers)
    write_atomically(path, lambda handle: midi.save(file=handle))


def piece_to_mido(piece: Piece, end_tick: int | None = None,
                  markers: tuple[tuple[int, str], ...] = ()) -> mido.MidiFile:
    """Convert a piece to a :class:`mido.MidiFile` (see :func:`write_midi`)."""
    scale = 1 if piece.ticks_per_beat >= 96 else math.ceil(WRITE_TICKS_PER_BEAT / piece.ticks_per_beat)
    midi = mido.MidiFile(type=1, ticks_per_beat=piece.ticks_per_beat * scale)
    conductor = [(t.tick * scale, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(t.qpm))) for t in piece.tempos]
    conductor += [(s.tick * scale, 0, mido.MetaMessage("time_signature", numerator=s.numerator,
                                                        denominator=s.denominator)) for s in piece.time_signatures]
    if piece.key:
        conductor.append((0, 0, mido.MetaMessage("key_signature", key=_mido_key(piece.key))))
    conductor += [(tick * scale, 1, mido.MetaMessage("marker", text=text.encode("latin-1", "replace")
                                                      .decode("latin-1"))) for tick, text in markers]
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
    from composer.music.keys import key_name, parse_key

    tonic, mode = parse_key(key)
    if mode not in ("major", "minor"):
        major_offset = {"dorian": 10, "phrygian": 8, "lydian": 7, "mixolydian": 5, "aeolian": 3, "locrian": 1}
        tonic, mode = (tonic + major_offset[mode]) % 12, "major"
    return key_name(tonic, mode)
