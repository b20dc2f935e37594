"""Where the bundled corpora and the shipped models are."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MIDI_DATA = REPO_ROOT / "midi_data"
MODELS = MIDI_DATA / "models"
CHORALES = MIDI_DATA / "bach_chorales_satb"
FOLK_MELODIES = MIDI_DATA / "folk_melodies"
BENCHMARKS = MIDI_DATA / "benchmarks"

MELODY_MODEL = MODELS / "melody.pt"
HARMONY_MODEL = MODELS / "chorale.pt"
# The shipped polyphonic benchmark model of each bundled benchmark file.
BENCHMARK_MODELS = {"jsb_chorales_quarter.json": MODELS / "jsb.pt", "nottingham.json": MODELS / "nottingham.pt"}
