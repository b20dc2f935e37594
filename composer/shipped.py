"""Where the bundled corpora and the shipped models are.

In a source checkout, and an editable install (``pip install -e .``), all of it is in ``midi_data/`` beside the
package. A built wheel (``pip install .``, ``pip wheel .``, pipx) carries the shipped models inside the package,
as ``composer/_data/models/`` (``setup.py`` copies them there); the training corpora and benchmark files stay in
the source tree, so in such an install :data:`CHORALES`, :data:`FOLK_MELODIES` and :data:`BENCHMARKS` name
folders that are not there (the commands that read them say so when asked to).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
SOURCE_DATA = REPO_ROOT / "midi_data"       # a source checkout or an editable install
PACKAGED_DATA = PACKAGE_DIR / "_data"       # a built wheel's copy of the shipped models
MIDI_DATA = SOURCE_DATA if (SOURCE_DATA / "models").is_dir() or not PACKAGED_DATA.is_dir() else PACKAGED_DATA
MODELS = MIDI_DATA / "models"
CHORALES = MIDI_DATA / "bach_chorales_satb"
FOLK_MELODIES = MIDI_DATA / "folk_melodies"
BENCHMARKS = MIDI_DATA / "benchmarks"

MELODY_MODEL = MODELS / "melody.pt"
HARMONY_MODEL = MODELS / "chorale.pt"
# The shipped polyphonic benchmark model of each bundled benchmark file.
BENCHMARK_MODELS = {"jsb_chorales_quarter.json": MODELS / "jsb.pt", "nottingham.json": MODELS / "nottingham.pt",
                    "musedata.json": MODELS / "musedata.pt", "piano_midi.json": MODELS / "piano_midi.pt"}
