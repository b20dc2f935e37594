"""The one build step pyproject.toml cannot say: a built wheel (``pip install .``, ``pip wheel .``, pipx) carries the
shipped models inside the package, as ``composer/_data/models/`` (see :mod:`composer.shipped`, which looks there
when the source tree's ``midi_data/`` is not beside the package). An editable install reads ``midi_data/`` itself.

In the wheel: the models the commands and the app use by default (melody.pt, melody_chords.pt, chorale.pt), every
recipe (*.json) and the models' README. Left out: the training corpora and benchmark files (not needed to run), the
polyphonic benchmark models (jsb.pt, nottingham.pt, musedata.pt, piano_midi.pt: they score those benchmark
files) and the learning curves.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODELS = Path(__file__).resolve().parent / "midi_data" / "models"
SHIPPED_MODELS = ("melody.pt", "melody_chords.pt", "chorale.pt", "README.md")


def shipped_files() -> list[Path]:
    """The files of ``midi_data/models`` a wheel carries."""
    return [MODELS / name for name in SHIPPED_MODELS] + sorted(MODELS.glob("*.json"))


class BuildWithModels(build_py):
    """build_py that also copies the shipped models into the built package (not for an editable install)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "composer" / "_data" / "models"
        target.mkdir(parents=True, exist_ok=True)
        for path in shipped_files():
            shutil.copyfile(path, target / path.name)


setup(cmdclass={"build_py": BuildWithModels})
