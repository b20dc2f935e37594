"""The SoundFont renderer (composer/audio): real chorales through the real TimGM6mb.sf2 and FluidSynth, read
back with Python's ``wave`` module; programs per voice; bad SoundFonts; the additive fallback; the length limit."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from composer import audio
from composer.audio import AudioTooLongError, SoundFontError
from composer.audio.soundfont import PEAK_CEILING, SOUNDFONT_VARIABLE, default_soundfont_path
from composer.music.notes import Note, Piece
from composer.shipped import REPO_ROOT as REPO
from tests.audio.conftest import chorale, expected_frames, melody, needs_fluidsynth, read_wav
from tests.waiting import scaled

RATE = 44100


@needs_fluidsynth
def test_a_chorale_renders_through_the_soundfont_to_a_stereo_wav_of_the_right_length(tmp_path):
    piece = chorale(4)
    path = tmp_path / "chorale.wav"
    rendering = audio.export_wav(piece, path)
    assert rendering.engine == audio.SOUNDFONT and rendering.soundfont == default_soundfont_path()
    rate, samples = read_wav(path)
    assert rate == RATE and samples.shape == (expected_frames(piece, RATE), 2)
    rms = np.sqrt(np.mean(samples ** 2))
    assert rms > 0.01 and np.abs(samples).max() <= PEAK_CEILING + 1e-4   # audible, and headroom kept
    assert np.abs(samples[:, 0] - samples[:, 1]).max() > 0.001           # really stereo (voices are panned)
    quarters = np.array_split(samples, 4)                                # sound all through the music
    assert all(np.sqrt(np.mean(q ** 2)) > 0.005 for q in quarters[:3])


@needs_fluidsynth
def test_other_sample_rates_and_speeds_keep_the_length_rule():
    piece = chorale(2)
    half = audio.render(piece, 22050, tempo_factor=2.0)
    music = piece.seconds(piece.end) / 2
    assert half.sample_rate == 22050 and half.samples.shape == (round(music * 22050) + round(0.4 * 22050), 2)
    assert half.samples.dtype == np.float32


@needs_fluidsynth
def test_notes_sound_where_they_are_and_silence_elsewhere():
    piece = melody(notes=((8, 12, 69),))   # A4 from 1.0 s to 1.5 s (120 qpm, 4 ticks a beat)
    samples = audio.render(piece).samples
    assert np.abs(samples[:round(0.99 * RATE)]).max() < 1e-4
    assert np.abs(samples[round(1.02 * RATE):round(1.45 * RATE)]).max() > 0.02
    assert np.abs(samples[round(1.9 * RATE) - 100:]).max() < 1e-3   # released, and the tail faded out
    window = samples[round(1.05 * RATE):round(1.45 * RATE), 0]
    peak_hz = np.argmax(np.abs(np.fft.rfft(window))) * RATE / window.size
    assert abs(peak_hz - 440) < 10 or abs(peak_hz - 880) < 20   # the fundamental (or the octave) of A4


@needs_fluidsynth
def test_each_voice_plays_its_own_program_and_the_user_can_choose_another():
    piano = audio.render(melody(0)).samples
    flute = audio.render(melody(73)).samples
    chosen = audio.render(melody(0), programs={0: 73}).samples
    assert not np.allclose(piano, flute, atol=1e-3)
    assert np.array_equal(flute, chosen)                          # an override is the same as the file's program
    assert np.array_equal(piano, audio.render(melody(0)).samples)   # and rendering is deterministic
    four = chorale(2)
    organ = audio.render(four, programs={0: 19, 1: 19, 2: 19, 3: 19}).samples
    assert not np.allclose(audio.render(four).samples, organ, atol=1e-3)
    # the parts are named Soprano..Bass on program 0, as harmonize writes them: they sing (Choir Aahs)
    assert np.array_equal(audio.render(four).samples, audio.render(four, programs=dict.fromkeys(range(4), 52)).samples)


@needs_fluidsynth
def test_a_drum_voice_plays_the_drum_kit():
    kit = audio.render(melody(0, notes=((0, 1, 36), (2, 3, 38)), drum=True)).samples
    piano = audio.render(melody(0, notes=((0, 1, 36), (2, 3, 38)))).samples
    assert np.abs(kit).max() > 0.01 and not np.allclose(kit, piano, atol=1e-3)


@needs_fluidsynth
def test_a_missing_or_corrupt_soundfont_is_a_one_line_error(tmp_path):
    body = b"sfbk" + bytes(range(256)) * 8
    garbage = tmp_path / "garbage.sf2"
    garbage.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    truncated = tmp_path / "truncated.sf2"
    truncated.write_bytes(default_soundfont_path().read_bytes()[:50000])
    text = tmp_path / "notes.sf2"
    text.write_text("not a soundfont\n")
    for path, words in ((tmp_path / "missing.sf2", "no such SoundFont"), (text, "not a SoundFont 2 file"),
                        (truncated, "truncated"), (garbage, "cannot load"), (tmp_path, "folder")):
        with pytest.raises(SoundFontError) as caught:
            audio.render(melody(), soundfont=path)
        message = str(caught.value)
        assert words in message and "\n" not in message


def test_the_additive_synth_renders_when_the_default_soundfont_cannot_be_loaded(monkeypatch, tmp_path):
    monkeypatch.setenv(SOUNDFONT_VARIABLE, str(tmp_path / "nowhere.sf2"))
    piece = chorale(2)
    rendering = audio.render(piece)
    assert rendering.engine == audio.ADDITIVE and rendering.soundfont is None
    assert "nowhere.sf2" in rendering.note and "additive" in rendering.note and "\n" not in rendering.note
    assert rendering.samples.shape == (expected_frames(piece, RATE), 2) and np.abs(rendering.samples).max() > 0.05


def test_no_soundfont_means_the_additive_synth_and_it_follows_the_chosen_programs():
    plain = audio.render(melody(0), soundfont=None)
    assert plain.engine == audio.ADDITIVE and plain.note == ""
    organ = audio.render(melody(0), soundfont=None, programs={0: 19})
    assert not np.allclose(plain.samples, organ.samples, atol=1e-3)


@pytest.mark.parametrize("soundfont", [audio.AUTO, None])
def test_a_piece_hours_long_is_refused_before_any_audio_is_allocated(soundfont):
    piece = Piece((Note(0, 4, 60), Note(4 * 60 * 60 * 3 * 2, 4 * 60 * 60 * 3 * 2 + 4, 62)), 4)   # 3 hours
    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLongError) as caught:
            audio.render(piece, soundfont=soundfont)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "3 h" in str(caught.value) and "10 min" in str(caught.value)
    assert peak < 20 * 2 ** 20


def test_bad_arguments_are_refused():
    for kwargs in ({"tempo_factor": 0}, {"sample_rate": 0}, {"start_tick": -1}):
        with pytest.raises(ValueError):
            audio.render(melody(), **kwargs)


@needs_fluidsynth
def test_a_sample_rate_fluidsynth_cannot_render_at_is_refused_not_silently_changed():
    with pytest.raises(ValueError, match="8000-96000"):
        audio.render(melody(), 192000)
    assert audio.render(melody(), 96000).samples.shape[0] == round(0.5 * 96000) + round(0.4 * 96000)


@needs_fluidsynth
def test_the_app_layer_renders_and_exports_through_the_same_renderer(tmp_path):
    from gui import synth

    piece = chorale(2)
    assert np.array_equal(synth.render(piece), audio.render(piece).samples)
    path = tmp_path / "app.wav"
    synth.export_wav(piece, path, sample_rate=22050)
    rate, samples = read_wav(path)
    expected = audio.render(piece, 22050).samples
    assert rate == 22050 and samples.shape == expected.shape
    assert np.abs(samples - expected).max() < 1.5 / 32767
    assert synth.tick_at_seconds(piece, float(synth.seconds_at(piece, [96])[0])) == pytest.approx(96)


def test_the_audio_library_never_imports_qt_and_the_cli_module_loads_no_audio():
    code = ("import sys, composer.audio, composer.audio.render, composer.audio.additive, composer.audio.soundfont; "
            "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'; "
            "import composer.cli.render; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=scaled(120), check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr
    code = ("import sys, composer.cli.render; "
            "print(sorted(m for m in ('numpy', 'fluidsynth', 'composer.audio', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=scaled(120), check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
