"""Progress of rendering (issue 18): the library's ``progress("rendering", frames done, frames)`` from both
synthesizers, the same audio with or without it, and ``composer render``'s bar on stderr once past the delay
(``COMPOSER_PROGRESS_DELAY``: 0 shows it at once, a large value keeps it quiet; nothing depends on how long
rendering takes). Real chorale, real SoundFont through FluidSynth (skipped where it is missing)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from composer.audio import soundfont
from composer.audio.render import render
from composer.cli.common import PROGRESS_DELAY_ENV
from composer.cli.main import main
from tests.audio.conftest import CHORALE, chorale, needs_fluidsynth

RATE = 22050


def rendered_with_progress(piece, engine):
    """(samples, the progress calls) of rendering ``piece`` with ``engine`` (AUTO's SoundFont, or None)."""
    calls = []
    samples = render(piece, RATE, soundfont=engine, progress=lambda *call: calls.append(call)).samples
    return samples, calls


def check_calls(calls, frames: int) -> None:
    """From 0 to every frame, never backwards."""
    assert calls[0] == ("rendering", 0, frames) and calls[-1] == ("rendering", frames, frames)
    done = [call[1] for call in calls]
    assert done == sorted(done) and all(call[0] == "rendering" and call[2] == frames for call in calls)
    assert len(calls) >= 3   # 16 bars of a chorale are many chunks


@needs_fluidsynth
def test_the_soundfont_synth_reports_its_chunks_and_writes_the_same_audio_with_or_without_progress():
    piece = chorale(16)
    samples, calls = rendered_with_progress(piece, "auto")
    check_calls(calls, len(samples))
    assert all(b[1] - a[1] < 2 * soundfont.CHUNK_FRAMES for a, b in zip(calls, calls[1:]))   # at least every chunk
    np.testing.assert_array_equal(samples, render(piece, RATE).samples)


@needs_fluidsynth
@pytest.mark.parametrize("chunk", [1000, 1 << 40])   # small chunks; and one write between events, as before
def test_the_soundfont_audio_does_not_depend_on_the_chunks(monkeypatch, chunk):
    piece = chorale(4)
    usual = render(piece, RATE).samples
    monkeypatch.setattr(soundfont, "CHUNK_FRAMES", chunk)
    np.testing.assert_array_equal(render(piece, RATE, progress=lambda *call: None).samples, usual)


def test_the_additive_synth_reports_as_its_notes_are_mixed_and_writes_the_same_audio():
    piece = chorale(16)
    samples, calls = rendered_with_progress(piece, None)
    check_calls(calls, len(samples))
    np.testing.assert_array_equal(samples, render(piece, RATE, soundfont=None).samples)


@pytest.mark.parametrize("engine", [pytest.param("soundfont", marks=needs_fluidsynth), "additive"])
@pytest.mark.parametrize("delay", ["0", "1000"])
def test_render_shows_the_seconds_rendered_on_stderr_only_past_the_delay(tmp_path, capsys, monkeypatch, delay,
                                                                          engine):
    monkeypatch.setenv(PROGRESS_DELAY_ENV, delay)
    if engine == "additive":
        monkeypatch.setenv(soundfont.SOUNDFONT_VARIABLE, str(tmp_path / "missing.sf2"))   # AUTO falls back
    midi = tmp_path / "chorale.mid"
    shutil.copyfile(CHORALE, midi)
    assert main(["render", str(midi), "--out", str(tmp_path / "chorale.wav")]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith(f"{tmp_path / 'chorale.wav'}:")]
    assert len(out.splitlines()) == 1 and "%|" not in out
    bar = [line for line in err.splitlines() if line.startswith("rendering chorale.wav:")]
    assert bool(bar) == (delay == "0")
    assert all("/45 " in line and "s audio/s" in line for line in bar)   # the chorale's 44.4 s, in seconds
