"""The jobs that run in a child process (:mod:`gui.jobs.process`), named ``"gui.jobs.tasks:FUNCTION"``. No Qt here.

Each takes a control (:class:`gui.jobs.child.ChildControl`) and plain, picklable arguments, and returns something
small: whatever it returns is pickled back to the app.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.melody.train import TrainConfig
    from composer.music.notes import Piece
    from gui.jobs.child import ChildControl

TRAIN_MODEL = "gui.jobs.tasks:train_model"
RENDER_WAV = "gui.jobs.tasks:render_wav"


def resume_summary(checkpoint: dict) -> dict | None:
    """``{"epoch": done, "epochs": planned, "history", "finished"}`` of a model file's contents with resume state,
    else None. ``finished``: the run ended by itself (the trainer records its ``stop_reason`` in the recipe then:
    all epochs, early stop or time limit), or all planned epochs are done; nothing to resume.

    Args:
        checkpoint: a model file's dict (:func:`composer.core.modelfile.load_checkpoint`, or what the trainer
            returned).
    """
    if "resume" not in checkpoint:
        return None
    recipe = checkpoint.get("recipe", {})
    planned, done = int(recipe.get("config", {}).get("epochs", 0)), int(checkpoint.get("epoch", 0))
    return {"epoch": done, "epochs": planned, "history": list(checkpoint.get("history", [])),
            "finished": "stop_reason" in recipe or (planned > 0 and done >= planned)}


def train_model(control: ChildControl, data_dir: str, out_path: str, config: TrainConfig, resume: bool,
                threads: int) -> dict:
    """Run :func:`composer.melody.train.train` (in the child process).

    Args:
        control: the trainer's event dicts go to ``control.report`` (when resuming, first ``{"event": "history",
            "history"}``: the learning curve so far, for the plot); ``control.should_stop`` asks the trainer to
            stop after the current step (it then saves a resumable model file).
        data_dir: the MIDI folder.
        out_path: the model file.
        config: the recipe (ignored by the trainer when resuming: the file's own is used).
        resume: continue the run saved in ``out_path``.
        threads: torch CPU threads for the run (and corpus preparation processes).

    Returns:
        ``{"path", "epoch", "resume"}``: the model file written, its epochs and its :func:`resume_summary` (so that
        the app need not read the file again; not the checkpoint itself, which is large).

    Raises:
        TrainingError, ModelFileError, OSError, ValueError: as the trainer raises them.
    """
    import torch

    from composer.melody.train import train

    torch.set_num_threads(threads)
    if resume:
        control.report({"event": "history", "history": _saved_history(out_path)})
    checkpoint = train(data_dir, out_path, config, resume=resume, progress=control.report,
                       should_stop=control.should_stop, workers=threads)
    return {"path": str(out_path), "epoch": int(checkpoint.get("epoch", 0)), "resume": resume_summary(checkpoint)}


def _saved_history(path: str | os.PathLike) -> list[dict]:
    """The learning curve saved in a model file; empty when it cannot be read (the trainer then says why)."""
    from composer.core.modelfile import ModelFileError, load_checkpoint

    try:
        return list(load_checkpoint(path).get("history", []))
    except (ModelFileError, OSError):
        return []


def render_wav(control: ChildControl, piece: Piece, path: str, partial_path: str) -> str:
    """Render ``piece`` with :func:`gui.synth.export_wav` into ``partial_path``, then rename it to ``path``.

    The parent deletes ``partial_path`` when it stops the child half-way, so a cancelled export leaves neither a
    half-written file nor a changed ``path``.

    Args:
        control: unused but for the contract (the renderer reports no progress).
        piece: what to render.
        path: the WAV file.
        partial_path: a file name in the same folder as ``path``, written first.

    Returns:
        ``path``.

    Raises:
        OSError: a file cannot be written.
        ValueError: a piece the renderer refuses.
    """
    from gui.synth import export_wav

    del control
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        export_wav(piece, partial_path)
        os.replace(partial_path, path)
    except OSError as error:
        Path(partial_path).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror or str(error), str(path)) from error  # name the user's file
    except BaseException:
        Path(partial_path).unlink(missing_ok=True)
        raise
    return str(path)
