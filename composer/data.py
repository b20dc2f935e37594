"""Training data: find MIDI files, split them by file, encode them, and serve token batches.

The split is decided by a hash of each file's path relative to the corpus folder, so the same file lands
in the same split on every machine and every run, and adding files never moves old ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from composer.encoding import Vocabulary, encode, pitch_span, prepare, transpose_ids
from composer.midi_io import MidiReadError, read_midi

MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
SPLITS = ("train", "valid", "test")


@dataclass
class Corpus:
    """Encoded pieces of a folder, split by file.

    Attributes:
        root: the folder.
        sequences: split name -> list of int64 token arrays (each BOS ... EOS).
        files: split name -> relative paths, parallel to ``sequences``.
        skipped: (relative path, reason) for every file that was not used.
        fingerprint: sha256 over the relative paths and bytes of the files used.
    """

    root: Path
    sequences: dict[str, list[np.ndarray]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    files: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fingerprint: str = ""

    def num_tokens(self, split: str) -> int:
        return int(sum(len(s) for s in self.sequences[split]))

    def summary(self) -> dict:
        return {
            "files": {s: len(self.files[s]) for s in SPLITS},
            "tokens": {s: self.num_tokens(s) for s in SPLITS},
            "skipped": len(self.skipped),
        }


def find_midi_files(root: str | Path) -> list[Path]:
    """Every MIDI file under ``root`` (recursively), sorted.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)


def split_of(relative_path: str, valid_fraction: float, test_fraction: float) -> str:
    """``train``, ``valid`` or ``test`` for a file, from a stable hash of its relative path."""
    digest = hashlib.sha256(relative_path.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    if bucket < valid_fraction:
        return "valid"
    if bucket < valid_fraction + test_fraction:
        return "test"
    return "train"


def load_corpus(root: str | Path, vocab: Vocabulary, valid_fraction: float = 0.1, test_fraction: float = 0.05,
                min_notes: int = 8) -> Corpus:
    """Read, prepare and encode every MIDI file under ``root``.

    Files that cannot be read, have fewer than ``min_notes`` notes after preparation, or are not MIDI
    at all are listed in ``Corpus.skipped`` with the reason; they never stop the run.

    Args:
        root: corpus folder (searched recursively).
        vocab: the encoding to use.
        valid_fraction, test_fraction: share of files held out, decided per file by hash.
        min_notes: shortest usable piece.

    Returns:
        The corpus.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    corpus = Corpus(root)
    hasher = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if path.suffix.lower() not in MIDI_SUFFIXES:
            if not path.name.startswith(".") and path.name not in ("PROVENANCE.txt", "README.md", "LICENSE"):
                corpus.skipped.append((relative, "not a MIDI file (by its extension)"))
            continue
        try:
            piece = prepare(read_midi(path), vocab.config)
        except MidiReadError as error:
            corpus.skipped.append((relative, error.reason))
            continue
        if len(piece.notes) < min_notes:
            corpus.skipped.append((relative, f"{len(piece.notes)} usable notes, fewer than {min_notes}"))
            continue
        split = split_of(relative, valid_fraction, test_fraction)
        corpus.sequences[split].append(encode(piece, vocab))
        corpus.files[split].append(relative)
        hasher.update(relative.encode("utf-8") + b"\0" + path.read_bytes())
    corpus.fingerprint = hasher.hexdigest()
    return corpus


def transpose_randomly(sequences: list[np.ndarray], vocab: Vocabulary, semitones: tuple[int, int],
                       rng: np.random.Generator) -> list[np.ndarray]:
    """Each sequence moved by a random interval in ``semitones`` (inclusive), kept inside the pitch range.

    A piece too wide for part of the interval range is moved only within what fits.
    """
    low, high = semitones
    config = vocab.config
    out = []
    for ids in sequences:
        span = pitch_span(ids, vocab)
        if span is None or (low == 0 and high == 0):
            out.append(ids)
            continue
        lo = max(low, config.min_pitch - span[0])
        hi = min(high, config.max_pitch - span[1])
        shift = int(rng.integers(lo, hi + 1)) if lo <= hi else 0
        out.append(transpose_ids(ids, shift, vocab) if shift else ids)
    return out


def batchify(sequences: list[np.ndarray], batch_size: int) -> torch.Tensor:
    """Concatenate sequences into one stream and fold it into ``batch_size`` columns.

    As in pytorch/examples word_language_model: column b is a contiguous slice of the stream, and the
    model reads the columns in parallel, carrying its state from one chunk to the next.

    Returns:
        int64 [batch_size, N] (the stream's tail that does not fill a row is dropped).
    """
    stream = np.concatenate(sequences) if sequences else np.zeros(0, dtype=np.int64)
    columns = max(1, batch_size)
    length = len(stream) // columns
    if length < 2:
        raise ValueError(f"{len(stream)} tokens are too few for a batch of {columns} streams")
    return torch.from_numpy(stream[: length * columns].reshape(columns, length).copy())


def chunks(stream: torch.Tensor, bptt: int):
    """Yield (inputs, targets) chunks of at most ``bptt`` steps: [B, t] each, targets shifted by one."""
    for start in range(0, stream.size(1) - 1, bptt):
        length = min(bptt, stream.size(1) - 1 - start)
        yield stream[:, start:start + length], stream[:, start + 1:start + 1 + length]
