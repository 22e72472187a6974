import errno
import os

import pytest

from firmware.errors import StorageError
from firmware.storage.atomic import TMP_PREFIX, atomic_write, clean_leftovers
from firmware.storage.naming import stem_for, unique_stem


def test_atomic_write_leaves_only_the_final_file(tmp_path):
    p = atomic_write(tmp_path / "a.jpg", b"data")
    assert p.read_bytes() == b"data"
    assert os.listdir(tmp_path) == ["a.jpg"]


def test_atomic_write_failure_leaves_nothing_under_the_final_name(tmp_path):
    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "b.dng", boom)
    assert os.listdir(tmp_path) == []


def test_atomic_write_disk_full_is_a_storage_error(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageError, match=r"cannot write .*c.dng: disk full") as exc:
        atomic_write(tmp_path / "c.dng", b"x" * 100)
    assert exc.value.errno == errno.ENOSPC
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert os.listdir(tmp_path) == []


def test_clean_leftovers_removes_only_our_temporaries(tmp_path):
    (tmp_path / f"{TMP_PREFIX}1234-x.dng").write_bytes(b"partial")
    (tmp_path / "keep.jpg").write_bytes(b"ok")
    removed = clean_leftovers(tmp_path)
    assert [p.name for p in removed] == [f"{TMP_PREFIX}1234-x.dng"]
    assert os.listdir(tmp_path) == ["keep.jpg"]


def test_names_sort_by_time_and_never_collide(tmp_path):
    t = 1_790_000_000_000_000_000
    a = stem_for(t)
    b = stem_for(t + 1_000_000)
    assert a < b and len(a) == len("YYYYMMDD-HHMMSS-mmm")
    (tmp_path / f"{a}.jpg").write_bytes(b"")
    assert unique_stem(tmp_path, t) == f"{a}-2"
    assert unique_stem(tmp_path, t, taken={f"{a}-2"}) == f"{a}-3"
