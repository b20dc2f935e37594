"""Long work off the GUI thread: a worker runs one function in a QThread and only emits signals.

The function receives a ``progress(done, total) -> bool`` callback; it returns True once the user asked
to cancel, which is what the library's ``on_step`` callbacks want. Results come back through
``finished``, errors as a user-facing message through ``failed``.
"""

from __future__ import annotations

import threading
import traceback
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from composer.core.modelfile import ModelFileError
from composer.melody.generate import GenerationRequest, GenerationResult, generate
from composer.music.midi_io import MidiReadError
from composer.music.notes import Piece, TimeSignature

Progress = Callable[[int, int], bool]

# Errors whose message is meant for the user; anything else is a bug and is reported with its type.
USER_ERRORS = (ValueError, ModelFileError, MidiReadError, OSError)


class Worker(QThread):
    """Runs ``job(progress)`` on its own thread.

    Signals:
        progress(int, int): (done, total) as reported by the job.
        succeeded(object): the job's return value.
        failed(str): a message for the user.
        cancelled(): the job stopped because :meth:`cancel` was called (``succeeded`` still follows
            when the job returns partial results).
    """

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, job: Callable[[Progress], object], label: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.label = label
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _report(self, done: int, total: int) -> bool:
        self.progress.emit(int(done), int(total))
        return self._cancel.is_set()

    def run(self) -> None:  # runs on the worker thread
        try:
            result = self.job(self._report)
        except USER_ERRORS as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # a bug: say what it was rather than dying silently
            traceback.print_exc()
            self.failed.emit(f"{self.label} failed: {type(error).__name__}: {error}")
            return
        if self._cancel.is_set():
            self.cancelled.emit()
        self.succeeded.emit(result)


def generation_job(model, vocab, request: GenerationRequest, primer: Piece | None) -> Callable[[Progress], GenerationResult]:
    """A job that generates melodies, reporting progress as the share of the requested time filled.

    Args:
        model, vocab: from :func:`composer.core.modelfile.load_model`.
        request: what to generate.
        primer: music to continue, or None.
    """
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
