"""Work bounded by what a user can mean, progress on long work, results written as they are ready (issue 17,
item 10).

Before the fix, a melody of a few bytes holding a two-hour note kept ``harmonize`` busy for many minutes with no
output (the MIDI reader allows notes up to 100,000 beats), and ``generate --count 256 --bars 512``, the documented
maximum, printed nothing for minutes while its memory grew with the number of variations. Now a melody, piece
or primer longer than 2,048 beats (512 bars of 4/4) is refused at once in one line; generation samples at most
16 variations at a time and writes each batch as soon as it is ready; long commands show their progress.

The long-note case runs the real ``composer`` command in a child process under a CPU-time limit (CPU, not the
clock: a busy machine slows it without failing the test; the old code used up the limit).
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from composer.cli.common import ProgressLine
from composer.harmony.grid import HarmonyError
from composer.harmony.inference import harmonize, regenerate_region
from composer.harmony.model import load_harmony_model
from composer.melody import generate as generate_module
from composer.melody.generate import GENERATE_CHUNK, GenerationRequest, generate, generate_to_folder
from composer.melody.model import load_melody_model
from composer.music.bounds import MAX_WORK_BEATS
from composer.music.midi_io import read_midi
from composer.shipped import HARMONY_MODEL, MELODY_MODEL

REPO = Path(__file__).resolve().parents[2]
CHORALE = sorted((REPO / "midi_data" / "bach_chorales_satb").glob("*.mid"))[0]
CPU_LIMIT_S = 90   # CPU seconds a refusal may take (starting Python, PyTorch and the model included)


def melody_with_a_two_hour_note(path: Path) -> Path:
    """Four quarter notes, then one held for 14,400 beats (two hours at 120 QPM): 81 bytes."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    for pitch in (67, 69, 71, 72):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
    track.append(mido.Message("note_on", note=74, velocity=80, time=0))
    track.append(mido.Message("note_off", note=74, velocity=0, time=480 * 14_400))
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)
    return path


def _cpu_limit() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S + 5))


@pytest.fixture
def long_note(tmp_path) -> Path:
    return melody_with_a_two_hour_note(tmp_path / "long.mid")


@pytest.mark.parametrize("argv, what", [
    (["harmonize", "{midi}", "--out", "{tmp}/out.mid"], "the melody"),
    (["generate", "--primer", "{midi}", "--out", "{tmp}/gen", "--count", "1", "--bars", "1"], "the primer"),
])
def test_a_two_hour_note_is_refused_at_once_in_one_line(tmp_path, long_note, argv, what):
    argv = [a.format(midi=long_note, tmp=tmp_path) for a in argv]
    result = subprocess.run([sys.executable, "-m", "composer", *argv], capture_output=True, text=True, cwd=REPO,
                            preexec_fn=_cpu_limit, check=False)
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])   # -24 (SIGXCPU): ran past the limit
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{what} lasts 14,404 beats, over the limit of 2,048 (512 bars of 4/4); one note is held for 14,400 " \
           f"beats" in lines[0]
    assert not (tmp_path / "out.mid").exists() and not (tmp_path / "gen").exists()


def test_the_library_refuses_too_before_any_work(long_note):
    melody = read_midi(long_note)
    model = load_harmony_model(HARMONY_MODEL)
    with pytest.raises(HarmonyError, match="the melody lasts 14,404 beats"):
        harmonize(model, melody)
    chorale = read_midi(CHORALE)
    far = chorale.replace(notes=chorale.notes + (chorale.notes[0].__class__(
        0, (MAX_WORK_BEATS + 1) * chorale.ticks_per_beat, 60, 80, 1),))
    with pytest.raises(HarmonyError, match="the piece lasts"):
        regenerate_region(model, far, 0, chorale.ticks_per_bar, [1])
    melody_model = load_melody_model(MELODY_MODEL)
    with pytest.raises(ValueError, match="the primer lasts 14,404 beats"):
        generate(melody_model.net, melody_model.vocab, GenerationRequest(count=1, bars=1, seed=1), primer=melody)


def test_generation_writes_each_batch_as_it_is_ready(tmp_path, monkeypatch):
    model = load_melody_model(MELODY_MODEL)
    batches: list[int] = []
    real_generate = generate_module.generate

    def counting(net, vocab, request, primer=None, on_step=None):
        batches.append(request.count)
        return real_generate(net, vocab, request, primer, on_step)

    monkeypatch.setattr(generate_module, "generate", counting)
    out = tmp_path / "many"
    on_disk: list[list[str]] = []
    steps = []

    def progress(event: dict) -> None:
        if event["event"] == "written":
            on_disk.append(sorted(p.name for p in out.iterdir()))
        else:
            steps.append(event)

    count = GENERATE_CHUNK + 4
    manifest = generate_to_folder(model, out, GenerationRequest(count=count, bars=1, seed=4), progress=progress)
    assert batches == [GENERATE_CHUNK, 4]                     # memory follows the batch, not --count
    names = [f"variation_{i:02d}.mid" for i in range(1, count + 1)]
    assert on_disk == [names[:GENERATE_CHUNK], names]         # the first batch was on disk before the second began
    assert [item["file"] for item in manifest["files"]] == names
    assert sorted(p.name for p in out.iterdir()) == sorted(names + ["manifest.json"])
    assert steps and steps[0]["done"] == 0 and steps[-1]["done"] == GENERATE_CHUNK and steps[-1]["batch"] == 4
    assert read_midi(out / names[-1]).notes


def test_a_single_batch_is_what_generate_gives(tmp_path):
    model = load_melody_model(MELODY_MODEL)
    request = GenerationRequest(count=3, bars=2, seed=9)
    generate_to_folder(model, tmp_path / "one", request)
    expected = generate(model.net, model.vocab, request)
    for index, piece in enumerate(expected.pieces, 1):
        assert read_midi(tmp_path / "one" / f"variation_{index:02d}.mid").notes == read_midi_like(piece, tmp_path)


def read_midi_like(piece, tmp_path: Path):
    """The notes ``piece`` has once written and read back (as the folder's files were)."""
    from composer.music.midi_io import write_midi

    path = tmp_path / "expected.mid"
    write_midi(piece, path, end_tick=piece.end)
    return read_midi(path).notes


def test_progress_waits_a_second_then_shows_and_clears():
    quiet = io.StringIO()
    line = ProgressLine(quiet, after_s=3600)
    line.update("step 1")
    assert quiet.getvalue() == ""                              # a quick command prints nothing extra
    log = io.StringIO()
    line = ProgressLine(log, after_s=0, log_every_s=0)
    line.update("generating variations 1-16 of 20: step 5")
    line.clear()
    assert log.getvalue().startswith("generating variations 1-16 of 20: step 5: 0it [00:00")   # tqdm's counter


def test_generate_prints_each_file_as_it_is_written(tmp_path, capsys):
    from composer.cli.main import main

    assert main(["generate", "--out", str(tmp_path / "g"), "--count", "18", "--bars", "1", "--seed", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:-1]] == [f"variation_{i:02d}.mid" for i in range(1, 19)]
    assert out[-1].startswith("18 file(s) and manifest.json in")


def test_chorales_are_written_in_batches_too(tmp_path, capsys, monkeypatch):
    from composer.cli.main import main
    from composer.harmony import inference

    batches: list[int] = []
    real = inference.generate_chorale

    def counting(model, bars, count=1, **options):
        batches.append(count)
        return real(model, bars, count=count, **options)

    monkeypatch.setattr(inference, "generate_chorale", counting)
    for out, count in (("all", 17), ("first", 16)):
        assert main(["generate", "--model", str(HARMONY_MODEL), "--out", str(tmp_path / out), "--count", str(count),
                     "--bars", "1", "--seed", "3", "--key", "G"]) == 0
    assert batches == [16, 1, 16]                                       # memory follows the batch, not --count
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed[:17]] == [f"variation_{i:02d}.mid" for i in range(1, 18)]
    for index in range(1, 17):                                          # the first batch is what one call gives
        name = f"variation_{index:02d}.mid"
        assert read_midi(tmp_path / "all" / name).notes == read_midi(tmp_path / "first" / name).notes
    manifest = json.loads((tmp_path / "all" / "manifest.json").read_text())
    assert manifest["parameters"]["count"] == 17 and len(manifest["files"]) == 17 and manifest["key_token"] == "G"
