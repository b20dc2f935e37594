"""Generate: melodies from the Compose panel's settings, in the background, into the results list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject

from composer.music.notes import Piece, TimeSignature
from gui.document import Document
from gui.generate_panel import GeneratePanel, Variation
from gui.jobs.continuation import continues_one_voice, melody_voice, merge_continuation, voice_name, voice_primer
from gui.jobs.runner import JobRunner
from gui.jobs.worker import Progress
from gui.messages import Messages
from gui.models import ModelStore
from gui.piano_roll import RollCanvas

if TYPE_CHECKING:   # the generation library imports torch: imported by the job, on the worker thread
    from composer.melody.generate import GenerationRequest, GenerationResult


def generation_job(model, vocab, request: GenerationRequest,
                   primer: Piece | None) -> Callable[[Progress], GenerationResult]:
    """A job that generates melodies, reporting progress as the share of the requested time filled.

    Args:
        model, vocab: from :meth:`gui.models.ModelStore.melody`.
        request: what to generate.
        primer: music to continue, or None.

    Returns:
        The job: called with a progress callback (see :class:`~gui.jobs.worker.JobControl`), it returns
        the generation's result.
    """
    from composer.melody.generate import generate

    shift_steps = np.asarray(vocab.shift_steps)

    def job(progress: Progress) -> GenerationResult:
        signature = primer.time_signatures[0] if primer is not None else TimeSignature(0, 4, 4)
        target = request.bars * signature.ticks_per_bar(vocab.config.ticks_per_beat)
        cursor = np.zeros(request.count, dtype=np.int64)

        def on_step(step: int, tokens) -> bool:
            cursor[:] += shift_steps[np.asarray(tokens)]
            done = int(np.minimum(cursor, target).mean())
            return progress(min(done, target - 1), target)

        result = generate(model, vocab, request, primer=primer, on_step=on_step)
        progress(target, target)
        return result

    return job


class GenerateJob(QObject):
    """Starts generation with the panel's settings and lists the variations when it is done.

    Args:
        runner: runs the job (one at a time).
        panel: the Compose panel (model, settings, results).
        store: loads the melody model (on the worker thread).
        document: the piece, continued when "Continue from the current piece" is ticked.
        messages: where messages and errors go.
        parent: Qt parent.
        canvas: the piano roll; with a piece of several voices and a one-line melody model, the voice of its
            selected notes is the one continued (else the highest voice), and the other voices are kept.
    """

    def __init__(self, runner: JobRunner, panel: GeneratePanel, store: ModelStore, document: Document,
                 messages: Messages, parent: QObject | None = None, canvas: RollCanvas | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.panel = panel
        self.store = store
        self.document = document
        self.messages = messages
        self.canvas = canvas

    def generate(self) -> bool:
        """Generate variations with the panel's settings (in a worker). Returns False when it cannot start."""
        path = self.panel.model_path()
        if not path:
            self.messages.show_error("Cannot generate", "no melody model: add a model file or train one")
            return False
        try:
            request = self.panel.request()
        except ValueError as error:
            self.messages.show_error("Cannot generate", str(error))
            return False
        primer = self._primer()
        store = self.store
        voice = melody_voice(primer, self.canvas.selection if self.canvas else ()) if primer is not None else 0

        def job(progress: Progress) -> tuple[GenerationResult, str]:
            model, vocab, _checkpoint = store.melody(path)
            if not continues_one_voice(vocab.config, primer):
                return generation_job(model, vocab, request, primer)(progress), ""
            result = generation_job(model, vocab, request, voice_primer(primer, voice))(progress)
            return merge_continuation(primer, voice, result, vocab.config), voice_name(primer, voice)

        return self.runner.start(job, "Generation", lambda done: self._show_generated(*done, Path(path).stem))

    def _primer(self) -> Piece | None:
        """The piece to continue: the document's, when the panel says so and it has notes."""
        primer = self.document.piece if self.panel.continue_check.isChecked() else None
        return primer if primer is not None and primer.notes else None

    def _show_generated(self, result: GenerationResult, continued: str, model_name: str) -> None:
        """List the variations and say what was made (and, when one voice of several was continued, which)."""
        variations = [Variation(piece, f"Variation {i + 1}", result.length_ticks, result.seed, result.primer_ticks,
                                tuple(result.chord_spans)) for i, piece in enumerate(result.pieces)]
        self.panel.show_results(variations)
        self.panel.seed_spin.setValue(result.seed)  # untick Random to make the same music again
        kept = (f". Continued the {continued}; the other voices are kept as they were — use Harmonize to "
                "extend them") if continued else ""
        self.messages.show_message(f"{len(variations)} variations from {model_name} in {result.seconds:.1f} s "
                                   f"(seed {result.seed}){kept}")
