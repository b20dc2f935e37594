"""Corpus folders: which files are MIDI files, and which split (train, valid, test) each file belongs to.

The split is decided by a hash of each file's path relative to the corpus folder, so the same file lands
in the same split on every machine and every run, and adding files never moves old ones.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


SPLITS = ("train", "valid", "test")


def find_midi_files(root: str | Path) -> list[Path]:
    """Every MIDI file under ``root`` (recursively), sorted: every entry named as MIDI that is not a folder, so
    that a link to a device, a named pipe or a broken link is listed by its reader, which refuses it unread
    (:func:`composer.music.midi_io.read_midi`), instead of vanishing from the report.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    return sorted(p for p in corpus_entries(root) if p.suffix.lower() in MIDI_SUFFIXES)


def corpus_entries(root: str | Path) -> list[Path]:
    """Every entry under ``root`` (recursively) but folders: regular files, and links or special files (devices,
    pipes, links to nothing), which the corpus reports list as skipped with the reason
    (:func:`composer.music.midi_io.special_file_reason`).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    return sorted(p for p in root.rglob("*") if not p.is_dir())


def split_of(relative_path: str, valid_fraction: float, test_fraction: float) -> str:
    """``train``, ``valid`` or ``test`` for a file, from a stable hash of its relative path."""
    digest = hashlib.sha256(relative_path.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    if bucket < valid_fraction:
        return "valid"
    if bucket < valid_fraction + test_fraction:
        return "test"
    return "train"


def count_splits(root: str | Path, valid_fraction: float, test_fraction: float,
                 limit: int | None = None) -> dict[str, int] | None:
    """How many of the MIDI files under ``root`` (those :func:`find_midi_files` finds) each split gets.

    No file is opened: the split comes from each file's relative path (:func:`split_of`), so this is cheap
    enough to tell a user at once that a corpus is too small to validate on.

    Args:
        root: the corpus folder.
        valid_fraction, test_fraction: as for :func:`split_of`.
        limit: give up (None) after looking at this many folder entries; None looks at all.

    Returns:
        ``{"train": n, "valid": n, "test": n}``, or None past ``limit``.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    counts = dict.fromkeys(SPLITS, 0)
    seen = 0
    for folder, folders, names in os.walk(root):
        seen += len(folders) + len(names)
        if limit is not None and seen > limit:
            return None
        relative_folder = Path(folder).relative_to(root)
        for name in names:
            if os.path.splitext(name)[1].lower() in MIDI_SUFFIXES:
                relative = (relative_folder / name).as_posix()
                counts[split_of(relative, valid_fraction, test_fraction)] += 1
    return counts
