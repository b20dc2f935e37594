"""The additive synthesizer and its WAV export (composer/audio/additive.py, the app's fallback synth): timing,
pitch, silence, headroom, files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from composer.audio import additive as synth
from composer.audio.additive import RELEASE_TAIL_SECONDS, SAMPLE_RATE, export_wav, render
from composer.music.midi_io import read_midi
from composer.music.notes import Note, Piece, TempoChange, Voice, crop

REPO = Path(__file__).resolve().parents[2]
CHORALE = REPO / "midi_data" / "bach_chorales_satb" / "bwv250.mid"
TAIL = int(round(RELEASE_TAIL_SECONDS * SAMPLE_RATE))


def melody(notes: list[tuple[int, int, int]], qpm: float = 120.0, tpb: int = 4, velocity: int = 90,
           voices: tuple[Voice, ...] = (Voice("Piano", 0),)) -> Piece:
    """A piece from (start, end, pitch) triples in voice 0."""
    return Piece(tuple(Note(s, e, p, velocity) for s, e, p in notes), tpb, voices, (TempoChange(0, qpm),))


def test_length_is_the_pieces_duration_plus_the_release_tail():
    piece = melody([(0, 4, 60), (4, 12, 64)])  # 12 sixteenths at 120 qpm = 1.5 s
    audio = render(piece)
    assert audio.dtype == np.float32 and audio.shape == (int(1.5 * SAMPLE_RATE) + TAIL, 2)
    assert render(piece, tempo_factor=2.0).shape[0] == int(0.75 * SAMPLE_RATE) + TAIL
    assert render(piece, start_tick=4).shape[0] == int(1.0 * SAMPLE_RATE) + TAIL


def test_length_follows_tempo_changes():
    piece = melody([(0, 16, 60)], tpb=4).replace(tempos=(TempoChange(0, 120.0), TempoChange(8, 60.0)))
    # 8 ticks at 120 qpm (1 s) + 8 ticks at 60 qpm (2 s)
    assert render(piece).shape[0] == 3 * SAMPLE_RATE + TAIL


def test_time_map_agrees_with_the_piece_and_inverts():
    piece = melody([(0, 40, 60)], tpb=4).replace(
        tempos=(TempoChange(0, 100.0), TempoChange(8, 150.0), TempoChange(20, 72.5)))
    ticks = np.arange(0, 41)
    assert np.allclose(synth.seconds_at(piece, ticks), [piece.seconds(int(t)) for t in ticks])
    for tick in (0, 3, 8, 13.5, 20, 39):
        assert synth.tick_at_seconds(piece, float(synth.seconds_at(piece, [tick])[0])) == pytest.approx(tick)


def test_silence_where_no_note_sounds():
    # a note of 0.5 s, a gap of 2 s, a note of 0.5 s (tpb 4 at 120 qpm: one tick = 0.125 s)
    audio = render(melody([(0, 4, 60), (20, 24, 67)]))
    note_end = int(0.5 * SAMPLE_RATE)
    release_end = note_end + int(0.3 * SAMPLE_RATE)  # every timbre releases in under 0.3 s
    gap_end = int(2.5 * SAMPLE_RATE)
    assert np.abs(audio[:note_end]).max() > 0.05
    assert np.all(audio[release_end:gap_end] == 0.0)
    assert np.abs(audio[gap_end:gap_end + note_end]).max() > 0.05
    assert np.all(audio[-int(0.05 * SAMPLE_RATE):] == 0.0)  # the tail ends silent (release done)


@pytest.mark.parametrize("voice", [Voice("Piano", 0), Voice("Soprano", 0), Voice("Organ", 19),
                                   Voice("Strings", 48), Voice("Flute", 73)])
def test_a4_sounds_at_440_hz(voice):
    audio = render(melody([(0, 8, 69)], voices=(voice,)))  # one second of A4
    mono = audio[:SAMPLE_RATE, 0].astype(np.float64) * np.hanning(SAMPLE_RATE)
    spectrum = np.abs(np.fft.rfft(mono))
    frequencies = np.fft.rfftfreq(SAMPLE_RATE, 1.0 / SAMPLE_RATE)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(440.0, abs=2.0)


def test_low_notes_have_their_fundamental_at_the_right_place():
    audio = render(melody([(0, 8, 45)], voices=(Voice("Bass", 33),)))  # A2 = 110 Hz
    spectrum = np.abs(np.fft.rfft(audio[:SAMPLE_RATE, 1].astype(np.float64) * np.hanning(SAMPLE_RATE)))
    assert np.argmax(spectrum) == pytest.approx(110, abs=2)  # 1 Hz bins


def test_a_loud_dense_mix_never_clips():
    voices = tuple(Voice(f"v{i}", program) for i, program in enumerate((0, 19, 48, 33, 52, 73)))
    notes = tuple(Note(0, 8, 40 + 7 * i + v, 127, v) for v in range(6) for i in range(5))
    audio = render(Piece(notes, 4, voices))
    peak = float(np.abs(audio).max())
    assert peak <= synth.PEAK_CEILING + 1e-6
    assert peak > 0.5  # it was loud, and scaled down rather than cut
    pcm = np.frombuffer(synth.to_pcm16(audio), dtype="<i2")
    assert pcm.max() < 32767 and pcm.min() > -32767


def test_velocity_sets_loudness_and_voices_are_panned():
    soft = render(melody([(0, 8, 60)], velocity=30))
    loud = render(melody([(0, 8, 60)], velocity=120))
    assert np.sqrt(np.mean(loud ** 2)) > 4 * np.sqrt(np.mean(soft ** 2))
    voices = (Voice("a", 0), Voice("b", 0))
    left_voice = render(Piece((Note(0, 8, 60, 90, 0),), 4, voices))
    right_voice = render(Piece((Note(0, 8, 60, 90, 1),), 4, voices))
    assert np.abs(left_voice[:, 0]).sum() > 1.5 * np.abs(left_voice[:, 1]).sum()
    assert np.abs(right_voice[:, 1]).sum() > 1.5 * np.abs(right_voice[:, 0]).sum()


def test_timbres_follow_program_families_and_satb_names():
    assert synth.timbre_for(Voice("Soprano", 0)) is synth.CHORALE
    assert synth.timbre_for(Voice("Bass", 0)) is synth.CHORALE
    assert synth.timbre_for(Voice("", 0)) is synth.PIANO
    assert synth.timbre_for(Voice("", 19)) is synth.ORGAN
    assert synth.timbre_for(Voice("", 33)) is synth.BASS
    assert synth.timbre_for(Voice("", 53)) is synth.CHOIR
    assert synth.timbre_for(Voice("", 0, is_drum=True)) is synth.DRUM


def test_start_tick_keeps_notes_that_are_still_sounding():
    piece = melody([(0, 16, 60)])
    audio = render(piece, start_tick=8)  # from the middle of the only note
    assert audio.shape[0] == SAMPLE_RATE + TAIL and np.abs(audio[:SAMPLE_RATE // 2]).max() > 0.05


def test_empty_piece_is_a_silent_tail_and_bad_arguments_are_refused():
    audio = render(Piece((), 4))
    assert audio.shape == (TAIL, 2) and not audio.any()
    with pytest.raises(ValueError, match="tempo_factor"):
        render(melody([(0, 4, 60)]), tempo_factor=0)
    with pytest.raises(ValueError, match="start_tick"):
        render(melody([(0, 4, 60)]), start_tick=-1)


def test_a_real_chorale_renders_all_four_parts():
    piece = read_midi(CHORALE)
    piece = crop(piece, 0, min(piece.end, 16 * piece.ticks_per_bar))
    audio = render(piece)
    assert audio.shape[0] == int(round(piece.seconds(piece.end) * SAMPLE_RATE)) + TAIL
    assert np.isfinite(audio).all() and 0.05 < np.abs(audio).max() <= 1.0


def test_wav_export_reads_back(tmp_path):
    piece = melody([(0, 4, 60), (4, 8, 64), (8, 16, 67)])
    path = tmp_path / "out" / "tune.wav"
    export_wav(piece, path, sample_rate=22050)
    with wave.open(str(path), "rb") as handle:
        assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (2, 2, 22050)
        frames = handle.readframes(handle.getnframes())
        assert handle.getnframes() == 2 * 22050 + int(round(RELEASE_TAIL_SECONDS * 22050))
    assert frames == synth.to_pcm16(render(piece, 22050))
    assert [p.name for p in path.parent.iterdir()] == ["tune.wav"]  # no temporary file left behind
    if _has_scipy():  # an independent reader, where one is installed (no new dependency for it)
        from scipy.io import wavfile

        rate, data = wavfile.read(path)
        assert rate == 22050 and data.shape == (2 * 22050 + int(round(RELEASE_TAIL_SECONDS * 22050)), 2)


def _has_scipy() -> bool:
    try:
        import scipy.io.wavfile  # noqa: F401
    except ImportError:
        return False
    return True
