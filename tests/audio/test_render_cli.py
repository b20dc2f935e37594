"""``composer render`` and ``--wav`` on generate, harmonize and regenerate: the real command in-process, real
chorales and folk tunes, the shipped models, WAV files read back with Python's ``wave`` module."""

from __future__ import annotations

import shutil
from pathlib import Path

import mido
import pytest

from composer.cli.main import main
from composer.shipped import FOLK_MELODIES, HARMONY_MODEL, MELODY_MODEL
from tests.audio.conftest import CHORALE, expected_frames, needs_fluidsynth, read_wav
from tests.audio.conftest import chorale as chorale_piece

RATE = 44100


def refused(capsys, *argv) -> str:
    """Run ``composer ARGV`` expecting a usage error (exit status 2); its last stderr line."""
    with pytest.raises(SystemExit) as caught:
        main([str(a) for a in argv])
    assert caught.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def failed(capsys, *argv) -> str:
    """Run ``composer ARGV`` expecting exit status 1 and exactly one line on stderr; that line."""
    assert main([str(a) for a in argv]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def chorale(tmp_path) -> Path:
    path = tmp_path / "chorale.mid"
    shutil.copyfile(CHORALE, path)
    return path


@pytest.fixture
def tune(tmp_path) -> Path:
    """A real folk tune, copied."""
    path = tmp_path / "tune.mid"
    shutil.copyfile(sorted(FOLK_MELODIES.glob("*/*.mid"))[100], path)
    return path


# -- composer render ------------------------------------------------------------------------------------------
@needs_fluidsynth
def test_render_writes_the_soundfont_audio_of_a_midi_file(capsys, chorale, tmp_path):
    out = tmp_path / "out" / "chorale.wav"
    assert main(["render", str(chorale), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"{out}: 44.4s, 16-bit stereo 44100 Hz (SoundFont TimGM6mb.sf2)\n" and printed.err == ""
    rate, samples = read_wav(out)
    full = chorale_piece(10 ** 6)
    assert rate == RATE and samples.shape == (expected_frames(full, RATE), 2) and abs(samples).max() > 0.05


@needs_fluidsynth
def test_render_refuses_an_existing_wav_without_force_and_never_writes_over_its_input(capsys, chorale, tmp_path):
    out = tmp_path / "take.wav"
    out.write_bytes(b"my take")
    line = refused(capsys, "render", chorale, "--out", out)
    assert str(out) in line and "--force" in line and out.read_bytes() == b"my take"
    assert main(["render", str(chorale), "--out", str(out), "--force", "--program", "all=19"]) == 0
    assert out.read_bytes()[:4] == b"RIFF"
    before = chorale.read_bytes()
    alias = tmp_path / "alias.wav"
    alias.symlink_to(chorale)
    line = refused(capsys, "render", chorale, "--out", alias, "--force")
    assert "input" in line and chorale.read_bytes() == before
    assert ".wav" in refused(capsys, "render", chorale, "--out", tmp_path / "x.mid")


def test_a_missing_or_corrupt_soundfont_is_one_line_and_writes_nothing(capsys, chorale, tmp_path):
    out = tmp_path / "x.wav"
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    assert "no such SoundFont" in failed(capsys, "render", chorale, "--out", out, "--soundfont", tmp_path / "no.sf2")
    assert "not a SoundFont" in failed(capsys, "render", chorale, "--out", out, "--soundfont", bad)
    assert not out.exists()


def test_unknown_voices_and_programs_are_refused(capsys, chorale, tmp_path):
    out = tmp_path / "x.wav"
    assert "descant" in failed(capsys, "render", chorale, "--out", out, "--program", "descant=40")
    assert "Violin" in refused(capsys, "render", chorale, "--out", out, "--program", "1=viol")
    assert not out.exists()


def test_a_midi_file_hours_long_is_refused_without_rendering(capsys, tmp_path):
    path = tmp_path / "long.mid"
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track += [mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=480),
              mido.Message("note_on", note=62, velocity=90, time=480 * 2 * 3600 * 2),   # two hours later
              mido.Message("note_off", note=62, time=480)]
    midi.tracks.append(track)
    midi.save(path)
    line = failed(capsys, "render", path, "--out", tmp_path / "long.wav")
    assert "2 h" in line and "10 min" in line and not (tmp_path / "long.wav").exists()


def test_without_fluidsynths_default_soundfont_the_additive_synth_renders_and_says_so(capsys, monkeypatch, tune,
                                                                                     tmp_path):
    monkeypatch.setenv("COMPOSER_SOUNDFONT", str(tmp_path / "gone.sf2"))
    out = tmp_path / "tune.wav"
    assert main(["render", str(tune), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "additive synth" in captured.out and captured.err.count("\n") == 1 and "gone.sf2" in captured.err
    rate, samples = read_wav(out)
    assert rate == RATE and abs(samples).max() > 0.05


# -- --wav beside the MIDI files -------------------------------------------------------------------------------
@pytest.mark.slow
@needs_fluidsynth
def test_generate_wav_writes_one_wav_beside_each_variation_and_keeps_the_overwrite_rule(capsys, tmp_path):
    out = tmp_path / "run"
    argv = ["generate", "--out", str(out), "--model", str(MELODY_MODEL), "--count", "2", "--bars", "2", "--seed",
            "3", "--wav"]
    assert main(argv) == 0
    for name in ("variation_01", "variation_02"):
        rate, samples = read_wav(out / f"{name}.wav")
        assert rate == RATE and samples.shape[1] == 2 and abs(samples).max() > 0.02
    (out / "variation_01.mid").unlink()          # only the WAV of a run is left: still refused
    before = (out / "variation_01.wav").read_bytes()
    line = refused(capsys, *argv)
    assert "variation_01.wav" in line and "--force" in line
    assert (out / "variation_01.wav").read_bytes() == before and not (out / "variation_01.mid").exists()
    assert main(argv + ["--force", "--program", "1=73"]) == 0
    assert (out / "variation_01.wav").read_bytes() != before


def test_soundfont_and_program_need_wav(capsys, tmp_path):
    line = refused(capsys, "generate", "--out", tmp_path / "run", "--program", "1=0")
    assert "--program" in line and "--wav" in line and not (tmp_path / "run").exists()


@pytest.mark.slow
@needs_fluidsynth
def test_harmonize_and_regenerate_wav_follow_their_midi_files(capsys, tune, tmp_path):
    out = tmp_path / "satb.mid"
    assert main(["harmonize", str(tune), "--out", str(out), "--model", str(HARMONY_MODEL), "--seed", "1", "--wav",
                 "--program", "all=52"]) == 0
    rate, samples = read_wav(out.with_suffix(".wav"))
    assert rate == RATE and abs(samples).max() > 0.02
    before = out.read_bytes()
    line = failed(capsys, "harmonize", tune, "--out", out, "--model", HARMONY_MODEL, "--wav", "--force",
                  "--soundfont", tune)
    assert "not a SoundFont" in line and out.read_bytes() == before   # checked before any work
    again = tmp_path / "again.mid"
    assert main(["regenerate", str(out), "--out", str(again), "--bars", "1-1", "--voices", "alto",
                 "--model", str(HARMONY_MODEL), "--seed", "2", "--count", "2", "--wav"]) == 0
    for name in ("again_1.wav", "again_2.wav"):
        assert read_wav(tmp_path / name)[1].shape[1] == 2
    assert "ends in .wav" in refused(capsys, "harmonize", tune, "--out", tmp_path / "h.wav", "--wav")
