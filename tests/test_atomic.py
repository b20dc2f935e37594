"""Atomic writes: old temporary files of killed writes are cleaned up, fresh ones are left alone."""

import os
import time

from composer.core.atomic import STALE_SECONDS, write_atomically


def test_a_write_replaces_the_file_and_removes_stale_temporaries(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    stale = tmp_path / ".model.pt.abc123.tmp"
    stale.write_bytes(b"half a model")
    past = time.time() - STALE_SECONDS - 5
    os.utime(stale, (past, past))
    fresh = tmp_path / ".model.pt.def456.tmp"  # another process may be writing this one right now
    fresh.write_bytes(b"being written")
    other = tmp_path / ".other.pt.abc123.tmp"
    other.write_bytes(b"not ours")
    os.utime(other, (past, past))

    write_atomically(target, lambda handle: handle.write(b"new"))

    assert target.read_bytes() == b"new"
    assert not stale.exists()
    assert fresh.exists() and other.exists()


def test_the_new_file_gets_ordinary_permissions(tmp_path):
    target = tmp_path / "song.mid"
    write_atomically(target, lambda handle: handle.write(b"x"))
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
