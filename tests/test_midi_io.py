"""MIDI files in and out (composer.music.midi_io), checked against independent parsers (mido, pretty_midi)."""

from __future__ import annotations

import io
import math
import os
import random
import struct
import warnings
from pathlib import Path

import mido
import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.music import midi_io
from composer.music.keys import parse_key
from composer.music.midi_io import MidiReadError, read_midi, write_midi
from composer.music.notes import Note, Piece, TempoChange, TimeSignature, Voice, clean, quantize

PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# each example writes a file and parses it three times (~25 ms): fewer examples keep the suite fast
FILE_PROPERTY = settings(PROPERTY, max_examples=80)
SATB = ("Soprano", "Alto", "Tenor", "Bass")


# -- helpers ------------------------------------------------------------------------------------------------
def write_scale(tpb: int) -> int:
    """The factor write_midi scales a coarse grid by (documented: a multiple of 480 for coarse grids)."""
    return 1 if tpb >= 96 else math.ceil(480 / tpb)


def expected_voice(voice: Voice, index: int) -> Voice:
    return Voice(voice.name or f"Voice {index + 1}", 0 if voice.is_drum else voice.program, voice.is_drum)


def mido_notes(path) -> tuple[mido.MidiFile, list[dict]]:
    """Independent parse with mido: per track, its name, channels and (start, end, pitch, velocity) in ticks."""
    midi = mido.MidiFile(path)
    tracks = []
    for track in midi.tracks:
        tick, name, open_notes, notes, channels = 0, None, {}, [], set()
        meta = []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name" and name is None:
                name = msg.name
            elif msg.type in ("set_tempo", "time_signature", "key_signature"):
                meta.append((tick, msg))
            elif msg.type == "note_on" and msg.velocity > 0:
                assert (msg.channel, msg.note) not in open_notes, "written file has an overlap of one pitch"
                open_notes[(msg.channel, msg.note)] = (tick, msg.velocity)
                channels.add(msg.channel)
            elif msg.type in ("note_on", "note_off"):
                start, velocity = open_notes.pop((msg.channel, msg.note))
                notes.append((start, tick, msg.note, velocity))
        assert not open_notes, "written file leaves notes hanging"
        tracks.append({"name": name, "notes": sorted(notes), "channels": channels, "meta": meta, "end": tick})
    return midi, tracks


def pretty_notes(path) -> dict[str, list[tuple[int, float, float, int]]]:
    """Independent parse with pretty_midi: instrument name -> sorted (pitch, start s, end s, velocity)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(str(path))
    result = {}
    for inst in pm.instruments:
        assert inst.name not in result
        result[inst.name] = (inst.is_drum, sorted((n.pitch, n.start, n.end, n.velocity) for n in inst.notes))
    return pm, result


def assert_pretty_midi_agrees(piece: Piece, path, rel: float = 1e-6) -> None:
    """Every note of ``piece`` is in the file at the same pitch, velocity and wall-clock times."""
    pm, instruments = pretty_notes(path)
    assert set(instruments) == {v.name for v in piece.voices if piece.voice_notes(piece.voices.index(v))}
    for index, voice in enumerate(piece.voices):
        is_drum, theirs = instruments[voice.name]
        assert is_drum == voice.is_drum
        ours = sorted((n.pitch, piece.seconds(n.start), piece.seconds(n.end), n.velocity)
                      for n in piece.voice_notes(index))
        assert len(theirs) == len(ours)
        for (p1, s1, e1, v1), (p2, s2, e2, v2) in zip(ours, theirs):
            assert (p1, v1) == (p2, v2)
            assert s2 == pytest.approx(s1, rel=rel, abs=1e-6)
            assert e2 == pytest.approx(e1, rel=rel, abs=1e-6)


def build_midi(path, tracks, midi_type=1, tpb=96) -> Path:
    """Write a MIDI file from lists of messages with mido (an independent writer)."""
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=tpb)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    midi.save(path)
    return Path(path)


def chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body)) + body


ONE_NOTE_TRACK = b"\x00\x90\x3c\x40" + b"\x60\x80\x3c\x00" + b"\x00\xff\x2f\x00"


# -- strategies ----------------------------------------------------------------------------------------------
@st.composite
def writable_pieces(draw, allow_drums=True):
    """Random clean pieces of every kind write_midi handles, each voice with at least one note."""
    tpb = draw(st.sampled_from([1, 2, 4, 12, 24, 96, 220, 480, 960]))
    count = draw(st.integers(1, 4))
    voices = []
    for i in range(count):
        drum = allow_drums and i == count - 1 and count > 1 and draw(st.booleans())
        name = draw(st.sampled_from(["", f"Part {i}", f"Stimme {i} ü"]))
        voices.append(Voice(name, 0 if drum else draw(st.integers(0, 127)), drum))
    span = 32 * tpb
    notes = []
    for v in range(count):
        for _ in range(draw(st.integers(1, 12))):
            start = draw(st.integers(0, span))
            end = start + draw(st.integers(1, 6 * tpb))
            notes.append(Note(start, end, draw(st.integers(0, 127)), draw(st.integers(1, 127)), v))
    tempo_ticks = draw(st.lists(st.integers(1, span), max_size=3, unique=True))
    tempos = (TempoChange(0, draw(st.sampled_from([120.0, 60.0, 75.0, 96.0, 100.0, 150.0]))),
              *(TempoChange(t, float(draw(st.integers(20, 300)))) for t in sorted(tempo_ticks)))
    sig_ticks = draw(st.lists(st.integers(1, span), max_size=3, unique=True))
    sig = st.tuples(st.integers(1, 15), st.sampled_from([1, 2, 4, 8, 16, 32]))
    signatures = (TimeSignature(0, *draw(sig)), *(TimeSignature(t, *draw(sig)) for t in sorted(sig_ticks)))
    key = draw(st.sampled_from([None, "C", "Am", "F#", "Ebm", "Bb", "C#", "Abm", "B", "G#m"]))
    piece = Piece(notes=tuple(notes), ticks_per_beat=tpb, voices=tuple(voices), tempos=tempos,
                  time_signatures=signatures, key=key, name="song")
    return clean(piece)


def expected_after_write(piece: Piece, name: str) -> Piece:
    """What read_midi(include_drums=True) must give for a file written from ``piece``."""
    k = write_scale(piece.ticks_per_beat)
    return Piece(notes=tuple(Note(n.start * k, n.end * k, n.pitch, n.velocity, n.voice) for n in piece.notes),
                 ticks_per_beat=piece.ticks_per_beat * k,
                 voices=tuple(expected_voice(v, i) for i, v in enumerate(piece.voices)),
                 tempos=tuple(TempoChange(t.tick * k, t.qpm) for t in piece.tempos),
                 time_signatures=tuple(TimeSignature(s.tick * k, s.numerator, s.denominator)
                                       for s in piece.time_signatures),
                 key=piece.key, name=name)


# -- writing, then reading with three parsers ----------------------------------------------------------------
@FILE_PROPERTY
@given(piece=writable_pieces())
def test_write_then_read_with_read_midi_mido_and_pretty_midi(tmp_path, piece):
    path = tmp_path / "song.mid"
    write_midi(piece, path)
    expected = expected_after_write(piece, "song")
    k = write_scale(piece.ticks_per_beat)

    # 1. our reader
    back = read_midi(path, include_drums=True)
    assert back.notes == expected.notes
    assert back.ticks_per_beat == expected.ticks_per_beat
    assert back.ticks_per_beat % 480 == 0 or piece.ticks_per_beat >= 96
    assert back.voices == expected.voices
    assert back.time_signatures == expected.time_signatures
    assert [t.tick for t in back.tempos] == [t.tick for t in expected.tempos]
    # MIDI stores tempo in whole microseconds per beat: at 300 qpm that is 2.5e-6 relative
    assert [t.qpm for t in back.tempos] == pytest.approx([t.qpm for t in expected.tempos], rel=5e-6)
    # the key survives, perhaps respelled (G#m comes back as Abm, as MIDI stores accidentals not names)
    assert (back.key is None) == (piece.key is None)
    if piece.key is not None:
        assert parse_key(back.key) == parse_key(piece.key)
    assert back.name == "song"
    if any(v.is_drum for v in piece.voices):  # drums are dropped unless asked for
        without = read_midi(path)
        assert all(not v.is_drum for v in without.voices)
        assert len(without.notes) == len([n for n in piece.notes if not piece.voices[n.voice].is_drum])

    # 2. mido, message by message
    midi, tracks = mido_notes(path)
    assert midi.type == 1 and midi.ticks_per_beat == piece.ticks_per_beat * k
    assert len(tracks) == 1 + len(piece.voices)
    assert not tracks[0]["notes"]
    tempo_events = [(t, m.tempo) for t, m in tracks[0]["meta"] if m.type == "set_tempo"]
    assert tempo_events == [(t.tick * k, mido.bpm2tempo(t.qpm)) for t in piece.tempos]
    sig_events = [(t, m.numerator, m.denominator) for t, m in tracks[0]["meta"] if m.type == "time_signature"]
    assert sig_events == [(s.tick * k, s.numerator, s.denominator) for s in piece.time_signatures]
    melodic_channels = []
    for index, voice in enumerate(piece.voices):
        track = tracks[index + 1]
        assert track["name"] == expected.voices[index].name
        assert track["notes"] == sorted((n.start, n.end, n.pitch, n.velocity) for n in expected.voice_notes(index))
        assert len(track["channels"]) == 1
        channel = track["channels"].pop()
        if voice.is_drum:
            assert channel == 9
        else:
            melodic_channels.append(channel)
    assert 9 not in melodic_channels and len(set(melodic_channels)) == len(melodic_channels)

    # 3. pretty_midi, in seconds through the tempo map
    assert_pretty_midi_agrees(back, path)
    assert_pretty_midi_agrees(expected, path, rel=1e-5)  # our own tempos, before rounding to microseconds


def test_write_midi_exact_tempo_and_seconds(tmp_path):
    """A hand-checked file: two tempo changes and a metre change, times in seconds from pretty_midi."""
    piece = Piece(notes=(Note(0, 12, 60, 100), Note(12, 36, 64, 80), Note(36, 48, 67, 60), Note(48, 96, 72, 40)),
                  ticks_per_beat=12, voices=(Voice("Lead", 73),),
                  tempos=(TempoChange(0, 120.0), TempoChange(24, 60.0), TempoChange(48, 240.0)),
                  time_signatures=(TimeSignature(0, 3, 4), TimeSignature(36, 6, 8)), key="Em")
    path = tmp_path / "exact.mid"
    write_midi(piece, path)
    pm, instruments = pretty_notes(path)
    is_drum, notes = instruments["Lead"]
    assert not is_drum and pm.instruments[0].program == 73
    assert notes == [(60, pytest.approx(0.0), pytest.approx(0.5), 100), (64, pytest.approx(0.5), pytest.approx(2.0), 80),
                     (67, pytest.approx(2.0), pytest.approx(3.0), 60), (72, pytest.approx(3.0), pytest.approx(4.0), 40)]
    times, tempi = pm.get_tempo_changes()
    assert list(tempi) == pytest.approx([120.0, 60.0, 240.0])
    assert list(times) == pytest.approx([0.0, 1.0, 3.0])
    assert [(ts.numerator, ts.denominator, ts.time) for ts in pm.time_signature_changes] == \
        [(3, 4, pytest.approx(0.0)), (6, 8, pytest.approx(2.0))]
    assert [(k.key_number, k.time) for k in pm.key_signature_changes] == [(pretty_midi.key_name_to_key_number("E minor"), 0.0)]
    back = read_midi(path)
    assert back.tempos == (TempoChange(0, 120.0), TempoChange(24 * 40, 60.0), TempoChange(48 * 40, 240.0))
    assert back.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(36 * 40, 6, 8))
    assert back.key == "Em"
    assert quantize(back, 12).notes == piece.notes


def test_write_modal_key_as_relative_major(tmp_path):
    piece = Piece(notes=(Note(0, 4, 62),), ticks_per_beat=4, key="Ddor")
    write_midi(piece, tmp_path / "modal.mid")
    assert read_midi(tmp_path / "modal.mid").key == "C"
    write_midi(piece.replace(key="E phrygian"), tmp_path / "modal.mid")
    assert read_midi(tmp_path / "modal.mid").key == "C"
    write_midi(piece.replace(key="G mixolydian"), tmp_path / "modal.mid")
    assert read_midi(tmp_path / "modal.mid").key == "C"


def test_write_end_tick_extends_the_file(tmp_path):
    piece = Piece(notes=(Note(0, 4, 60), Note(4, 8, 62)), ticks_per_beat=4, tempos=(TempoChange(0, 60.0),))
    path = tmp_path / "rest.mid"
    write_midi(piece, path, end_tick=16)  # a closing rest: the file lasts 4 beats, the notes 2
    assert piece.seconds(16) == pytest.approx(4.0)
    assert mido.MidiFile(path).length == pytest.approx(4.0)
    assert read_midi(path).notes == tuple(Note(n.start * 120, n.end * 120, n.pitch) for n in piece.notes)
    write_midi(piece, path)  # default: the file ends with the last note
    assert mido.MidiFile(path).length == pytest.approx(2.0)
    write_midi(piece, path, end_tick=2)  # an end before the last note never cuts notes
    assert mido.MidiFile(path).length == pytest.approx(2.0)
    assert len(read_midi(path).notes) == 2


def test_more_voices_than_channels(tmp_path):
    """17 melodic voices and a drum kit: channels wrap (skipping 10), tracks keep the voices apart."""
    voices = tuple(Voice(f"Part {i}", i) for i in range(17)) + (Voice("Kit", 0, True),)
    notes = tuple(Note(4 * i, 4 * i + 6, 40 + i, 50 + i, i) for i in range(18))
    piece = Piece(notes=notes, ticks_per_beat=96, voices=voices)
    write_midi(piece, tmp_path / "big.mid")
    assert read_midi(tmp_path / "big.mid", include_drums=True) == piece.replace(name="big")
    _, tracks = mido_notes(tmp_path / "big.mid")
    channels = [t["channels"].pop() for t in tracks[1:]]
    assert channels == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 0, 1, 9]


def test_empty_piece_writes_and_reads_back_empty(tmp_path):
    write_midi(Piece(notes=(), ticks_per_beat=12), tmp_path / "empty.mid")
    back = read_midi(tmp_path / "empty.mid")
    assert back.notes == ()
    assert len(back.voices) == 1


# -- reading files written by another program ----------------------------------------------------------------
def test_format0_two_channels_become_two_voices(tmp_path):
    track = [mido.MetaMessage("track_name", name="Piano"),
             mido.Message("program_change", channel=0, program=0),
             mido.Message("program_change", channel=1, program=33),
             mido.Message("note_on", channel=0, note=72, velocity=100, time=0),
             mido.Message("note_on", channel=1, note=40, velocity=70, time=0),
             mido.Message("note_off", channel=0, note=72, velocity=0, time=96),
             mido.Message("note_on", channel=0, note=74, velocity=90, time=0),
             mido.Message("note_off", channel=1, note=40, velocity=0, time=96),
             mido.Message("note_off", channel=0, note=74, velocity=0, time=0)]
    path = build_midi(tmp_path / "fmt0.mid", [track], midi_type=0)
    assert mido.MidiFile(path).type == 0
    piece = read_midi(path)
    assert piece.voices == (Voice("Piano ch1", 0), Voice("Piano ch2", 33))
    assert piece.notes == (Note(0, 96, 72, 100, 0), Note(0, 192, 40, 70, 1), Note(96, 192, 74, 90, 0))
    # without a track name the voices are named after track and channel
    path = build_midi(tmp_path / "fmt0_anon.mid", [track[1:]], midi_type=0)
    assert [v.name for v in read_midi(path).voices] == ["Track 0 ch1", "Track 0 ch2"]


def drum_tracks():
    melody = [mido.MetaMessage("track_name", name="Melody"),
              mido.Message("note_on", channel=0, note=60, velocity=80),
              mido.Message("note_off", channel=0, note=60, time=96)]
    drums = [mido.MetaMessage("track_name", name="Kit"),
             mido.Message("note_on", channel=9, note=36, velocity=120),
             mido.Message("note_on", channel=9, note=42, velocity=60),
             mido.Message("note_off", channel=9, note=36, time=48),
             mido.Message("note_off", channel=9, note=42)]
    return melody, drums


def test_drums_on_channel_10_dropped_by_default_and_kept_on_request(tmp_path):
    melody, drums = drum_tracks()
    path = build_midi(tmp_path / "drums.mid", [melody, drums])
    plain = read_midi(path)
    assert plain.voices == (Voice("Melody", 0),)
    assert plain.notes == (Note(0, 96, 60, 80, 0),)
    full = read_midi(path, include_drums=True)
    assert full.voices == (Voice("Melody", 0), Voice("Kit", 0, True))
    assert full.notes == (Note(0, 96, 60, 80, 0), Note(0, 48, 36, 120, 1), Note(0, 48, 42, 60, 1))
    # in a format-0 file too: the drum channel of a mixed track
    path = build_midi(tmp_path / "drums0.mid", [mido.merge_tracks([melody, drums])], midi_type=0)
    assert [n.pitch for n in read_midi(path).notes] == [60]
    assert sorted(n.pitch for n in read_midi(path, include_drums=True).notes) == [36, 42, 60]


def test_note_without_note_off_ends_at_track_end(tmp_path):
    track = [mido.Message("note_on", note=60, velocity=90),
             mido.Message("note_on", note=62, velocity=91, time=96),
             mido.Message("note_off", note=62, time=96),
             mido.MetaMessage("end_of_track", time=288)]
    piece = read_midi(build_midi(tmp_path / "hanging.mid", [track]))
    assert piece.notes == (Note(0, 480, 60, 90), Note(96, 192, 62, 91))


def test_note_on_velocity_zero_is_a_note_off(tmp_path):
    track = [mido.Message("note_on", note=60, velocity=90),
             mido.Message("note_on", note=60, velocity=0, time=48),
             mido.Message("note_on", note=64, velocity=70, time=48),
             mido.Message("note_on", note=64, velocity=0, time=24)]
    piece = read_midi(build_midi(tmp_path / "vel0.mid", [track]))
    assert piece.notes == (Note(0, 48, 60, 90), Note(96, 120, 64, 70))


def test_stray_note_off_ignored_and_repeated_note_on_paired_first_in_first_out(tmp_path):
    track = [mido.Message("note_off", note=50, time=0),  # never started: ignored
             mido.Message("note_on", note=60, velocity=90),
             mido.Message("note_on", note=60, velocity=80, time=10),
             mido.Message("note_off", note=60, time=10),
             mido.Message("note_off", note=60, time=10)]
    piece = read_midi(build_midi(tmp_path / "fifo.mid", [track]))
    # (0, 20) and (10, 30) first in, first out; then the overlap of one pitch is cut
    assert piece.notes == (Note(0, 10, 60, 90), Note(10, 30, 60, 80))


def test_tempo_metre_and_key_from_any_track(tmp_path):
    conductor = [mido.MetaMessage("set_tempo", tempo=500000),
                 mido.MetaMessage("time_signature", numerator=3, denominator=4)]
    part = [mido.MetaMessage("track_name", name="Solo"),
            mido.MetaMessage("key_signature", key="F#m"),
            mido.Message("note_on", note=66, velocity=64),
            mido.MetaMessage("set_tempo", tempo=1000000, time=96),
            mido.MetaMessage("time_signature", numerator=5, denominator=8, time=96),
            mido.MetaMessage("key_signature", key="A", time=0),
            mido.Message("note_off", note=66, time=96)]
    piece = read_midi(build_midi(tmp_path / "meta.mid", [conductor, part]))
    assert piece.tempos == (TempoChange(0, 120.0), TempoChange(96, 60.0))
    assert piece.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(192, 5, 8))
    assert piece.key == "F#m"  # the first key signature
    assert piece.notes == (Note(0, 288, 66, 64),)
    assert piece.seconds(288) == pytest.approx(0.5 + 2.0)


def test_defaults_when_file_sets_no_tempo_or_metre(tmp_path):
    track = [mido.Message("note_on", note=60, velocity=90, time=10), mido.Message("note_off", note=60, time=10)]
    piece = read_midi(build_midi(tmp_path / "bare.mid", [track]))
    assert piece.tempos == (TempoChange(0, 120.0),)
    assert piece.time_signatures == (TimeSignature(0, 4, 4),)
    assert piece.key is None
    assert piece.name == "bare"


def test_late_first_tempo_gets_a_default_before_it(tmp_path):
    track = [mido.Message("note_on", note=60, velocity=90), mido.MetaMessage("set_tempo", tempo=1000000, time=96),
             mido.Message("note_off", note=60, time=96)]
    piece = read_midi(build_midi(tmp_path / "late.mid", [track]))
    assert piece.tempos == (TempoChange(0, 120.0), TempoChange(96, 60.0))


# -- atomic writing ----------------------------------------------------------------------------------------------
def small_piece() -> Piece:
    return Piece(notes=(Note(0, 4, 60), Note(4, 8, 64)), ticks_per_beat=4, voices=(Voice("Melody"),))


def test_write_leaves_no_temp_files(tmp_path):
    write_midi(small_piece(), tmp_path / "out.mid")
    assert os.listdir(tmp_path) == ["out.mid"]
    write_midi(small_piece().replace(notes=(Note(0, 2, 70),)), tmp_path / "out.mid")  # overwrite
    assert os.listdir(tmp_path) == ["out.mid"]
    assert read_midi(tmp_path / "out.mid").notes == (Note(0, 240, 70),)
    write_midi(small_piece(), str(tmp_path / "other.mid"))  # a str path works as well
    assert sorted(os.listdir(tmp_path)) == ["other.mid", "out.mid"]


def test_failed_write_keeps_existing_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "keep.mid"
    write_midi(small_piece(), path)
    original = path.read_bytes()
    calls = []

    def broken_save(self, filename=None, file=None):
        calls.append(file)
        file.write(b"MThd half a fi")  # something partial reaches the temporary file first
        raise OSError("disk full")

    monkeypatch.setattr(mido.MidiFile, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_midi(small_piece().replace(notes=(Note(0, 1, 99),)), path)
    assert calls, "the patched save was not used"
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["keep.mid"]
    monkeypatch.undo()
    assert read_midi(path).notes == tuple(Note(n.start * 120, n.end * 120, n.pitch) for n in small_piece().notes)


def test_failed_write_to_new_path_creates_nothing(tmp_path, monkeypatch):
    def broken_save(self, filename=None, file=None):
        raise KeyboardInterrupt  # even an interrupt cleans up

    monkeypatch.setattr(mido.MidiFile, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        write_midi(small_piece(), tmp_path / "new.mid")
    assert os.listdir(tmp_path) == []


# -- corrupt and unsupported input ------------------------------------------------------------------------------
def assert_read_error(path, *reason_words):
    """read_midi raises MidiReadError (nothing else) naming the file and a reason."""
    with pytest.raises(MidiReadError) as excinfo:
        read_midi(path)
    error = excinfo.value
    assert Path(path).name in str(error)
    assert error.path == str(path)
    assert error.reason.strip()
    assert error.reason in str(error)
    for word in reason_words:
        assert word.lower() in error.reason.lower()
    return error


def test_missing_file(tmp_path):
    assert_read_error(tmp_path / "nowhere.mid", "no such file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mid"
    path.write_bytes(b"")
    assert_read_error(path)


def test_random_bytes(tmp_path):
    rng = random.Random(7)
    for i in range(20):
        path = tmp_path / f"noise{i}.mid"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))))
        assert_read_error(path)


def test_truncated_real_file(tmp_path, small_chorale):
    data = small_chorale.read_bytes()
    for cut in [1, 4, 8, 13, 14, 18, 22, 23, 40, len(data) // 3, len(data) // 2, len(data) - 10, len(data) - 1]:
        path = tmp_path / f"cut_{cut}_{small_chorale.name}"
        path.write_bytes(data[:cut])
        assert_read_error(path)


@pytest.mark.parametrize("header", [
    b"RIFF\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60",  # not a MIDI file at all
    b"MThd\x00\x00\x00\x02\x00\x01",  # header chunk too short
    b"mthd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60",  # wrong case
])
def test_wrong_header(tmp_path, header):
    path = tmp_path / "header.mid"
    path.write_bytes(header + chunk(b"MTrk", ONE_NOTE_TRACK))
    assert_read_error(path)


def test_format_2_file(tmp_path):
    track = [mido.Message("note_on", note=60, velocity=90), mido.Message("note_off", note=60, time=96)]
    path = build_midi(tmp_path / "fmt2.mid", [track, track], midi_type=2)
    assert_read_error(path, "format 2")


def test_smpte_division_file(tmp_path):
    path = tmp_path / "smpte.mid"
    path.write_bytes(chunk(b"MThd", struct.pack(">HHH", 0, 1, 0xE728)) + chunk(b"MTrk", ONE_NOTE_TRACK))
    assert_read_error(path, "SMPTE")


def test_zero_division_file(tmp_path):
    path = tmp_path / "div0.mid"
    path.write_bytes(chunk(b"MThd", struct.pack(">HHH", 0, 1, 0)) + chunk(b"MTrk", ONE_NOTE_TRACK))
    assert_read_error(path)


def test_file_without_tracks(tmp_path):
    path = tmp_path / "notracks.mid"
    path.write_bytes(chunk(b"MThd", struct.pack(">HHH", 1, 0, 96)))
    assert_read_error(path, "no tracks")


def test_directory_path(tmp_path):
    folder = tmp_path / "folder.mid"
    folder.mkdir()
    assert_read_error(folder)


def test_oversized_file_refused_unread(tmp_path, small_chorale, monkeypatch):
    monkeypatch.setattr(midi_io, "MAX_FILE_BYTES", 1000)
    assert_read_error(small_chorale, "limit")


def test_zero_tempo_is_a_read_error(tmp_path):
    """A set_tempo of 0 microseconds per beat is corrupt data; it must be a MidiReadError like any other."""
    path = tmp_path / "tempo0.mid"
    track = b"\x00\xff\x51\x03\x00\x00\x00" + ONE_NOTE_TRACK
    path.write_bytes(chunk(b"MThd", struct.pack(">HHH", 0, 1, 96)) + chunk(b"MTrk", track))
    assert_read_error(path)


def test_mutated_real_files_read_or_raise_midi_read_error(tmp_path, chorale_files, folk_files):
    """Byte-level damage anywhere in real files: a piece or a MidiReadError, never another exception."""
    rng = random.Random(2024)
    sources = [p.read_bytes() for p in chorale_files[:10] + folk_files[:: len(folk_files) // 10]]
    path = tmp_path / "mutated.mid"
    outcomes = {"piece": 0, "error": 0}
    for _ in range(200):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        try:
            piece = read_midi(path)
        except MidiReadError as error:
            assert path.name in str(error) and error.reason
            outcomes["error"] += 1
        else:
            assert isinstance(piece, Piece)
            assert all(n.end > n.start for n in piece.notes)
            outcomes["piece"] += 1
    assert outcomes["piece"] and outcomes["error"]  # both kinds of damage occurred


# -- the real corpora -------------------------------------------------------------------------------------------
def raw_track_names(path) -> list[str]:
    """Independent look at a real file with mido: the name of each track that plays notes."""
    names = []
    for track in mido.MidiFile(path).tracks:
        if any(m.type == "note_on" and m.velocity > 0 for m in track):
            names.append(next((m.name.strip() for m in track if m.type == "track_name"), ""))
    return names


def test_chorale_voices_are_the_named_tracks(chorale_pieces):
    assert sum(tuple(v.name for v in piece.voices) == SATB for _, piece in chorale_pieces) >= 300
    assert all(len(piece.voices) == 4 and len(piece.notes) > 50 for _, piece in chorale_pieces)
    for path, piece in chorale_pieces[::8]:
        raw = raw_track_names(path)
        assert len(raw) == 4, path.name
        # a track's name is its voice's name; unnamed tracks are called after track and channel
        assert [v.name for v in piece.voices] == [n or v.name for n, v in zip(raw, piece.voices)], path.name
        assert all(v.name.startswith("Track ") for n, v in zip(raw, piece.voices) if not n), path.name


def through_midi(piece: Piece, file_name: str) -> Piece:
    """MIDI -> notes -> MIDI in memory: exactly what write_midi then read_midi do, minus the disk.

    (write_midi and read_midi themselves are exercised on real files in the tests above and below; the
    corpus-wide loops skip the per-file fsync to stay fast.)
    """
    buffer = io.BytesIO()
    midi_io.piece_to_mido(piece).save(file=buffer)
    return midi_io.piece_from_bytes(buffer.getvalue(), file_name)  # our reader, as read_midi uses it


def round_trip_failures(pieces, ticks_per_beat=12):
    """read -> quantize -> write -> read -> quantize: the files whose pieces differ in any way."""
    failures = []
    for path, piece in pieces:
        first = quantize(piece, ticks_per_beat)
        assert first.notes, path.name
        second = quantize(through_midi(first, path.name), ticks_per_beat)
        if second != first:
            lost = sorted(set(first.notes) - set(second.notes))
            failures.append(f"{path.name}: {len(lost)} notes lost, e.g. {lost[:2]}; "
                            f"all but notes equal: {second.replace(notes=first.notes) == first}")
    return failures


def test_round_trip_keeps_every_quantized_note_on_all_chorales(chorale_pieces):
    """Notes, voice names (Soprano/Alto/Tenor/Bass), programs, tempos, metres and key all survive."""
    assert round_trip_failures(chorale_pieces) == []
    assert sum(len(p.time_signatures) > 1 or len(p.tempos) > 1 for _, p in chorale_pieces) >= 100


def test_round_trip_keeps_every_quantized_note_on_folk_sample(folk_pieces):
    assert len(folk_pieces) >= 200
    assert round_trip_failures(folk_pieces) == []


def test_real_files_through_write_midi_and_read_midi(chorale_pieces, folk_pieces, tmp_path):
    """On disk, unquantized and quantized, checked by read_midi, pretty_midi and mido."""
    for path, piece in chorale_pieces[::20] + folk_pieces[::30]:
        out = tmp_path / path.name
        write_midi(piece, out)  # the file's own resolution (10080 or 220 ticks per beat) is kept as is
        assert read_midi(out) == piece, path.name
        assert raw_track_names(out) == [v.name for v in piece.voices]
        coarse = quantize(piece, 12)
        write_midi(coarse, out)
        back = read_midi(out)
        assert quantize(back, 12) == coarse, path.name
        assert_pretty_midi_agrees(back, out)
    assert sorted(os.listdir(tmp_path)) == sorted({p.name for p, _ in chorale_pieces[::20] + folk_pieces[::30]})


def test_voice_names_outside_latin1_are_written_with_replacements(tmp_path):
    """MIDI text is Latin-1: a name like 'Sopran ♪' must not make the file unwritable."""
    from composer.music.notes import Note, Piece, Voice

    piece = Piece(notes=(Note(0, 4, 60),), ticks_per_beat=4, voices=(Voice("Sopran ♪"),))
    midi_io.write_midi(piece, tmp_path / "named.mid")
    back = midi_io.read_midi(tmp_path / "named.mid")
    assert back.voices[0].name == "Sopran ?"
    assert [(n.pitch, n.start, n.end) for n in back.notes] == [(60, 0, 480)]
