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


# -- capture sets and the free-space reserve --------------------------------------------------------------

from types import SimpleNamespace  # noqa: E402

from firmware.storage.atomic import write_group  # noqa: E402
from firmware.storage.space import MB, FreeSpace, StorageLow  # noqa: E402


def test_write_group_puts_all_files_under_final_names(tmp_path):
    paths = write_group(tmp_path, [("a.dng", b"raw"), ("a.jpg", lambda fh: fh.write(b"jpeg")), ("a.json", b"{}")])
    assert [p.name for p in paths] == ["a.dng", "a.jpg", "a.json"]
    assert sorted(os.listdir(tmp_path)) == ["a.dng", "a.jpg", "a.json"]
    assert (tmp_path / "a.jpg").read_bytes() == b"jpeg"


def test_write_group_failure_leaves_no_file_of_the_group(tmp_path):
    def full(fh):
        fh.write(b"half a jpeg")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StorageError, match="disk full") as exc:
        write_group(tmp_path, [("b.dng", b"raw" * 1000), ("b.jpg", full), ("b.json", b"{}")])
    assert exc.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []  # not even the DNG that was complete


def fake_statvfs(free_bytes):
    return lambda path: SimpleNamespace(f_bavail=free_bytes[0] // 4096, f_frsize=4096)


def test_free_space_admits_against_reserve_and_pending(tmp_path):
    free = [100 * MB]
    space = FreeSpace(tmp_path, 50 * MB, statvfs=fake_statvfs(free))
    space.admit(30 * MB)
    with pytest.raises(StorageLow, match=r"100 MB free .*30 MB of it promised.* needs about 30 MB and 50 MB"):
        space.admit(30 * MB)
    space.settle(30 * MB)
    free[0] = 70 * MB  # the first capture is on disk now
    space.admit(20 * MB)
    assert not space.is_low()
    free[0] = 40 * MB
    assert space.is_low()


def test_free_space_after_enospc_refuses_while_statvfs_says_it_does_not_fit(tmp_path):
    free = [30 * MB]
    space = FreeSpace(tmp_path, 0, statvfs=fake_statvfs(free))
    space.mark_full()  # a write failed: another writer took the space it was admitted against
    assert space.is_low(40 * MB)
    with pytest.raises(StorageLow, match=r"No space left on device'; 30 MB free .* needs about 40 MB"):
        space.admit(40 * MB)
    free[0] += 20 * MB  # the operator deleted something
    space.admit(40 * MB)
    assert not space.is_low()
