"""Background jobs of the window, one module each, all run by the one :class:`~gui.jobs.worker.Worker`.

- :mod:`gui.jobs.worker`: the generic worker (a QObject on its own QThread) every job runs on.
- :mod:`gui.jobs.runner`: one job at a time for the window: progress bar, Cancel, errors, ``jobFinished``.
- :mod:`gui.jobs.generate`: melody generation from the Compose panel's settings.
- :mod:`gui.jobs.continuation`: continuing one voice of a piece of several voices (the others kept as they are).
- :mod:`gui.jobs.harmony`: harmonize the melody, regenerate a selection, write a chorale.
- :mod:`gui.jobs.export`: render the piece to a WAV file.
- :mod:`gui.jobs.train`: the training run (on the training dialog's worker) and opening that dialog.
"""
