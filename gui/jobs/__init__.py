"""Background jobs of the window, one module each: on a thread (:class:`~gui.jobs.worker.Worker`) when the work is
torch with little Python in between, in a child process (:class:`~gui.jobs.process.ProcessWorker`) when its Python
would hold the interpreter and freeze the window. Both emit the same signals.

- :mod:`gui.jobs.worker`: the thread worker (a QObject on its own QThread).
- :mod:`gui.jobs.process`: the process worker (a spawned child, a pipe read by a timer, cancel and kill).
- :mod:`gui.jobs.child`: what runs inside the child (no Qt): the job looked up by name, its messages back.
- :mod:`gui.jobs.tasks`: the jobs a child runs: training, rendering a WAV file.
- :mod:`gui.jobs.errors`: the user's one-line message for a job's error (no Qt; used in the child too).
- :mod:`gui.jobs.runner`: one job at a time for the window: progress bar, Cancel, errors, ``jobFinished``.
- :mod:`gui.jobs.generate`: melody generation from the Compose panel's settings (thread).
- :mod:`gui.jobs.continuation`: continuing one voice of a piece of several voices (the others kept as they are).
- :mod:`gui.jobs.harmony`: harmonize the melody, regenerate a selection, write a chorale (thread).
- :mod:`gui.jobs.export`: render the piece to a WAV file (process).
- :mod:`gui.jobs.notation`: write the piece as MusicXML (process; the child's job is :mod:`gui.jobs.notation_task`).
- :mod:`gui.jobs.train`: the training process for the training dialog, and opening that dialog.
"""
