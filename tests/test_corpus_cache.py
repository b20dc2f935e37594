"""Corpus preparation: parallel workers give the same corpus, and the cache serves unchanged files."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from composer.melody.corpus import load_corpus
from composer.melody.encoding import EncodingConfig, Vocabulary

FOLK = Path(__file__).resolve().parent.parent / "midi_data" / "folk_melodies" / "oneills1850"
VOCAB = Vocabulary(EncodingConfig(key_tokens=True, min_pitch=36, max_pitch=96))


@pytest.fixture
def folder(tmp_path):
    """80 real folk tunes, a corrupt file and a text file."""
    data = tmp_path / "data"
    data.mkdir()
    for path in sorted(FOLK.glob("*.mid"))[:80]:
        shutil.copy(path, data)
    (data / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (data / "notes.txt").write_text("not music")
    return data


def same_corpus(a, b) -> bool:
    return (a.files == b.files and a.skipped == b.skipped and a.fingerprint == b.fingerprint
            and all(np.array_equal(x, y) for s in a.sequences for x, y in zip(a.sequences[s], b.sequences[s])))


def test_worker_processes_give_the_same_corpus_as_one_process(folder, tmp_path):
    serial = load_corpus(folder, VOCAB, workers=1, use_cache=False)
    parallel = load_corpus(folder, VOCAB, workers=2, use_cache=False)
    assert parallel.stats["workers"] == 2 and serial.stats["workers"] == 1
    assert same_corpus(serial, parallel)
    assert len(serial.skipped) == 2 and serial.summary()["files"]["train"] > 50


def test_second_load_comes_from_the_cache_and_is_identical(folder, tmp_path):
    cache = tmp_path / "cache"
    first = load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    second = load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    assert first.stats["prepared"] == 81 and first.stats["cached"] == 0
    assert second.stats["prepared"] == 0 and second.stats["cached"] == 81
    assert same_corpus(first, second)
    assert dict(second.skipped)["broken.mid"]  # the reason is cached too


def test_a_changed_file_is_prepared_again(folder, tmp_path):
    cache = tmp_path / "cache"
    first = load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    victim = sorted(folder.glob("*.mid"))[0]
    replacement = sorted(FOLK.glob("*.mid"))[100]
    shutil.copy(replacement, victim)
    os.utime(victim, ns=(victim.stat().st_atime_ns, victim.stat().st_mtime_ns + 10**9))
    second = load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    assert second.stats["prepared"] == 1 and second.stats["cached"] == 80
    assert second.fingerprint != first.fingerprint
    assert same_corpus(second, load_corpus(folder, VOCAB, workers=1, use_cache=False))


def test_a_damaged_cache_is_ignored_and_rewritten(folder, tmp_path):
    cache = tmp_path / "cache"
    first = load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    (cache_file,) = cache.glob("*.npz")
    cache_file.write_bytes(b"not a cache")
    second = load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    assert second.stats["prepared"] == 81 and same_corpus(first, second)
    assert load_corpus(folder, VOCAB, workers=1, cache_dir=cache).stats["cached"] == 81


def test_another_encoding_gets_its_own_cache(folder, tmp_path):
    cache = tmp_path / "cache"
    load_corpus(folder, VOCAB, workers=1, cache_dir=cache)
    other = load_corpus(folder, Vocabulary(EncodingConfig()), workers=1, cache_dir=cache)
    assert other.stats["cached"] == 0 and len(list(cache.glob("*.npz"))) == 2


def test_no_cache_writes_nothing(folder, tmp_path):
    cache = tmp_path / "cache"
    load_corpus(folder, VOCAB, workers=1, cache_dir=cache, use_cache=False)
    assert not cache.exists()
