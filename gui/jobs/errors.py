"""The user's message for a job's error. No Qt here: these run in a job's child process too (:mod:`gui.jobs.child`).

The error classes are imported only when an error is described, so that a child that never fails never imports
torch for them.
"""

from __future__ import annotations

import traceback


def user_errors() -> tuple[type[Exception], ...]:
    """The errors whose message is meant for the user; anything else is a bug and is reported with its type."""
    from composer.core.modelfile import ModelFileError
    from composer.music.midi_io import MidiReadError

    return (ValueError, ModelFileError, MidiReadError, OSError)


def user_message(error: Exception, label: str) -> str:
    """The message shown for a job's error.

    Args:
        error: what the job raised.
        label: the job's name, e.g. "Generation".

    Returns:
        The error's own text for the errors meant for the user (:func:`user_errors`); for anything else
        (a bug) the label, the error's type and text, after printing the traceback.
    """
    if isinstance(error, user_errors()):
        return str(error)
    traceback.print_exception(error)
    return f"{label} failed: {type(error).__name__}: {error}"


def training_error_message(error: Exception, _label: str = "Training") -> str:
    """The training dialog's message for an error of the run (the dialog must survive anything).

    Args:
        error: what the trainer raised.
        _label: unused (the signature of every ``describe_error``).

    Returns:
        The trainer's own text for its errors and a bad model file; "Not found: PATH" for a missing file;
        "Training stopped: ..." for other input and output errors; the type and text for anything else.
    """
    from composer.core.modelfile import ModelFileError
    from composer.melody.train import TrainingError

    if isinstance(error, (TrainingError, ModelFileError)):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return f"Not found: {error.filename or error}"
    if isinstance(error, (OSError, ValueError)):
        return f"Training stopped: {error}"
    traceback.print_exception(error)
    return f"Training failed unexpectedly: {type(error).__name__}: {error}"


def export_error_message(error: Exception, _label: str = "Export WAV") -> str:
    """The message for an error of a WAV export.

    Args:
        error: what the renderer raised.
        _label: unused (the signature of every ``describe_error``).

    Returns:
        "cannot write PATH: ..." for a file that cannot be written, the renderer's text for a piece it refuses,
        the type and text for anything else.
    """
    if isinstance(error, OSError):
        return f"cannot write {error.filename or 'the file'}: {error.strerror or error}"
    if isinstance(error, ValueError):
        return str(error)
    traceback.print_exception(error)
    return f"Export WAV failed: {type(error).__name__}: {error}"
