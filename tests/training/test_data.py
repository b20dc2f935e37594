"""Training data: split by hash, corpus loading with bad files, batches, transposition."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.core.corpus_files import MIDI_SUFFIXES, find_midi_files, split_of
from composer.melody.corpus import batchify, chunks, load_corpus, transpose_randomly
from composer.melody.encoding import BOS, EOS, Vocabulary, decode, encode, prepare
from composer.music.midi_io import read_midi, write_midi
from composer.music.notes import Note, Piece

from .conftest import FOLK, MICRO_CONFIG, copy_folk_subset, folk_files


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary(MICRO_CONFIG.encoding_config())


@pytest.fixture(scope="module")
def folk_relative_paths() -> list[str]:
    return [p.relative_to(FOLK).as_posix() for p in folk_files()]


# -- split_of ------------------------------------------------------------------------------------
def test_bundled_corpus_is_complete(folk_relative_paths):
    assert len(folk_relative_paths) == 4248
    assert {p.split("/")[0] for p in folk_relative_paths} == {"airdsAirs", "oneills1850", "ryansMammoth"}


def test_split_is_deterministic(folk_relative_paths):
    first = [split_of(p, 0.1, 0.05) for p in folk_relative_paths]
    second = [split_of(p, 0.1, 0.05) for p in reversed(folk_relative_paths)]
    assert first == second[::-1]


def test_split_matches_the_fractions(folk_relative_paths):
    counts = Counter(split_of(p, 0.1, 0.05) for p in folk_relative_paths)
    n = len(folk_relative_paths)
    assert set(counts) == {"train", "valid", "test"}
    assert abs(counts["valid"] / n - 0.10) < 0.02, counts
    assert abs(counts["test"] / n - 0.05) < 0.015, counts
    assert abs(counts["train"] / n - 0.85) < 0.025, counts
    other = Counter(split_of(p, 0.3, 0.2) for p in folk_relative_paths)
    assert abs(other["valid"] / n - 0.3) < 0.03 and abs(other["test"] / n - 0.2) < 0.03, other


def test_split_depends_on_the_path_not_the_order_or_neighbours(folk_relative_paths):
    sample = folk_relative_paths[::50]
    alone = {p: split_of(p, 0.1, 0.05) for p in sample}
    # growing the held-out share only moves files out of train, never between valid and test oddly
    for p in sample:
        if alone[p] == "valid":
            assert split_of(p, 0.2, 0.05) == "valid"
        if alone[p] != "train":
            assert split_of(p, 0.2, 0.1) != "train"
    assert all(split_of(p, 0.0, 0.0) == "train" for p in sample)


def test_split_uses_the_documented_hash():
    assert split_of("a/b.mid", 0.5, 0.2) == split_of("a/b.mid", 0.5, 0.2)
    # a pinned value: the documented hash (first 8 bytes of sha256, big endian) of this name
    import hashlib
    bucket = int.from_bytes(hashlib.sha256(b"airdsAirs/book1_0000.mid").digest()[:8], "big") / 2**64
    expected = "valid" if bucket < 0.1 else "test" if bucket < 0.15 else "train"
    assert split_of("airdsAirs/book1_0000.mid", 0.1, 0.05) == expected


# -- load_corpus ------------------------------------------------------------------------------------
def write_short_piece(path: Path, notes: int) -> None:
    piece = Piece(notes=tuple(Note(48 * i, 48 * i + 24, 60 + i, 90) for i in range(notes)), ticks_per_beat=96)
    write_midi(piece, path)


@pytest.fixture
def messy_folder(tmp_path) -> Path:
    root = tmp_path / "messy"
    root.mkdir()
    copy_folk_subset(root, 6, offset=3)                        # inside their collection sub-folders
    extra = root / "more" / "deeper"
    extra.mkdir(parents=True)
    shutil.copyfile(folk_files()[100], extra / "tune.MID")     # upper-case suffix counts as MIDI
    shutil.copyfile(folk_files()[200], root / "top.midi")
    (root / "corrupt.mid").write_bytes(np.random.default_rng(0).bytes(300))
    (root / "empty.mid").write_bytes(b"")
    (root / "notes.txt").write_text("not music")
    (root / "README.md").write_text("about this folder")     # documentation is ignored silently
    (root / ".hidden.txt").write_text("dot files too")
    write_short_piece(root / "short.mid", 3)
    return root


def test_load_corpus_uses_good_files_and_lists_bad_ones(messy_folder, vocab):
    corpus = load_corpus(messy_folder, vocab, valid_fraction=0.3, test_fraction=0.1)
    used = sorted(f for split in ("train", "valid", "test") for f in corpus.files[split])
    good = sorted(p.relative_to(messy_folder).as_posix() for p in messy_folder.rglob("*")
                  if p.is_file() and p.parent != messy_folder or p.name == "top.midi")
    assert used == good
    assert "more/deeper/tune.MID" in used and "top.midi" in used
    skipped = dict(corpus.skipped)
    assert set(skipped) == {"corrupt.mid", "empty.mid", "notes.txt", "short.mid"}
    assert "not a MIDI file" in skipped["notes.txt"]
    assert "3 usable notes" in skipped["short.mid"] and "fewer than 8" in skipped["short.mid"]
    assert skipped["corrupt.mid"] and skipped["empty.mid"]
    for split in ("train", "valid", "test"):
        assert len(corpus.sequences[split]) == len(corpus.files[split])
        for relative, ids in zip(corpus.files[split], corpus.sequences[split]):
            assert split_of(relative, 0.3, 0.1) == split
            assert ids[0] == BOS and ids[-1] == EOS and ids.dtype == np.int64
    summary = corpus.summary()
    assert sum(summary["files"].values()) == 8 and summary["skipped"] == 4
    assert summary["tokens"]["train"] == sum(len(s) for s in corpus.sequences["train"])


def test_corpus_sequences_are_the_encoded_files(messy_folder, vocab):
    corpus = load_corpus(messy_folder, vocab)
    split = next(s for s in ("train", "valid", "test") if corpus.files[s])
    relative, ids = corpus.files[split][0], corpus.sequences[split][0]
    expected = encode(prepare(read_midi(messy_folder / relative), vocab.config), vocab)
    assert np.array_equal(ids, expected)
    assert decode(ids, vocab).notes == prepare(read_midi(messy_folder / relative), vocab.config).notes


def test_min_notes_threshold(messy_folder, vocab):
    corpus = load_corpus(messy_folder, vocab, min_notes=3)
    assert "short.mid" not in dict(corpus.skipped)
    assert any("short.mid" in corpus.files[s] for s in ("train", "valid", "test"))


def test_fingerprint_tracks_the_files_used(messy_folder, vocab):
    first = load_corpus(messy_folder, vocab).fingerprint
    assert len(first) == 64
    assert load_corpus(messy_folder, vocab).fingerprint == first
    (messy_folder / "notes.txt").write_text("skipped files do not count")
    assert load_corpus(messy_folder, vocab).fingerprint == first
    shutil.copyfile(folk_files()[300], messy_folder / "top.midi")     # a used file changes
    assert load_corpus(messy_folder, vocab).fingerprint != first


def test_find_midi_files(messy_folder):
    found = find_midi_files(messy_folder)
    assert found == sorted(found)
    assert all(p.suffix.lower() in MIDI_SUFFIXES for p in found)
    assert {p.name for p in found} >= {"corrupt.mid", "empty.mid", "short.mid", "tune.MID", "top.midi"}
    with pytest.raises(FileNotFoundError):
        find_midi_files(messy_folder / "missing")
    with pytest.raises(FileNotFoundError):
        find_midi_files(messy_folder / "notes.txt")


def test_load_corpus_of_a_missing_folder_raises(tmp_path, vocab):
    """Documented: ``load_corpus`` raises FileNotFoundError when ``root`` is not a folder.

    (It does not: ``Path.rglob`` on a missing folder yields nothing, so an empty corpus comes back and a
    typo in the data folder surfaces later as "no usable MIDI files".)
    """
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "missing", vocab)


# -- batchify / chunks ---------------------------------------------------------------------------
def test_batchify_folds_the_stream_into_columns():
    sequences = [np.arange(0, 5), np.arange(100, 107), np.arange(200, 209)]   # 21 tokens
    batch = batchify(sequences, 4)
    assert batch.dtype == torch.int64 and batch.shape == (4, 5)
    stream = np.concatenate(sequences)
    assert np.array_equal(batch.numpy(), stream[:20].reshape(4, 5))
    assert batchify(sequences, 1).shape == (1, 21)
    with pytest.raises(ValueError, match="too few"):
        batchify(sequences, 11)              # 21 // 11 = 1 column, cannot predict anything
    with pytest.raises(ValueError):
        batchify([], 2)


@pytest.mark.parametrize("bptt", [1, 3, 4, 32])
def test_chunks_cover_the_stream_with_targets_shifted_by_one(bptt):
    stream = batchify([np.arange(1000 + i * 50, 1000 + i * 50 + 37) for i in range(3)], 4)   # [4, 27]
    pieces = list(chunks(stream, bptt))
    assert all(inputs.shape == targets.shape for inputs, targets in pieces)
    assert all(inputs.size(0) == 4 and 1 <= inputs.size(1) <= bptt for inputs, _ in pieces)
    assert all(inputs.size(1) == bptt for inputs, _ in pieces[:-1])
    inputs = torch.cat([i for i, _ in pieces], 1)
    targets = torch.cat([t for _, t in pieces], 1)
    assert torch.equal(inputs, stream[:, :-1])
    assert torch.equal(targets, stream[:, 1:])
    for chunk_in, chunk_target in pieces:
        assert torch.equal(chunk_in[:, 1:], chunk_target[:, :-1])


def test_batches_of_a_real_corpus(micro_corpus, vocab):
    corpus = load_corpus(micro_corpus, vocab)
    stream = batchify(corpus.sequences["train"], 4)
    assert stream.size(0) == 4 and stream.size(1) == corpus.num_tokens("train") // 4
    assert int(stream.min()) >= 1 and int(stream.max()) < len(vocab)     # no padding inside the stream
    first_inputs, first_targets = next(chunks(stream, 32))
    assert first_inputs.shape == first_targets.shape == (4, 32)
    assert int(first_inputs[0, 0]) == BOS


# -- transpose_randomly --------------------------------------------------------------------------
def pitches_of(ids: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    mask = (ids >= vocab.pitch_offset) & (ids < vocab.duration_offset)
    return ids[mask] - vocab.pitch_offset + vocab.config.min_pitch


def test_transpose_keeps_pitches_in_range(micro_corpus, vocab):
    sequences = load_corpus(micro_corpus, vocab, 0.0, 0.0).sequences["train"]
    assert len(sequences) == 12
    rng = np.random.default_rng(1)
    shifts = []
    for _ in range(10):
        moved = transpose_randomly(sequences, vocab, (-40, 40), rng)
        assert len(moved) == len(sequences)
        for before, after in zip(sequences, moved):
            assert before.shape == after.shape
            old, new = pitches_of(before, vocab), pitches_of(after, vocab)
            assert new.min() >= vocab.config.min_pitch and new.max() <= vocab.config.max_pitch
            interval = set((new - old).tolist())
            assert len(interval) == 1                                     # one interval per piece
            shifts.append(interval.pop())
            is_pitch = (before >= vocab.pitch_offset) & (before < vocab.duration_offset)
            assert np.array_equal(before[~is_pitch], after[~is_pitch])    # timing untouched
    assert len(set(shifts)) > 5, "the interval should vary"
    assert min(shifts) < 0 < max(shifts)


def test_transpose_within_small_range(micro_corpus, vocab):
    sequences = load_corpus(micro_corpus, vocab, 0.0, 0.0).sequences["train"]
    rng = np.random.default_rng(2)
    seen = set()
    for _ in range(20):
        for before, after in zip(sequences, transpose_randomly(sequences, vocab, (-2, 3), rng)):
            delta = int(pitches_of(after, vocab)[0] - pitches_of(before, vocab)[0])
            assert -2 <= delta <= 3
            seen.add(delta)
    assert seen == {-2, -1, 0, 1, 2, 3}
    same = transpose_randomly(sequences, vocab, (0, 0), rng)
    assert all(a is b for a, b in zip(same, sequences))


def test_transpose_leaves_full_range_and_pitchless_pieces_alone(vocab):
    low, high = vocab.config.min_pitch, vocab.config.max_pitch
    wide = encode(Piece(notes=(Note(0, 12, low), Note(12, 24, high)), ticks_per_beat=12), vocab)
    empty = np.array([BOS, vocab.shift(4), EOS], dtype=np.int64)
    rng = np.random.default_rng(3)
    for _ in range(5):
        moved_wide, moved_empty = transpose_randomly([wide, empty], vocab, (-6, 6), rng)
        assert np.array_equal(moved_wide, wide)
        assert np.array_equal(moved_empty, empty)
