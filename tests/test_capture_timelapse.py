"""Timelapse: frames on a wall-clock grid, state persisted after every frame, resumed after a restart."""

import json
import threading

from daemon_support import make_app, outcomes, wait_until
from firmware.actions import CaptureRequest
from firmware.capture.timelapse import Timelapse
from firmware.clock import FakeClock


class WallClock(FakeClock):
    """Simulated time whose wall clock moves with its monotonic clock."""

    def __init__(self):
        super().__init__(start_ns=5_000_000_000)
        self.offset = 1_800_000_000_000_000_000

    def wall_ns(self):
        return self.monotonic_ns() + self.offset


def test_timelapse_shoots_count_frames_on_schedule_and_removes_its_state(tmp_path):
    clk = WallClock()
    shots = []
    tl = Timelapse(tmp_path / "tl.json", lambda info: shots.append((clk.monotonic_ns(), info)), clock=clk,
                   wall_ns=clk.wall_ns)
    start = clk.monotonic_ns()
    tl.start(2.0, 4)
    assert wait_until(lambda: len(shots) == 4 and not tl.active, timeout=5)
    assert [(t - start) / 1e9 for t, _ in shots] == [0.0, 2.0, 4.0, 6.0]
    assert [i["index"] for _, i in shots] == [0, 1, 2, 3] and shots[0][1]["count"] == 4
    assert not (tmp_path / "tl.json").exists()


def test_timelapse_survives_a_restart_and_skips_the_slots_it_missed(tmp_path):
    clk = WallClock()
    shots = []
    gate = threading.Event()

    def trigger(info):
        shots.append(info["index"])
        if info["index"] == 1:
            gate.wait(5)  # the daemon "dies" while frame 1 is being taken

    tl = Timelapse(tmp_path / "tl.json", trigger, clock=clk, wall_ns=clk.wall_ns)
    tl.start(10.0, 6)
    assert wait_until(lambda: shots == [0, 1], timeout=5)
    tl._cancel.set()
    gate.set()
    tl.close()
    state = json.loads((tmp_path / "tl.json").read_text())
    assert state["count"] == 6 and state["next_index"] in (1, 2)
    # The daemon is down for 25 s: slots 2 and 3 (at 20 s and 30 s) pass unshot.
    clk.advance(25)
    shots2 = []
    tl2 = Timelapse(tmp_path / "tl.json", lambda info: shots2.append((clk.monotonic_ns(), info["index"])),
                    clock=clk, wall_ns=clk.wall_ns)
    assert tl2.resume()
    assert wait_until(lambda: not tl2.active, timeout=5)
    assert [i for _, i in shots2] == [3, 4, 5] or [i for _, i in shots2] == [4, 5]
    assert tl2.missed >= 1
    assert not (tmp_path / "tl.json").exists()
    assert not Timelapse(tmp_path / "tl.json", lambda info: None).resume()


def test_corrupt_timelapse_state_is_ignored_with_a_reason(tmp_path, caplog):
    (tmp_path / "tl.json").write_text("{not json")
    assert not Timelapse(tmp_path / "tl.json", lambda info: None).resume()
    assert "ignoring timelapse state" in caplog.text


def test_daemon_resumes_a_timelapse_after_restart(tmp_path):
    cap = {"drive_mode": "timelapse", "timelapse_interval": 0.5, "timelapse_count": 4}
    app = make_app(tmp_path, capture=cap)
    assert app.trigger(CaptureRequest(press_ns=app.clock.monotonic_ns())).timelapse == "started"
    assert wait_until(lambda: len(app.recent_captures()) >= 1, timeout=10)
    app.stop()  # the timelapse state stays behind
    state = json.loads((tmp_path / "state" / "timelapse.json").read_text())
    assert 1 <= state["next_index"] < 4
    app2 = make_app(tmp_path, capture=cap)
    try:
        assert app2.snapshot().timelapse.active
        assert "timelapse" in app2.status_line()
        assert wait_until(lambda: not app2.snapshot().timelapse.active, timeout=30)
        done = outcomes(app2.recent_captures())
        assert done and all(not isinstance(r, Exception) for r in done)
        assert max(r.info["index"] for r in done) == 3
    finally:
        app2.stop()
