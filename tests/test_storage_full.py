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


@pytest.fixture
def small_fs(tmp_path):
    """A real 48 MB tmpfs when this machine lets us mount one (root in CI containers often can)."""
    mnt = tmp_path / "card"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'mount failed'}); "
                    "test_injected_enospc_mid_burst covers the same path")
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
        if writes["n"] > 7:  # two captures (three files each) and a bit: then the disk is full
            raise atomic._storage_error(path, OSError(errno.ENOSPC, "No space left on device"))
        return real_stage(path, data)

    monkeypatch.setattr(atomic, "_stage", stage)
    app = make_app(tmp_path, capture={"queue_size": 10})
    try:
        job = burst(app, 6)
        check_outcome(app, tmp_path / "caps", job)
    finally:
        app.stop()
