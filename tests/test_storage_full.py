"""A disk that fills in the middle of a burst: the captures already written stay, nothing half-written is left,
and further captures are refused with a clear error until space is freed."""

import errno
import os
import subprocess
import time

import pytest

from daemon_support import burst, capture, make_app, outcomes, wait_until
from firmware.actions import LedState
from firmware.errors import StorageError
from firmware.storage.atomic import TMP_PREFIX
from firmware.storage.space import StorageLow


def mount_card(tmp_path, size_mb, name="card"):
    """A real tmpfs of ``size_mb`` when this machine lets us mount one (root in CI containers often can)."""
    mnt = tmp_path / name
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mnt)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'mount failed'}); the injected-fault "
                    "test beside this one covers the same path")
    return mnt


@pytest.fixture
def small_fs(tmp_path):
    mnt = mount_card(tmp_path, 48)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture
def card_60mb(tmp_path):
    mnt = mount_card(tmp_path, 60)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def check_outcome(app, caps, job):
    results = outcomes(job.futures)
    written = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    assert written and failed, results
    assert all(isinstance(e, StorageError) and e.errno == errno.ENOSPC for e in failed)
    for r in written:  # every capture written before the disk filled is complete and kept
        assert all(p.exists() and p.stat().st_size > 0 for p in r.files) and len(r.files) == 3
    names = os.listdir(caps)
    assert not [n for n in names if n.startswith(TMP_PREFIX)]
    stems = {n.rsplit(".", 1)[0] for n in names if not n.startswith("filler")}
    assert stems == {r.stem for r in written}  # no capture of the failed ones left any file
    with pytest.raises(StorageLow, match="storage"):
        capture(app).result(timeout=30)
    app.refresh()
    assert app.led_state is LedState.LOW_STORAGE
    return written


def test_disk_fills_mid_burst_on_a_real_small_filesystem(tmp_path, small_fs):
    app = make_app(tmp_path, capture={"directory": str(small_fs), "queue_size": 10})
    try:
        job = burst(app, 10)
        assert wait_until(lambda: job.futures[1].done(), timeout=60)
        # Another writer fills the card: leave ~1 MB, less than one capture.
        free = os.statvfs(small_fs).f_bavail * os.statvfs(small_fs).f_frsize
        try:
            with open(small_fs / "filler", "wb") as fh:
                fh.write(b"\0" * max(0, free - 1024 * 1024))
        except OSError as exc:  # the burst's own writes got there first: the card is just as full
            assert exc.errno == errno.ENOSPC
        check_outcome(app, small_fs, job)
        (small_fs / "filler").unlink()  # the operator frees space: shooting resumes
        time.sleep(0.1)
        assert capture(app).result(timeout=60).files
    finally:
        app.stop()


def test_injected_enospc_mid_burst(tmp_path, monkeypatch):
    import firmware.storage.atomic as atomic

    real_stage = atomic._stage
    writes = {"n": 0}

    def stage(path, data):
        writes["n"] += 1
        if writes["n"] > 9:  # two captures (three files and a journal each) and a bit: then the disk is full
            raise atomic._storage_error(path, OSError(errno.ENOSPC, "No space left on device"))
        return real_stage(path, data)

    monkeypatch.setattr(atomic, "_stage", stage)
    app = make_app(tmp_path, capture={"queue_size": 10})
    try:
        job = burst(app, 6)
        check_outcome(app, tmp_path / "caps", job)
    finally:
        app.stop()


# -- recovery after ENOSPC follows the free space actually there ------------------------------------------

from types import SimpleNamespace  # noqa: E402

from firmware.storage.atomic import write_group  # noqa: E402
from firmware.storage.space import MB, FreeSpace  # noqa: E402


def write_admitted(space, caps, need, stem):
    """What the engine does with an admitted capture: write the group, settle; mark_full on ENOSPC."""
    try:
        write_group(caps, [(f"{stem}.dng", b"\1" * (30 * MB)), (f"{stem}.jpg", b"\2" * (8 * MB)),
                           (f"{stem}.json", b"{}")])
    except StorageError as exc:
        space.settle(need)
        if exc.errno == errno.ENOSPC:
            space.mark_full(exc)
        raise
    space.settle(need)


def test_enospc_on_a_60mb_card_recovers_once_the_card_is_emptied(card_60mb):
    """The issue's card: a JPEG write hits ENOSPC because another writer took the space; once that is deleted
    the card is empty and captures are taken again (they stayed refused, the full mark asking for more free
    space than the card has)."""
    space = FreeSpace(card_60mb, 0)
    need = 40 * MB  # the capture's admission estimate (its files take 38 MB)
    space.admit(need)
    with open(card_60mb / "filler", "wb") as fh:  # another writer, after the capture was admitted
        fh.write(b"\0" * (25 * MB))
    with pytest.raises(StorageError, match="disk full") as failed:
        write_admitted(space, card_60mb, need, "a")
    assert failed.value.free_bytes_at_failure < MB  # tmpfs is honest: nothing was left at the failure
    assert os.listdir(card_60mb) == ["filler"]  # nothing of the failed capture
    with pytest.raises(StorageLow, match="No space left on device"):
        space.admit(need)
    assert space.is_low(need)
    (card_60mb / "filler").unlink()
    assert not space.is_low(need)
    space.admit(need)
    write_admitted(space, card_60mb, need, "b")
    assert sorted(os.listdir(card_60mb)) == ["b.dng", "b.jpg", "b.json"]


def test_enospc_recovery_with_an_injected_statvfs(tmp_path):
    card = {"free": 60 * MB, "inodes": 1000}
    statvfs = lambda path: SimpleNamespace(f_bavail=card["free"] // 4096, f_frsize=4096,  # noqa: E731
                                           f_files=10_000, f_favail=card["inodes"])
    space = FreeSpace(tmp_path, 0, statvfs=statvfs)
    need = 40 * MB
    space.admit(need)
    card["free"] = 35 * MB  # another writer took 25 MB; the write fails, its temporaries are removed
    space.settle(need)
    space.mark_full()
    with pytest.raises(StorageLow, match=r"No space left on device'; 35 MB free"):
        space.admit(need)
    card["free"] = 60 * MB  # the other writer's file is deleted: the card is empty again
    space.admit(need)
    space.settle(need)
    with pytest.raises(StorageLow, match="storage low"):  # an ordinary refusal again: the ENOSPC is past
        space.admit(need * 2)
    card["inodes"] = 3  # blocks to spare but no inodes: ENOSPC all the same, so refuse it before
    with pytest.raises(StorageLow, match="no free inodes"):
        space.admit(MB)


def test_statvfs_that_overstates_is_corrected_by_what_the_failure_measured(tmp_path):
    free = [500 * MB]
    space = FreeSpace(tmp_path, 0, statvfs=lambda p: SimpleNamespace(f_bavail=free[0] // 4096, f_frsize=4096))
    failed = StorageError(errno.ENOSPC, "cannot write x.jpg: disk full")
    failed.free_bytes_at_failure = 480 * MB  # statvfs said 480 MB were free when the write failed
    space.mark_full(failed)
    with pytest.raises(StorageLow, match="a write failed with 480 MB of that said to be free"):
        space.admit(30 * MB)
    free[0] += 40 * MB  # the operator deletes 40 MB: that much is really free
    space.admit(30 * MB)
