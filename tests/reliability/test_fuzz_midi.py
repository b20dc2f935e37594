"""Thousands of damaged and hostile MIDI files thrown at composer.music.midi_io.read_midi.

The contract checked on every input: ``read_midi`` returns a :class:`Piece` or raises
:class:`MidiReadError` whose message names the file; never another exception, never a hang (every read is
timed), never a memory blow-up (the nastiest files are measured with tracemalloc, and the ones at the size
limits in a child process by its peak RSS). Every piece returned has notes with ``0 <= start < end``,
pitches 0..127, velocities 1..127, a voice that exists, ends within ``MAX_BEATS`` beats, and survives
``quantize(piece, 12)``.

Inputs: real chorales and folk melodies truncated, flipped, spliced and with lying header or track length
fields; pure noise; noise after a valid header; random event streams from a grammar that abuses running
status, delta times, sysex and meta lengths and status bytes; and hand-made extremes (10,000 simultaneous
notes, 65,535 tracks, files at the event and note limits, 30 MB sysex and track names).

Hypothesis runs derandomized (the same examples on every run) without an example database. The number of
files read is printed in the terminal summary and asserted per test. Each read is timed after the fact; a
read that never returns is caught by the watchdog in conftest.py, which fails the test where it hangs.
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.music import midi_io
from composer.music.midi_io import MidiReadError, read_midi
from composer.music.notes import Piece, quantize
from tests.reliability.conftest import scaled

READ_SECONDS = 5.0  # CPU seconds of any single read (real files take milliseconds); CPU time, not the clock,
                    # so a busy machine does not fail the bound on work
LIMIT_SECONDS = 20.0  # the few files built to sit at MAX_EVENTS / MAX_NOTES (about 1-2 s on an idle core)
FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
END_OF_TRACK = b"\x00\xff\x2f\x00"


# -- building MIDI bytes by hand (independent of composer and mido) -------------------------------------------------
def chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body)) + body


def smf(tracks: list[bytes], fmt: int = 1, division: int = 96, count: int | None = None) -> bytes:
    header = struct.pack(">HHH", fmt, len(tracks) if count is None else count, division)
    return chunk(b"MThd", header) + b"".join(chunk(b"MTrk", t) for t in tracks)


def vlq(value: int) -> bytes:
    """A variable-length quantity as the standard writes it (values up to 0x0FFFFFFF)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def layout(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, kind, length) of each chunk of a well-formed file."""
    chunks, pos = [], 0
    while pos + 8 <= len(data):
        kind, length = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        chunks.append((pos, kind, length))
        pos += 8 + length
    assert pos == len(data), "real corpus files end exactly with their last chunk"
    return chunks


# -- the contract ---------------------------------------------------------------------------------------------------
def check_piece(piece: Piece, where: str) -> None:
    assert isinstance(piece, Piece), where
    assert len(piece.notes) <= midi_io.MAX_NOTES, where
    for note in piece.notes:
        assert 0 <= note.start < note.end <= midi_io.MAX_BEATS * piece.ticks_per_beat, (where, note)
        assert 0 <= note.pitch <= 127 and 1 <= note.velocity <= 127, (where, note)
        assert 0 <= note.voice < len(piece.voices), (where, note)
    coarse = quantize(piece, 12)
    assert coarse.ticks_per_beat == 12 and len(coarse.notes) <= len(piece.notes), where
    assert all(0 <= n.start < n.end and 0 <= n.pitch <= 127 for n in coarse.notes), where


def check_error(error: MidiReadError, path: Path, where: str) -> None:
    assert path.name in str(error), (where, str(error))
    assert error.path == str(path), where
    assert error.reason and error.reason.isprintable() and len(error.reason) < 400, (where, error.reason)


class Reader:
    """Writes each input to a file, reads it with read_midi, and checks the contract; counts outcomes."""

    def __init__(self, folder: Path, tally, label: str) -> None:
        self.folder, self.tally, self.label = folder, tally, label
        self.counts = {"piece": 0, "error": 0}

    @property
    def total(self) -> int:
        return self.counts["piece"] + self.counts["error"]

    def __call__(self, data: bytes, name: str = "", include_drums: bool = False) -> Piece | MidiReadError:
        path = self.folder / f"{self.label}-{name or 'input'}.mid"
        path.write_bytes(data)
        where = f"{self.label} {name} ({len(data)} bytes)"
        started = time.process_time()
        try:
            result = read_midi(path, include_drums=include_drums)
        except MidiReadError as error:
            result = error
        cpu = time.process_time() - started
        assert cpu < READ_SECONDS, f"{where}: read_midi used {cpu:.1f} s of CPU"
        if isinstance(result, MidiReadError):
            check_error(result, path, where)
            outcome = "error"
        else:
            check_piece(result, where)
            outcome = "piece"
        self.counts[outcome] += 1
        self.tally[outcome] += 1
        self.tally[self.label] += 1
        self.tally["slowest_ms"] = max(self.tally["slowest_ms"], int(cpu * 1000))   # CPU ms
        path.unlink()
        return result

    def expect_error(self, data: bytes, *words: str, name: str = "") -> MidiReadError:
        result = self(data, name)
        assert isinstance(result, MidiReadError), f"{self.label} {name}: expected a MidiReadError, got a piece"
        for word in words:
            assert word.lower() in result.reason.lower(), (name, result.reason)
        return result

    def expect_piece(self, data: bytes, name: str = "", include_drums: bool = False) -> Piece:
        result = self(data, name, include_drums)
        assert isinstance(result, Piece), f"{self.label} {name}: expected a piece, got {result}"
        return result


def read_midi_bytes(data: bytes, reader: Reader) -> Piece:
    """An undamaged source file, read (cached per content)."""
    if data not in _SOURCE_PIECES:
        _SOURCE_PIECES[data] = reader.expect_piece(data, "source")
    return _SOURCE_PIECES[data]


_SOURCE_PIECES: dict[bytes, Piece] = {}


@pytest.fixture
def reader(tmp_path, fuzz_tally, request):
    return Reader(tmp_path, fuzz_tally, request.node.name.removeprefix("test_")[:40])


def agrees_with_mido(data: bytes, result: Piece | MidiReadError, name: str, drums: bool = False) -> bool:
    """Where mido (an independent parser) reads the file too, its messages give the same piece.

    Returns whether a comparison was made: mido refuses some files composer reads (a meta event composer
    ignores but mido decodes and chokes on), and it drops the delta time of meta events of unknown types
    (see test_unknown_meta_events_keep_their_delta_time), so files with those are not compared."""
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except Exception:  # noqa: BLE001 - mido raises many kinds; then there is nothing to compare with
        return False
    if any(message.type == "unknown_meta" for track in midi.tracks for message in track):
        return False
    try:
        theirs: Piece | MidiReadError = midi_io.piece_from_mido(midi, Path(f"{name}.mid"), drums)
    except MidiReadError as error:
        theirs = error
    if isinstance(result, Piece):
        assert isinstance(theirs, Piece), (name, theirs)
        assert theirs.replace(name=result.name) == result, name
    else:
        assert isinstance(theirs, MidiReadError), (name, result.reason)
    return True


# -- real files, damaged --------------------------------------------------------------------------------------------
def test_real_files_read_and_their_layout_is_plain(real_midi, reader):
    """The undamaged sources read as pieces with notes (so damage, not the source, explains any error)."""
    for name, data in real_midi:
        assert layout(data)[0][1] == b"MThd"
        piece = reader.expect_piece(data, name)
        assert piece.notes
        for drums in (False, True):
            assert agrees_with_mido(data, reader.expect_piece(data, name, drums), name, drums), name
    assert reader.total == 3 * len(real_midi) == 3 * 48


def test_truncated_real_files_are_always_refused(real_midi, reader):
    """A real file cut anywhere short of its end has an incomplete last track: always a MidiReadError."""

    @settings(FUZZ, max_examples=400)
    @given(index=st.integers(0, len(real_midi) - 1), cut=st.integers(0, 2**20), near_end=st.booleans())
    def run(index, cut, near_end):
        name, data = real_midi[index]
        keep = len(data) - 1 - cut % min(len(data), 64) if near_end else cut % len(data)
        reader.expect_error(data[:keep], name=f"{name}-cut{keep}")

    run()
    assert reader.total >= 380, reader.counts


@st.composite
def damaged(draw, sources):
    """A real file with 1-8 random edits: bit flips, byte overwrites, insertions, deletions, spliced runs."""
    name, original = draw(st.sampled_from(sources))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "delete_run", "copy_run", "high_bit"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if not data:
            break
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[pos] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xF0, 0xF7, 0xFF, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 4))]
        elif op == "delete_run":
            del data[pos:pos + draw(st.integers(5, 400))]
        elif op == "copy_run":
            start = draw(st.integers(0, max(0, len(data) - 1)))
            data[pos:pos] = data[start:start + draw(st.integers(1, 300))]
        else:
            data[pos] |= 0x80
    return name, bytes(data)


def test_randomly_damaged_real_files(real_midi, reader):
    @settings(FUZZ, max_examples=900)
    @given(case=damaged(real_midi))
    def run(case):
        name, data = case
        reader(data, name)

    run()
    assert reader.total >= 850, reader.counts
    assert reader.counts["piece"] and reader.counts["error"], reader.counts  # both kinds of damage occurred


HEADER_FIELDS = ["magic", "length", "format", "tracks", "division"]


def test_lying_header_fields(real_midi, reader):
    """Wrong magic, header lengths that lie, zero tracks, too many tracks, format 2 and beyond, SMPTE."""

    @settings(FUZZ, max_examples=350)
    @given(index=st.integers(0, len(real_midi) - 1), field=st.sampled_from(HEADER_FIELDS), data=st.data())
    def run(index, field, data):
        name, original = real_midi[index]
        magic, (length,) = original[:4], struct.unpack(">I", original[4:8])
        fmt, tracks, division = struct.unpack(">HHH", original[8:14])
        rest = original[14:]
        if field == "magic":
            magic = data.draw(st.sampled_from([b"MThD", b"mthd", b"RIFF", b"MTrk", b"\x00\x00\x00\x00"])
                              | st.binary(min_size=4, max_size=4).filter(lambda m: m != b"MThd"))
        elif field == "length":
            length = data.draw(st.sampled_from([0, 1, 5, 7, 8, 14, 2**31, 2**32 - 1])
                               | st.integers(0, 2**32 - 1).filter(lambda n: n != 6))
        elif field == "format":
            fmt = data.draw(st.sampled_from([2, 3, 4, 255, 256, 0x7FFF, 0x8000, 0xFFFF]) | st.integers(2, 0xFFFF))
        elif field == "tracks":
            tracks = data.draw(st.sampled_from([0, tracks + 1, tracks + 100, 0x7FFF, 0x8000, 0xFFFF]))
        else:
            division = data.draw(st.sampled_from([0, 0x8000, 0xE728, 0xE250, 0xFFFF]) | st.integers(0x8000, 0xFFFF))
        mutated = magic + struct.pack(">I", length) + struct.pack(">HHH", fmt, tracks, division) + rest
        error = reader.expect_error(mutated, name=f"{name}-{field}")
        expected_words = {
            "format": ["format 2"] if fmt == 2 else ["format"],
            "tracks": ["no tracks"] if tracks == 0 else ["tracks"],
            "division": ["SMPTE"],
        }.get(field, [])
        for word in expected_words:
            assert word.lower() in error.reason.lower(), (field, error.reason)

    run()
    assert reader.total >= 330, reader.counts


def test_lying_track_length_fields(real_midi, reader):
    """A track length field larger or smaller than the data (or absurd): a MidiReadError, except that the last
    track may be cut short at an event boundary (what follows the last track is ignored, as in any reader):
    then a piece with fewer notes."""

    @settings(FUZZ, max_examples=300)
    @given(index=st.integers(0, len(real_midi) - 1), which=st.integers(0, 3), data=st.data())
    def run(index, which, data):
        name, original = real_midi[index]
        tracks = [c for c in layout(original) if c[1] == b"MTrk"]
        offset, _, true_length = tracks[which % len(tracks)]
        length = data.draw((st.sampled_from([0, 1, true_length - 1, true_length + 1, 2**31, 2**32 - 1])
                            | st.integers(0, true_length - 1) | st.integers(true_length + 1, 2**32 - 1))
                           .filter(lambda n: n != true_length))
        mutated = original[:offset + 4] + struct.pack(">I", length) + original[offset + 8:]
        label = f"{name}-track{which % len(tracks)}-len{length}"
        if offset == tracks[-1][0] and length < true_length:
            result = reader(mutated, label)
            if isinstance(result, Piece):
                assert len(result.notes) < len(read_midi_bytes(original, reader).notes), label
        else:
            reader.expect_error(mutated, name=label)

    run()
    assert reader.total >= 280, reader.counts


# -- noise ----------------------------------------------------------------------------------------------------------
def test_pure_random_bytes(reader):
    @settings(FUZZ, max_examples=250)
    @given(data=st.binary(max_size=4096))
    def run(data):
        if data[:4] != b"MThd":
            reader.expect_error(data, name="noise")
        else:
            reader(data, "noise")

    run()
    assert reader.total >= 240, reader.counts


def test_random_track_bodies_after_a_valid_header(reader):
    """Noise inside correctly framed track chunks reaches the event parser itself."""

    @settings(FUZZ, max_examples=400)
    @given(bodies=st.lists(st.binary(max_size=600), min_size=1, max_size=4), fmt=st.integers(0, 1),
           division=st.sampled_from([1, 12, 96, 480, 0x7FFF]), drums=st.booleans())
    def run(bodies, fmt, division, drums):
        reader(smf(bodies, fmt, division), "noise-tracks", include_drums=drums)

    run()
    assert reader.total >= 380, reader.counts


# -- event streams from a grammar, with abuse sprinkled in ----------------------------------------------------------
def random_delta(rng, huge: bool) -> bytes:
    """Mostly short delta times; in a track allowed ``huge`` ones, now and then the largest legal ones."""
    roll = rng.random() if huge else 0.0
    if roll < 0.9:
        return vlq(rng.choice([0, 0, 1, 12, 48, 96, rng.randrange(128), rng.randrange(20000)]))
    if roll < 0.96:
        return vlq(rng.randrange(0x200000, 0x10000000))  # huge but legal
    if roll < 0.98:
        return b"\xff\xff\xff\x7f"  # 0x0FFFFFFF, the largest legal delta time
    return b"\x80\x80\x80\x00"  # zero written in 4 bytes: legal


def clean_event(rng, channel_status: list[int]) -> bytes:
    """A well-formed event (running status only where a channel status is in force)."""
    channel, pitch, velocity = rng.randrange(16), rng.randrange(128), rng.randrange(128)
    kind = rng.choices(["on", "off", "running", "control", "program", "meta", "tempo", "sysex"],
                       [30, 15, 15, 8, 4, 8, 3, 3])[0]
    if kind == "running" and channel_status:
        return bytes([pitch, velocity] if channel_status[0] < 0xC0 or channel_status[0] >= 0xE0 else [pitch])
    if kind in ("on", "off", "running"):
        status = (0x80 if kind == "off" else 0x90) | channel
    elif kind == "control":
        status = rng.choice([0xA0, 0xB0, 0xE0]) | channel
    elif kind == "program":
        status = rng.choice([0xC0, 0xD0]) | channel
        channel_status[:] = [status]
        return bytes([status, pitch])
    elif kind == "meta":  # text, names, markers, unknown types; running status stays in force across them
        payload = rng.randbytes(rng.randrange(12))
        meta_types = [0x01, 0x01, 0x01, 0x02, 0x03, 0x03, 0x04, 0x06, 0x2F, 0x7F] * 3 + [0x20, 0x21, 0x54, 0x60]
        return bytes([0xFF, rng.choice(meta_types)]) \
            + vlq(len(payload)) + payload
    elif kind == "tempo":
        return rng.choice([b"\xff\x51\x03\x07\xa1\x20", b"\xff\x58\x04\x03\x02\x18\x08", b"\xff\x59\x02\xfd\x01"])
    else:
        channel_status.clear()  # sysex cancels running status
        payload = bytes(byte & 0x7F for byte in rng.randbytes(rng.randrange(20)))  # 7-bit data
        return bytes([rng.choice([0xF0, 0xF7])]) + vlq(len(payload)) + payload
    channel_status[:] = [status]
    return bytes([status, pitch, velocity])


def abusive_event(rng) -> bytes:
    """Something a standard MIDI file must not contain here."""
    kind = rng.choice(["orphan_data", "running_after_sysex", "overlong_delta", "lying_meta", "lying_sysex",
                       "system", "undefined", "data_over_127", "bad_tempo", "bad_metre", "bad_key", "junk"])
    pitch = rng.randrange(128)
    return {
        "orphan_data": lambda: b"\xf0\x00\x00" + bytes([pitch, 64]),  # after a sysex: no running status
        "running_after_sysex": lambda: b"\x90\x3c\x40\x00\xf0\x01\xf7\x00" + bytes([pitch, 0]),
        "overlong_delta": lambda: bytes([rng.choice([0x80, 0xFF])]) * rng.randrange(4, 40) + b"\x01\xfe",
        "lying_meta": lambda: bytes([0xFF, rng.randrange(256)]) + vlq(rng.choice([0x0FFFFFFF, 0x7FFFFF, 1000, 70]))
        + b"abc",
        "lying_sysex": lambda: b"\xf0" + vlq(rng.choice([0x0FFFFFFF, 0x200000, 500])) + b"\x01\x02",
        "system": lambda: bytes([rng.choice([0xF1, 0xF2, 0xF3, 0xF6, 0xF8, 0xFA, 0xFC, 0xFE])]) + rng.randbytes(3),
        "undefined": lambda: bytes([rng.choice([0xF4, 0xF5, 0xF9, 0xFD])]),
        "data_over_127": lambda: bytes([0x90 | rng.randrange(16), 0x80 | pitch, 64]),
        "bad_tempo": lambda: rng.choice([b"\xff\x51\x03\x00\x00\x00", b"\xff\x51\x01\x07", b"\xff\x51\x00"]),
        "bad_metre": lambda: rng.choice([b"\xff\x58\x04\x00\x02\x18\x08", b"\xff\x58\x04\x04\x40\x18\x08",
                                         b"\xff\x58\x01\x04"]),
        "bad_key": lambda: rng.choice([b"\xff\x59\x02\x09\x00", b"\xff\x59\x02\x00\x05", b"\xff\x59\x00"]),
        "junk": lambda: rng.randbytes(rng.randrange(1, 9)),
    }[kind]()


def random_track(rng, abuses: int) -> bytes:
    """0-80 well-formed events (notes often never released), with ``abuses`` hostile ones put anywhere."""
    channel_status: list[int] = []
    huge = rng.random() < 0.25
    events = [random_delta(rng, huge) + clean_event(rng, channel_status) for _ in range(rng.randrange(81))]
    for _ in range(abuses):
        events.insert(rng.randrange(len(events) + 1), random_delta(rng, huge) + abusive_event(rng))
    if rng.random() < 0.7:
        events.append(END_OF_TRACK)
    return b"".join(events)


def test_hostile_event_streams(reader):
    """Running status abuse, huge and over-long delta times, sysex and meta lengths that lie, notes without
    note-offs, system and undefined status bytes, data bytes over 127, bad tempo/metre/key events, junk;
    1-4 tracks. Well-formed streams must give a piece (unless a note ends past MAX_BEATS)."""
    seen = {"clean": 0, "abused": 0, "piece": 0, "agree": 0}

    @settings(FUZZ, max_examples=700)
    @given(seed=st.integers(0, 2**32 - 1), tracks=st.integers(1, 4), abuses=st.sampled_from([0, 0, 1, 2, 5]),
           fmt=st.integers(0, 1), division=st.sampled_from([1, 24, 96, 480, 0x7FFF]), drums=st.booleans())
    def run(seed, tracks, abuses, fmt, division, drums):
        rng = random.Random(seed)
        data = smf([random_track(rng, abuses) for _ in range(tracks)], fmt, division)
        result = reader(data, f"events-{seed}", include_drums=drums)
        seen["piece"] += isinstance(result, Piece)
        if abuses:
            seen["abused"] += 1
        else:
            seen["clean"] += 1
            if isinstance(result, MidiReadError):  # only the length limit may refuse well-formed events
                assert "beat" in result.reason, (seed, result.reason)
            seen["agree"] += agrees_with_mido(data, result, f"events-{seed}", drums)

    run()
    assert reader.total >= 680, reader.counts
    assert seen["clean"] >= 200 and seen["abused"] >= 300 and seen["piece"] >= 150, seen
    assert seen["agree"] >= 150, seen  # compared with mido's parse on most well-formed streams


# -- hand-made extremes ---------------------------------------------------------------------------------------------
def peak_of(function) -> tuple[object, float, float]:
    """(result, CPU seconds, tracemalloc peak in MB) of calling ``function``."""
    tracemalloc.start()
    started = time.process_time()   # CPU time: a busy machine does not stretch it
    try:
        result = function()
    finally:
        seconds = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result, seconds, peak


def test_ten_thousand_simultaneous_notes(reader):
    """All 128 pitches on all 16 channels, struck 5 times at tick 0 (10,240 note-ons), released one beat later."""
    strikes = b"".join(b"\x00" + bytes([0x90 | c, p, 1 + r]) for r in range(5) for c in range(16) for p in range(128))
    releases = b"".join(b"\x00" + bytes([0x80 | c, p, 0]) for r in range(5) for c in range(16) for p in range(128))
    data = smf([strikes + b"\x60" + releases[1:] + END_OF_TRACK])  # all released at tick 96
    piece, seconds, peak = peak_of(lambda: reader.expect_piece(data, "simultaneous"))
    assert len(piece.notes) == 128 * 15 and len(piece.voices) == 15  # drums dropped; repeats of a pitch merged
    assert {(n.start, n.end) for n in piece.notes} == {(0, 96)}
    assert seconds < READ_SECONDS and peak < 64, (seconds, peak)
    with_drums = reader.expect_piece(data, "simultaneous-drums", include_drums=True)
    assert len(with_drums.notes) == 128 * 16 and with_drums.voices[9].is_drum


def test_ten_thousand_notes_never_released(reader):
    """10,240 note-ons one tick apart on 16 channels and no note-off: all end with the track."""
    body = b"".join(b"\x01" + bytes([0x90 | c, p, 90]) for r in range(5) for c in range(16) for p in range(128))
    piece, seconds, peak = peak_of(lambda: reader.expect_piece(smf([body + b"\x60\xff\x2f\x00"]), "hung"))
    assert len(piece.notes) == 128 * 15 * 5 and piece.end == 10240 + 96
    assert seconds < READ_SECONDS and peak < 64, (seconds, peak)


def test_huge_delta_times(reader):
    """Delta times up to 0x0FFFFFFF, many of them: a piece while the notes end within MAX_BEATS, else refused."""
    limit = midi_io.MAX_BEATS * 96
    one_max = b"\xff\xff\xff\x7f\xff\x01\x00"  # 0x0FFFFFFF ticks, then an empty text event
    for count in (1, 10, 1000, 50_000):
        silent = smf([one_max * count + b"\x00\x90\x3c\x40\x60\x80\x3c\x00" + END_OF_TRACK])
        assert count * 0x0FFFFFFF > limit
        error, seconds, peak = peak_of(lambda: reader.expect_error(silent, "beat", name=f"late{count}"))
        assert seconds < READ_SECONDS and peak < 64, (count, seconds, peak)
        held = smf([b"\x00\x90\x3c\x40" + one_max * count + END_OF_TRACK])  # a note held across them all
        reader.expect_error(held, "beat", name=f"held{count}")
    # the largest legal delta times are fine as long as the music stays within the limit
    tpb = 0x7FFF
    near = smf([b"\x00\x90\x3c\x40" + vlq(0x0FFFFFFF) + b"\x80\x3c\x00" + END_OF_TRACK], division=tpb)
    piece = reader.expect_piece(near, "near-limit")
    assert piece.notes[0].end == 0x0FFFFFFF <= midi_io.MAX_BEATS * tpb


def test_over_long_variable_length_numbers(reader):
    """More than 4 bytes in a delta time or length (the standard's maximum): refused quickly, whatever the size.

    (mido accepted any length: 300,000 bytes of 0xFF gave a note at tick 2**2100000, a piece no one could
    print, let alone encode.)
    """
    for size in (5, 40, 300_000, 3_000_000):
        bomb = smf([b"\x00\x90\x3c\x40" + b"\xff" * size + b"\x7f\x80\x3c\x00" + END_OF_TRACK])
        _, seconds, peak = peak_of(lambda: reader.expect_error(bomb, "variable-length", name=f"vlq{size}"))
        assert seconds < READ_SECONDS and peak < 2 * len(bomb) / 2**20 + 16, (size, seconds, peak)
    meta = smf([b"\x00\xff\x01" + b"\x81" * 10 + b"\x00" + END_OF_TRACK])
    reader.expect_error(meta, "variable-length", name="meta-length")


def test_running_status(reader):
    """Running status continues notes (also across meta events); without a status, or after sysex, it is refused."""
    after_meta = smf([b"\x00\x90\x3c\x40" + b"\x00\xff\x01\x01x" + b"\x60\x3c\x00" + END_OF_TRACK])
    assert [(n.start, n.end, n.pitch) for n in reader.expect_piece(after_meta, "after-meta").notes] == [(0, 96, 60)]
    chained = smf([b"\x00\x90\x3c\x40\x00\x40\x40\x60\x3c\x00\x00\x40\x00" + END_OF_TRACK])
    assert len(reader.expect_piece(chained, "chained").notes) == 2
    reader.expect_error(smf([b"\x00\x3c\x40" + END_OF_TRACK]), "status", name="no-status")
    reader.expect_error(smf([b"\x00\x90\x3c\x40\x00\xf0\x01\xf7\x60\x3c\x00" + END_OF_TRACK]), "status",
                        name="after-sysex")
    reader.expect_error(smf([b"\x00\x90\x3c\x40\x00\xf8\x60\x3c\x00" + END_OF_TRACK]), "status",
                        name="after-realtime")
    reader.expect_error(smf([b"\x00\xf4" + END_OF_TRACK]), "undefined", name="undefined-status")


def test_unknown_meta_events_keep_their_delta_time(reader):
    """A meta event of a type no one knows still moves the clock. mido 1.3 drops the delta time of such
    events (build_meta_message makes UnknownMetaMessage without it), so the reader composer had before
    placed every later event of the track too early: here the note at beat 2 would have started at 0."""
    data = smf([b"\x81\x40\xff\x60\x02\x01\x02" + b"\x00\x90\x3c\x40\x60\x80\x3c\x00" + END_OF_TRACK])
    assert [(n.start, n.end) for n in reader.expect_piece(data, "unknown-meta").notes] == [(192, 288)]


def test_unsupported_kinds_and_divisions(reader):
    note = b"\x00\x90\x3c\x40\x60\x80\x3c\x00" + END_OF_TRACK
    reader.expect_error(smf([note, note], fmt=2), "format 2", name="format2")
    for fmt in (3, 255, 0xFFFF):
        reader.expect_error(smf([note], fmt=fmt), "format", name=f"format{fmt}")
    for division in (0xE728, 0xE250, 0x8000, 0xFFFF, 0):
        reader.expect_error(smf([note], division=division), "time division", name=f"division{division}")
    reader.expect_error(smf([], count=0), "no tracks", name="zero-tracks")
    reader.expect_error(smf([note], count=0), "no tracks", name="zero-tracks-with-data")
    reader.expect_error(smf([note], count=2), "tracks", name="missing-track")
    format0_two_tracks = reader.expect_piece(smf([note, note], fmt=0), "format0-two-tracks")
    assert len(format0_two_tracks.notes) == 2


def test_absurd_sysex_and_meta_lengths(reader):
    """Lengths up to 0x0FFFFFFF with the bytes missing are refused at once; real megabyte-long ones are skipped."""
    for status in (b"\xf0", b"\xf7", b"\xff\x01", b"\xff\x7f", b"\xff\x03"):
        for length in (0x0FFFFFFF, 0x00200000, 1000):
            data = smf([b"\x00" + status + vlq(length) + b"\x00" * 100 + END_OF_TRACK])
            _, seconds, peak = peak_of(lambda: reader.expect_error(data, "runs past", name=f"{status.hex()}-{length}"))
            assert seconds < READ_SECONDS and peak < 16, (status, length, seconds, peak)
    megabyte = b"\x55" * 2**20
    for status in (b"\xf0", b"\xff\x7f", b"\xff\x01"):
        data = smf([b"\x00" + status + vlq(len(megabyte)) + megabyte + b"\x00\x90\x3c\x40\x60\x80\x3c\x00"
                    + END_OF_TRACK])
        piece, seconds, peak = peak_of(lambda: reader.expect_piece(data, f"mb-{status.hex()}"))
        assert len(piece.notes) == 1 and seconds < READ_SECONDS and peak < 24, (status, seconds, peak)


def test_malformed_tempo_metre_and_key_events(reader):
    def meta(kind: int, payload: bytes) -> bytes:
        return smf([b"\x00\xff" + bytes([kind]) + vlq(len(payload)) + payload + b"\x00\x90\x3c\x40\x60\x80\x3c\x00"
                    + END_OF_TRACK])

    reader.expect_error(meta(0x51, b"\x00\x00\x00"), "tempo", name="tempo0")
    reader.expect_error(meta(0x51, b"\x07"), "tempo", name="tempo-short")
    reader.expect_error(meta(0x58, b"\x00\x02\x18\x08"), "time signature", name="metre0")
    reader.expect_error(meta(0x58, b"\x04\xff\x18\x08"), "time signature", name="metre-2^255")
    reader.expect_error(meta(0x58, b""), "time signature", name="metre-empty")
    reader.expect_error(meta(0x59, b"\x08\x00"), "key signature", name="key8")
    reader.expect_error(meta(0x59, b"\x00\x02"), "key signature", name="mode2")
    piece = reader.expect_piece(meta(0x59, b"\xfd\x01"), "key-cm")  # three flats, minor
    assert piece.key == "Cm"
    slow = reader.expect_piece(meta(0x51, b"\xff\xff\xff"), "slowest-tempo")
    assert 3.5 < slow.qpm < 3.6


def test_sixty_five_thousand_tracks(reader):
    """The most tracks a header can announce, all empty (the reader times the read)."""
    assert reader.expect_piece(smf([b""] * 0xFFFF), "tracks65535").notes == ()
    reader.expect_error(smf([b""] * 100, count=0xFFFF), "100 of its 65535 tracks", name="tracks-missing")


# -- at the limits, measured in a child process (time and peak memory) ----------------------------------------------
def files_at_the_limits(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, expectation): ``error:<word>`` or ``piece:<number of notes>``."""
    events, notes = midi_io.MAX_EVENTS, midi_io.MAX_NOTES
    stack = 400_000  # note-ons of one pitch, then their note-offs: first-in-first-out pairing must not be quadratic
    cases = {
        "events": (smf([b"\x00\xc0\x01" + b"\x00\x01" * events]), "error:events"),
        "notes": (smf([b"\x00\x90\x3c\x40" + b"\x01\x3c\x00\x00\x3c\x40" * notes]), "error:notes"),
        "notes-just-under": (smf([b"\x00\x90\x3c\x40" + b"\x01\x3c\x00\x00\x3c\x40" * (notes - 2)
                                  + b"\x01\x3c\x00" + END_OF_TRACK]), f"piece:{notes - 1}"),
        "one-pitch-stack": (smf([b"\x00\x90\x3c\x40" + b"\x01\x3c\x40" * (stack - 1) + b"\x01\x3c\x00" * stack]),
                            "error:notes"),
        "sysex-30mb": (smf([b"\x00\xf0" + vlq(30 * 2**20) + b"\x00" * (30 * 2**20) + END_OF_TRACK]), "piece:0"),
        "track-name-30mb": (smf([b"\x00\xff\x03" + vlq(30 * 2**20) + b"a" * (30 * 2**20)
                                 + b"\x00\x90\x3c\x40\x60\x80\x3c\x00" + END_OF_TRACK]), "piece:1"),
        "over-size": (b"MThd" + b"\x00" * (midi_io.MAX_FILE_BYTES - 3), "error:limit"),
    }
    files = {}
    for name, (data, expectation) in cases.items():
        path = folder / f"limit-{name}.mid"
        path.write_bytes(data)
        files[name] = (path, expectation)
    return files


CHILD = """
import json, resource, sys, time
from composer.music.midi_io import MidiReadError, read_midi
from composer.music.notes import quantize
results = {}
for path in sys.argv[1:]:
    started = time.process_time()
    try:
        piece = read_midi(path)
        quantize(piece, 12)
        outcome = "piece:%d" % len(piece.notes)
    except MidiReadError as error:
        outcome = "error:" + error.reason
    results[path] = [outcome, time.process_time() - started]   # CPU seconds
try:  # this process's own high-water mark (ru_maxrss can include the parent's size, inherited at fork)
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"results": results, "peak_rss_mb": peak_kb / 1024}))
"""


def test_files_at_the_limits_are_bounded_in_time_and_memory(tmp_path, fuzz_tally):
    """Files built to sit at MAX_EVENTS / MAX_NOTES, a 400,000-deep stack of one pitch, 30 MB sysex and track
    names: each read in bounded time, the child's peak memory a few hundred MB at most.

    (Through mido, which builds an object per message, a 300 KB file of 100,000 running-status events took
    1.3 s and 42 MB; the 32 MB that MAX_FILE_BYTES lets in would have taken minutes and gigabytes.)
    """
    files = files_at_the_limits(tmp_path)
    child = subprocess.run([sys.executable, "-c", CHILD, *(str(p) for p, _ in files.values())],
                           capture_output=True, text=True, timeout=scaled(300))
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout)
    for name, (path, expectation) in files.items():
        outcome, seconds = report["results"][str(path)]
        kind, detail = expectation.split(":")
        if kind == "error":
            assert outcome.startswith("error:") and detail in outcome, (name, outcome)
        else:
            assert outcome == expectation, (name, outcome)
        assert seconds < LIMIT_SECONDS, (name, seconds)
        fuzz_tally[outcome.split(":")[0]] += 1
    assert report["peak_rss_mb"] < 400, report


# -- the pipeline: corrupt files in a corpus folder -----------------------------------------------------------------
def test_hostile_files_in_a_corpus_are_skipped_not_stalling_preparation(tmp_path, real_midi, fuzz_tally):
    """load_corpus (documented: unreadable files are listed in ``skipped``) on real tunes plus files that once
    made read_midi return pieces with notes at astronomically late ticks: encoding those (one SHIFT token per
    48 steps) would never end (conftest's watchdog turns such a hang into a failure showing where)."""
    from composer.melody.corpus import load_corpus
    from composer.melody.encoding import EncodingConfig, Vocabulary

    folder = tmp_path / "corpus"
    folder.mkdir()
    for index, (name, data) in enumerate(real_midi[16:24]):  # folk melodies
        (folder / f"{index}-{name}").write_bytes(data)
    tune = b"".join(bytes([0, 0x90, pitch, 80, 0x60, 0x80, pitch, 0]) for pitch in range(60, 72))  # 12 notes
    hostile = {  # each starts with a tune, so that it is not merely too short to use
        "vlq-bomb.mid": smf([tune + b"\x00\x90\x3c\x40" + b"\xff" * 100_000 + b"\x7f\x80\x3c\x00" + END_OF_TRACK]),
        "late-note.mid": smf([tune + b"\xff\xff\xff\x7f\xff\x01\x00" * 1000 + b"\x00\x90\x3c\x40\x60\x80\x3c\x00"
                              + END_OF_TRACK]),
        "held-note.mid": smf([tune + b"\x00\x90\x3c\x40" + b"\xff\xff\xff\x7f\xff\x01\x00" * 1000 + END_OF_TRACK]),
        "noise.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60MTrk\x00\x00\x00\x04\x3c\x40\x00\x00",
    }
    assert len(read_midi_bytes(smf([tune + END_OF_TRACK]), Reader(tmp_path, fuzz_tally, "tune")).notes) == 12
    for name, data in hostile.items():
        (folder / name).write_bytes(data)
    started = time.process_time()   # workers=1 prepares the files in this process: its CPU time is the work
    corpus = load_corpus(folder, Vocabulary(EncodingConfig()), workers=1, use_cache=False)
    cpu = time.process_time() - started
    skipped = dict(corpus.skipped)
    assert set(hostile) <= set(skipped), corpus.skipped
    assert all(skipped[name] for name in hostile)
    used = sum(len(files) for files in corpus.files.values())
    assert used + len(skipped) == 8 + len(hostile) and used >= 6, (corpus.files, corpus.skipped)
    assert cpu < 30, f"preparing {len(hostile) + 8} small files used {cpu:.1f} s of CPU"
    fuzz_tally["error"] += len(hostile)
    fuzz_tally["piece"] += used
