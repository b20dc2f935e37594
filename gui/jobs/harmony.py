"""4-part jobs: harmonize the melody, regenerate a selected region, write a chorale from scratch.

Each takes the Compose panel's Harmony settings (count, temperature, seed, bars for a chorale:
:class:`gui.harmony_box.HarmonyBox`, apart from the melody's) and the panel's key, runs the harmony model on a worker,
and lists its results. Without a harmony model, or with nothing to work on, it says why and starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject

from composer.music.notes import Piece, select_voices
from gui.document import Document
from gui.generate_panel import GeneratePanel, Variation
from gui.jobs.runner import JobRunner
from gui.jobs.worker import Progress
from gui.messages import Messages
from gui.models import ModelStore
from gui.piano_roll import RollCanvas

NO_HARMONY_MODEL = ("no 4-part harmony model was found (midi_data/models/chorale.pt, "
                    "or train one with: composer train --task harmony)")
MELODY = 0  # the soprano: rewritten only when its box is ticked by the user


@dataclass(frozen=True)
class RegionVariation(Variation):
    """A regenerated result: ``changed`` is the (start, end) ticks it wrote again (shaded in its preview)."""

    changed: tuple[int, int] | None = None


def voices_to_tick(selected: list[int], ticked: list[int]) -> list[int]:
    """The voice boxes to tick for a selection: the accompanying voices of the selected notes, and the melody
    only if its box already is (selecting soprano notes never ticks it: rewriting the melody is a choice)."""
    return sorted({v for v in selected if v != MELODY} | ({MELODY} & set(ticked)))


def _inference(name: str) -> Callable[..., Any] | None:
    """A function of :mod:`composer.harmony.inference`, or None when harmony is not in this version."""
    try:
        from composer.harmony import inference
    except ImportError:
        return None
    return getattr(inference, name, None)


class HarmonyJobs(QObject):
    """Harmonize, regenerate and chorale: start the job, then list its results.

    Args:
        runner: runs the jobs (one at a time).
        panel: the Compose panel (harmony model, count, temperature, seed, key, voices, results).
        store: loads the harmony model (on the worker thread).
        document: the piece worked on.
        canvas: the piano roll (the selected region).
        messages: where messages and errors go.
        parent: Qt parent.
    """

    def __init__(self, runner: JobRunner, panel: GeneratePanel, store: ModelStore, document: Document,
                 canvas: RollCanvas, messages: Messages, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.panel = panel
        self.store = store
        self.document = document
        self.canvas = canvas
        self.messages = messages

    def harmonize(self) -> bool:
        """Harmonize the melody (voice 0) in four parts; the results go to the results list."""
        harmonize = _inference("harmonize")
        if harmonize is None:
            return self._refuse("Cannot harmonize", "4-part harmonization is not available in this version")
        melody = self._melody()
        if not melody.notes:
            return self._refuse("Cannot harmonize",
                                "there is no melody: open a file, draw notes or use a variation")
        count, temperature, seed = self._choices()
        store, path = self.store, self.panel.harmony_model_path()
        if path is None:
            return self._refuse("Cannot harmonize", NO_HARMONY_MODEL)
        key = self._key_option()

        def job(progress: Progress):
            return harmonize(store.harmony(path), melody, count=count, temperature=temperature, seed=seed,
                             on_step=progress, **key)

        return self.runner.start(job, "Harmonization", lambda result: self._show(result, "Harmonization"))

    def regenerate_selection(self) -> bool:
        """Regenerate the selected time range in the ticked voices (a 4-part piece)."""
        regenerate_region = _inference("regenerate_region")
        if regenerate_region is None:
            return self._refuse("Cannot regenerate", "4-part regeneration is not available in this version")
        region, voices = self.canvas.selected_region(), self.panel.selected_voices()
        if region is None or not voices:
            return self._refuse("Cannot regenerate", "select the notes of a region first (shift+drag) and "
                                                     "tick the voices to write again (the Soprano is rewritten "
                                                     "only when you tick it)")
        start, end, _ = region
        piece = self.document.piece
        count, temperature, seed = self._choices()
        store, path = self.store, self.panel.harmony_model_path()
        if path is None:
            return self._refuse("Cannot regenerate", NO_HARMONY_MODEL)

        def job(progress: Progress):
            return regenerate_region(store.harmony(path), piece, start, end, voices, count=count,
                                     temperature=temperature, seed=seed, on_step=progress)

        label = f"Regenerated {bar_span(piece, start, end)}"
        return self.runner.start(job, "Regeneration", lambda result: self._show(result, label, (start, end)))

    def new_chorale(self) -> bool:
        """Write 4-part chorales from scratch (as many bars as the Harmony group says); results go to the list."""
        generate_chorale = _inference("generate_chorale")
        if generate_chorale is None:
            return self._refuse("Cannot write a chorale", "4-part writing is not available in this version")
        count, temperature, seed = self._choices()
        store, path, bars = self.store, self.panel.harmony_model_path(), self.panel.harmony_box.chorale_bars()
        if path is None:
            return self._refuse("Cannot write a chorale", NO_HARMONY_MODEL)
        key = self._key_option()

        def job(progress: Progress):
            return generate_chorale(store.harmony(path), bars, count=count, temperature=temperature, seed=seed,
                                    on_step=progress, **key)

        return self.runner.start(job, "Chorale", lambda result: self._show(result, "Chorale"))

    # -- helpers -------------------------------------------------------------------------------
    def _refuse(self, title: str, text: str) -> bool:
        self.messages.show_error(title, text)
        return False

    def _melody(self) -> Piece:
        """The melody to harmonize: voice 0 of the piece."""
        piece = self.document.piece
        return select_voices(piece, [0]) if len(piece.voices) > 1 else piece

    def _choices(self) -> tuple[int, float, int | None]:
        """(count, temperature, seed or None for a random one) from the panel's Harmony group."""
        return self.panel.harmony_box.choices()

    def _key_option(self) -> dict[str, str]:
        """``{"key": ...}`` when the panel names a key; empty for the music's own key (signature, else estimated)."""
        key = self.panel.key()
        return {"key": key} if key else {}

    def _show(self, result, label: str, changed: tuple[int, int] | None = None) -> None:
        """List a harmony job's results (``changed``: the ticks a regeneration wrote) and say what was written."""
        if result is None:  # cancelled inside the library
            return
        variations = [RegionVariation(piece, f"{label} {i + 1}", piece.end, result.seed, changed=changed)
                      for i, piece in enumerate(result.pieces)]
        self.panel.show_results(variations, label)
        self.panel.harmony_box.show_seed(result.seed)
        key = getattr(result, "key", None)
        chords = getattr(result, "chords_reduced", 0)
        sung = f"; the melody's {chords} chord(s) sung as their top note" if chords else ""
        self.messages.show_message(f"{label}{f' in {key}' if key else ''}: {len(variations)} result(s) in "
                                   f"{result.seconds:.1f} s (seed {result.seed}){sung}")


def bar_span(piece: Piece, start: int, end: int) -> str:
    """``"bars 3-4"``: the bars (numbered from 1) that ticks ``start``..``end`` cover."""
    return f"bars {start // piece.ticks_per_bar + 1}-{(end - 1) // piece.ticks_per_bar + 1}"
