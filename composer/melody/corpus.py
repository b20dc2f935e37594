"""Training data: find MIDI files, split them by file, encode them, and serve token batches.

The split is decided by a hash of each file's path relative to the corpus folder, so the same file lands
in the same split on every machine and every run, and adding files never moves old ones.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from composer.core.atomic import write_atomically
from composer.core.corpus_files import MIDI_SUFFIXES, SPLITS, corpus_entries, split_of
from composer.core.locks import try_lock
from composer.melody.encoding import EncodingConfig, Vocabulary, encode, pitch_span, prepare, transpose_ids
from composer.music.metre import Metre, metre_of
from composer.music.midi_io import MidiReadError, piece_from_bytes, read_midi_bytes, special_file_reason


@dataclass
class Corpus:
    """Encoded pieces of a folder, split by file.

    Attributes:
        root: the folder.
        sequences: split name -> list of int64 token arrays (each BOS ... EOS).
        files: split name -> relative paths, parallel to ``sequences``.
        skipped: (relative path, reason) for every file that was not used.
        fingerprint: sha256 over the relative paths and content hashes of the files used.
        stats: how the corpus was prepared: files, prepared, cached, workers, seconds, files_per_s.
        chords: split name -> int64 chord-code arrays parallel to ``sequences`` (one code per token,
            see :func:`composer.music.chords.token_chord_codes`); empty lists when chords were not labelled.
        metres: split name -> the bar lines of each piece (:func:`composer.music.metre.metre_of`, on the
            encoding's grid), parallel to ``sequences``; form inputs are computed from them.
    """

    root: Path
    sequences: dict[str, list[np.ndarray]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    files: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fingerprint: str = ""
    stats: dict = field(default_factory=dict)
    chords: dict[str, list[np.ndarray]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    metres: dict[str, list[Metre]] = field(default_factory=lambda: {s: [] for s in SPLITS})

    def num_tokens(self, split: str) -> int:
        return int(sum(len(s) for s in self.sequences[split]))

    def summary(self) -> dict:
        return {
            "files": {s: len(self.files[s]) for s in SPLITS},
            "tokens": {s: self.num_tokens(s) for s in SPLITS},
            "skipped": len(self.skipped),
        }


CACHE_VERSION = 3  # bump when what a cached entry means changes
_NOT_DATA = ("PROVENANCE.txt", "README.md", "README.txt", "LICENSE")


def default_cache_dir() -> Path:
    """Where prepared corpora are cached: ``$COMPOSER_CACHE_DIR``, else the XDG cache folder."""
    if os.environ.get("COMPOSER_CACHE_DIR"):
        return Path(os.environ["COMPOSER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "composer" / "corpora"


def prepare_file(path: str, config_dict: dict, min_notes: int,
                 chord_labels: str = "") -> tuple:
    """Read, prepare and encode one file (the unit of work of a preparation process).

    Args:
        chord_labels: "" for none, else a labelling method of :func:`composer.music.chords.label_piece`
            (the chord code of every token is then the fourth item).

    Returns:
        (sha256 of the file's bytes, token ids or None, reason it is unusable or "", chord codes or None,
        metre as (bar_ticks, beat_ticks, phase) or None).
    """
    vocab = _vocabulary(tuple(sorted(config_dict.items())))
    try:
        data = read_midi_bytes(path)  # read once: hashed here, parsed below
    except MidiReadError as error:
        return "", None, error.reason, None, None
    digest = hashlib.sha256(data).hexdigest()
    try:
        original = piece_from_bytes(data, path)
        piece = prepare(original, vocab.config)
    except MidiReadError as error:
        return digest, None, error.reason, None, None
    if len(piece.notes) < min_notes:
        return digest, None, f"{len(piece.notes)} usable notes, fewer than {min_notes}", None, None
    ids = encode(piece, vocab)
    metre = metre_of(piece)
    codes = None
    if chord_labels:  # per-token chord codes, labelled from the whole piece
        from composer.melody.conditioning import label_piece, token_chord_codes

        codes = token_chord_codes(ids, vocab.shift_steps, label_piece(original, piece, chord_labels))
    return digest, ids, "", codes, (metre.bar_ticks, metre.beat_ticks, metre.phase)


@functools.lru_cache(maxsize=4)
def _vocabulary(config_items: tuple) -> Vocabulary:
    return Vocabulary(EncodingConfig(**dict(config_items)))


def _prepare_many(paths: list[Path], vocab: Vocabulary, min_notes: int, workers: int,
                  chord_labels: str = "") -> list[tuple]:
    """:func:`prepare_file` over many files, in ``workers`` processes when there are enough files."""
    config = vocab.config.to_dict()
    if workers <= 1 or len(paths) < 64:
        return [prepare_file(str(p), config, min_notes, chord_labels) for p in paths]
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch threads
    try:
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            return list(pool.map(prepare_file, [str(p) for p in paths], [config] * len(paths),
                                 [min_notes] * len(paths), [chord_labels] * len(paths),
                                 chunksize=max(1, min(64, len(paths) // (4 * workers)))))
    except (concurrent.futures.process.BrokenProcessPool, RuntimeError, OSError):
        # workers could not start (e.g. a calling script without a __main__ guard): do it here
        return [prepare_file(str(p), config, min_notes, chord_labels) for p in paths]


def load_corpus(root: str | Path, vocab: Vocabulary, valid_fraction: float = 0.1, test_fraction: float = 0.05,
                min_notes: int = 8, workers: int = 0, cache_dir: str | Path | None = None,
                use_cache: bool = True, chord_labels: str = "") -> Corpus:
    """Read, prepare and encode every MIDI file under ``root``.

    Files that cannot be read, have fewer than ``min_notes`` notes after preparation, or are not MIDI
    at all are listed in ``Corpus.skipped`` with the reason; they never stop the run. Files are prepared
    in parallel worker processes, and the result is cached per corpus folder and encoding: a second run
    re-reads only files whose size or modification time changed.

    Args:
        root: corpus folder (searched recursively).
        vocab: the encoding to use.
        valid_fraction, test_fraction: share of files held out, decided per file by hash.
        min_notes: shortest usable piece.
        workers: preparation processes (0: one per CPU core; 1: none, work in this process).
        cache_dir: where to keep the cache (default :func:`default_cache_dir`).
        use_cache: False ignores and leaves any cache alone.
        chord_labels: "" for none, else how to label chords (see :func:`composer.music.chords.label_piece`);
            the codes go to ``Corpus.chords``.

    Returns:
        The corpus; ``Corpus.stats`` says how many files were prepared, cached, and how fast.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    started = time.perf_counter()
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    all_files = corpus_entries(root)   # devices and broken links too: listed as skipped, never read
    midi_files = [p for p in all_files if p.suffix.lower() in MIDI_SUFFIXES and special_file_reason(p) is None]
    cache_path = _cache_path(root, vocab, min_notes, cache_dir, chord_labels) if use_cache else None
    workers = workers or os.cpu_count() or 1
    entries, prepared = _encoded_entries(root, midi_files, vocab, min_notes, workers, cache_path, chord_labels)
    corpus = _split_corpus(root, all_files, entries, valid_fraction, test_fraction, chord_labels)
    seconds = time.perf_counter() - started
    corpus.stats = {"files": len(midi_files), "prepared": prepared, "cached": len(midi_files) - prepared,
                    "workers": workers if prepared >= 64 else 1, "seconds": seconds,
                    "files_per_s": len(midi_files) / seconds if seconds > 0 else 0.0}
    return corpus


def _encoded_entries(root: Path, midi_files: list[Path], vocab: Vocabulary, min_notes: int, workers: int,
                     cache_path: Path | None, chord_labels: str) -> tuple[dict[str, dict], int]:
    """Every MIDI file's entry (size, mtime_ns, sha256, reason, ids, chords) by its path relative to ``root``,
    and how many were prepared now.

    An entry comes from the cache at ``cache_path`` while the file's size and modification time are
    unchanged; the other files are prepared (in ``workers`` processes) and the cache rewritten.
    """
    cached = _read_cache(cache_path) if cache_path else {}
    entries, todo = {}, []
    for path in midi_files:
        relative = path.relative_to(root).as_posix()
        stat = path.stat()
        hit = cached.get(relative)
        if hit is not None and hit["size"] == stat.st_size and hit["mtime_ns"] == stat.st_mtime_ns:
            entries[relative] = hit
        else:
            todo.append((relative, path, stat))
    for (relative, _, stat), (digest, ids, reason, chords, metre) in zip(
            todo, _prepare_many([t[1] for t in todo], vocab, min_notes, workers, chord_labels)):
        entries[relative] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest,
                             "reason": reason, "ids": ids, "chords": chords, "metre": metre}
    if cache_path and todo:
        _write_cache(cache_path, entries)
    return entries, len(todo)


def _split_corpus(root: Path, all_files: list[Path], entries: dict[str, dict], valid_fraction: float,
                  test_fraction: float, chord_labels: str) -> Corpus:
    """The corpus of the usable entries, each in its file's split, with the fingerprint; every other file
    of ``all_files`` (unusable, or not MIDI) listed as skipped with its reason (hidden files and notes such
    as README.md are not)."""
    corpus = Corpus(root)
    hasher = hashlib.sha256()
    for path in all_files:
        relative = path.relative_to(root).as_posix()
        entry = entries.get(relative)
        if entry is None:
            if not path.name.startswith(".") and path.name not in _NOT_DATA:
                corpus.skipped.append((relative, special_file_reason(path) or "not a MIDI file (by its extension)"))
            continue
        if entry["ids"] is None:
            corpus.skipped.append((relative, entry["reason"]))
            continue
        split = split_of(relative, valid_fraction, test_fraction)
        corpus.sequences[split].append(entry["ids"])
        corpus.files[split].append(relative)
        corpus.metres[split].append(Metre(*entry["metre"]))
        if chord_labels:
            corpus.chords[split].append(entry["chords"])
        hasher.update(f"{relative}\0{entry['sha256']}\n".encode("utf-8"))
    corpus.fingerprint = hasher.hexdigest()
    return corpus


def _cache_path(root: Path, vocab: Vocabulary, min_notes: int, cache_dir, chord_labels: str = "") -> Path:
    """One cache file per (corpus folder, encoding, minimum length, cache version[, chord labels])."""
    parts = [str(root.resolve()), vocab.config.to_dict(), min_notes, CACHE_VERSION]
    if chord_labels:  # a separate cache that also holds chord codes; plain caches keep their names
        from composer.melody.conditioning import LABELS_VERSION

        parts.append(f"chords:{chord_labels}:{LABELS_VERSION}")
    key = json.dumps(parts, sort_keys=True)
    name = f"{root.resolve().name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    return Path(cache_dir or default_cache_dir()) / name


def _read_cache(path: Path) -> dict:
    """Entries of a cache file; an unreadable or foreign file counts as no cache."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            tokens, offsets = data["tokens"], data["offsets"]
            chords = data["chords"] if "chords" in data.files else None
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return {}
    entries = {}
    for item, (start, end) in zip(meta, zip(offsets[:-1], offsets[1:])):
        ids = tokens[start:end].astype(np.int64) if item["ok"] else None
        codes = chords[start:end].astype(np.int64) if item["ok"] and chords is not None else None
        if item["ok"] and not (isinstance(item.get("metre"), list) and len(item["metre"]) == 3):
            return {}    # an older cache: prepare again
        entries[item["file"]] = {"size": item["size"], "mtime_ns": item["mtime_ns"], "sha256": item["sha256"],
                                 "reason": item["reason"], "ids": ids, "chords": codes,
                                 "metre": tuple(item["metre"]) if item["ok"] else None}
    return entries


def _write_cache(path: Path, entries: dict) -> None:
    """Save entries as plain arrays plus JSON (never pickle), atomically; a failure only costs speed.

    The cache file's lock (composer.core.locks) is held while it is re-read and written: when another process
    holds it for more than a few seconds, or the cache already holds these entries, nothing is written.
    """
    meta, chunks_, offsets, chord_chunks = [], [], [0], []
    for relative, entry in sorted(entries.items()):
        ids = entry["ids"] if entry["ids"] is not None else np.zeros(0, dtype=np.int64)
        if entry.get("chords") is not None:
            chord_chunks.append(entry["chords"])
        meta.append({"file": relative, "size": entry["size"], "mtime_ns": entry["mtime_ns"],
                     "sha256": entry["sha256"], "reason": entry["reason"], "ok": entry["ids"] is not None,
                     "metre": [int(v) for v in entry["metre"]] if entry["ids"] is not None else None})
        chunks_.append(ids)
        offsets.append(offsets[-1] + len(ids))
    tokens = np.concatenate(chunks_).astype(np.int32) if chunks_ else np.zeros(0, dtype=np.int32)
    arrays = {"tokens": tokens, "offsets": np.asarray(offsets), "meta": np.asarray(json.dumps(meta))}
    usable = [e for e in entries.values() if e["ids"] is not None]
    if usable and all(e.get("chords") is not None for e in usable):
        arrays["chords"] = np.concatenate(chord_chunks).astype(np.int32)
    with try_lock(path) as held:   # concurrent trainings: one writes at a time, a busy cache is left to its writer
        if not held or _cache_is_current(path, entries):
            return
        try:
            write_atomically(path, lambda handle: np.savez(handle, **arrays))
        except OSError:
            pass


def _cache_is_current(path: Path, entries: dict) -> bool:
    """Whether the cache file already holds exactly these entries (another training just wrote them)."""
    fields = ("size", "mtime_ns", "sha256", "reason")
    on_disk = _read_cache(path)
    return on_disk.keys() == entries.keys() and all(
        all(on_disk[name][f] == entry[f] for f in fields) for name, entry in entries.items())


def transpose_randomly(sequences: list[np.ndarray], vocab: Vocabulary, semitones: tuple[int, int],
                       rng: np.random.Generator) -> list[np.ndarray]:
    """Each sequence moved by a random interval in ``semitones`` (inclusive), kept inside the pitch range.

    A piece too wide for part of the interval range is moved only within what fits.
    """
    shifts = random_shifts(sequences, vocab, semitones, rng)
    return [transpose_ids(ids, shift, vocab) if shift else ids for ids, shift in zip(sequences, shifts)]


def random_shifts(sequences: list[np.ndarray], vocab: Vocabulary, semitones: tuple[int, int],
                  rng: np.random.Generator) -> list[int]:
    """The intervals :func:`transpose_randomly` moves each sequence by (so chord labels can follow)."""
    low, high = semitones
    config = vocab.config
    shifts = []
    for ids in sequences:
        span = pitch_span(ids, vocab)
        if span is None or (low == 0 and high == 0):
            shifts.append(0)
            continue
        lo = max(low, config.min_pitch - span[0])
        hi = min(high, config.max_pitch - span[1])
        shifts.append(int(rng.integers(lo, hi + 1)) if lo <= hi else 0)
    return shifts


def batchify(sequences: list[np.ndarray], batch_size: int) -> torch.Tensor:
    """Concatenate sequences into one stream and fold it into ``batch_size`` columns.

    As in pytorch/examples word_language_model: column b is a contiguous slice of the stream, and the
    model reads the columns in parallel, carrying its state from one chunk to the next.

    Args:
        sequences: arrays [T, ...] (token ids [T], or per-token features [T, K]).

    Returns:
        int64 [batch_size, N, ...] (the stream's tail that does not fill a row is dropped).
    """
    stream = np.concatenate(sequences) if sequences else np.zeros(0, dtype=np.int64)
    columns = max(1, batch_size)
    length = len(stream) // columns
    if length < 2:
        raise ValueError(f"{len(stream)} tokens are too few for a batch of {columns} streams")
    return torch.from_numpy(stream[: length * columns].reshape(columns, length, *stream.shape[1:]).copy())


def chunks(stream: torch.Tensor, bptt: int):
    """Yield (inputs, targets) chunks of at most ``bptt`` steps: [B, t] each, targets shifted by one."""
    for start in range(0, stream.size(1) - 1, bptt):
        length = min(bptt, stream.size(1) - 1 - start)
        yield stream[:, start:start + length], stream[:, start + 1:start + 1 + length]
