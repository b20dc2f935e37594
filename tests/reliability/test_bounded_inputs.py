"""Small hostile inputs bound their own work (issue 17, items 6 and 7).

A 4-part or melody file whose time signature change stands far past its last note once made ``harmonize``
allocate an array to that tick (a 169-byte file reached 4 GB); one such chorale could end a whole
``train --task harmony`` run. Each case runs against the real shipped model or a real tiny training run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import mido
import numpy as np

from composer.harmony import train as harmony_train
from composer.harmony.grid import positions_for
from composer.harmony.train import HarmonyTrainConfig, train_harmony
from composer.music.notes import TimeSignature
from tests.reliability.conftest import scaled

REPO = Path(__file__).resolve().parents[2]
CHORALES = REPO / "midi_data" / "bach_chorales_satb"
FAR_TICKS = 200_000_000   # the longest delta a MIDI file can hold is 2**28 - 1 ticks


def melody_with_a_far_time_signature(path: Path) -> Path:
    """Eight quarter notes at one tick a beat, then a 3/4 signature 200 million beats later (3 years at 120 QPM):
    a file of 90 bytes whose signature change once asked for 800 million frames (6.4 GB)."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    for pitch in (67, 69, 71, 72, 74, 72, 71, 67):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=1))
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=FAR_TICKS))
    midi = mido.MidiFile(ticks_per_beat=1)
    midi.tracks.append(track)
    midi.save(path)
    return path


def test_positions_are_bounded_by_the_piece_not_by_a_far_signature():
    signatures = [TimeSignature(0, 4, 4), TimeSignature(FAR_TICKS, 3, 4)]
    positions = positions_for(signatures, 480, 32)
    assert positions.shape == (32,)
    assert list(positions[:17]) == list(range(16)) + [0]          # 4/4 bars of 16 sixteenths, untouched
    changed = positions_for([TimeSignature(0, 4, 4), TimeSignature(480 * 4, 3, 4)], 480, 32)
    assert list(changed[16:29]) == list(range(12)) + [0]          # a change inside the piece still applies


def test_harmonize_of_a_tiny_file_with_a_far_signature_stays_small(tmp_path):
    """In a child limited to 2 GB of address space: before the fix this allocated past it and failed."""
    melody = melody_with_a_far_time_signature(tmp_path / "far.mid")
    out = tmp_path / "out.mid"
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
        from composer.cli.main import main
        sys.exit(main(["harmonize", {str(melody)!r}, "--out", {str(out)!r}, "--seed", "1"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=scaled(600))
    assert done.returncode == 0, done.stderr
    voices = [t for t in mido.MidiFile(out).tracks if any(m.type == "note_on" for m in t)]
    assert len(voices) == 4                                         # Soprano, Alto, Tenor, Bass


def test_one_unusable_chorale_is_skipped_and_listed_not_fatal(tmp_path, monkeypatch):
    folder = tmp_path / "chorales"
    folder.mkdir()
    for path in sorted(CHORALES.glob("*.mid"))[:6]:
        shutil.copyfile(path, folder / path.name)
    melody_with_a_far_time_signature(folder / "far_signature.mid")   # one voice: skipped as not 4-part
    poisoned = sorted(folder.glob("bwv*.mid"))[0].name
    real = harmony_train.chorale_from_piece

    def failing_on_one(piece):   # an unexpected failure while reading one file (e.g. memory)
        if piece.name and poisoned.removesuffix(".mid") in piece.name:
            raise MemoryError("cannot allocate")
        return real(piece)

    monkeypatch.setattr(harmony_train, "chorale_from_piece", failing_on_one)
    config = HarmonyTrainConfig.of(embedding_size=8, encoder_size=8, hidden_size=8, num_layers=1, head_size=8,
                                   epochs=1, batch_size=2, device="cpu")
    events = []
    checkpoint = train_harmony(folder, tmp_path / "h.pt", config, progress=events.append)
    skipped = dict(next(e for e in events if e["event"] == "data")["skipped"])
    assert "MemoryError" in skipped.get(poisoned, ""), skipped
    assert "far_signature.mid" in skipped
    assert checkpoint["epoch"] == 1 and np.isfinite(checkpoint["metrics"]["valid"]["loss"])
    report = (tmp_path / "h.data.csv").read_text()
    assert poisoned in report and "skipped" in report
