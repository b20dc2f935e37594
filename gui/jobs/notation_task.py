"""Export MusicXML's child-process job (:mod:`gui.jobs.process`), named :data:`WRITE_MUSICXML`. No Qt here: the
child imports only this module and the library.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.music.notes import Piece
    from gui.jobs.child import ChildControl

WRITE_MUSICXML = "gui.jobs.notation_task:write_musicxml"
DESCRIBE_ERROR = "gui.jobs.notation_task:score_error_message"


def write_musicxml(control: ChildControl, piece: Piece, path: str) -> str:
    """Write ``piece`` as a MusicXML score into ``path`` (atomically: a cancelled export leaves ``path`` as it was).

    Args:
        control: unused but for the contract (writing a score reports no progress).
        piece: the piece the piano roll shows.
        path: the .musicxml file.

    Returns:
        The status line: the file and the key it is written in, with where that key comes from.

    Raises:
        NotationError: the score cannot be made or written.
    """
    from composer.music.notation import write_musicxml as write

    written = write(piece, Path(path))
    key = f" in {written.name} ({'estimated' if written.source == 'estimated' else 'the piece’s key'})" \
        if written.name else ""
    return f"Exported {os.fspath(path)}{key}"


def score_error_message(error: Exception, _label: str = "Export MusicXML") -> str:
    """The one-line message for an error of Export MusicXML: the score module's reason, a file that cannot be
    written, or the type and text of anything else (its traceback goes to stderr)."""
    from composer.music.notation import NotationError

    if isinstance(error, NotationError):
        return str(error)
    if isinstance(error, OSError):
        return f"cannot write {error.filename or 'the file'}: {error.strerror or error}"
    traceback.print_exception(error)
    return f"{type(error).__name__}: {error}"
