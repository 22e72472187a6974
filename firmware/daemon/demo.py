"""``camerad --mock --demo``: the daemon's main job, end to end, on the mock sensor and mock GPIO.

It starts the daemon, presses the shutter button N times through the same (mock) GPIO pin a real button
drives, waits for each capture to reach the disk, prints what was written and how fast, and stops.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from ..camera import Camerad
from ..config import Config
from ..gpio import MockButtons

PRESS_S = 0.06  # how long the demo holds the button down


def run_demo(config: Config, shots: int, captures: Path, out=sys.stdout) -> int:
    camera = Camerad(config, captures=captures)
    mode = camera.mode
    print(f"camerad demo: {camera.sensor.info.model} (mock) {mode.name} @ {mode.max_fps:g} fps, scene "
          f"{config.mock.scene}, {config.mock.colour_temperature:.0f} K, {config.mock.lux:g} lux", file=out)
    camera.start()
    try:
        if not camera.wait_for_frame(30):
            print("error: the mock sensor produced no frame within 30 s", file=out)
            return 1
        buttons = MockButtons(camera.board, camera.profile)  # the profile's shutter pins, wired as on the board
        results = []
        for i in range(shots):
            time.sleep(0.25)  # let AE/AWB settle, and space the presses like a person would
            buttons.shutter(hold=PRESS_S, half=0.05)
            result = camera.recent_captures()[-1].result(timeout=120)
            results.append(result)
            names = " ".join(p.name for p in result.files)
            print(f"shot {i + 1}: {names}  lag {result.lag_frames} frames ({result.lag_ns / 1e6:+.1f} ms)  "
                  f"developed in {result.develop_s:.2f} s", file=out)
    finally:
        camera.stop()
    lags = [r.lag_ns / 1e6 for r in results]
    dev = [r.develop_s for r in results]
    print(f"{len(results)} captures in {captures}/: shutter lag {max(r.lag_frames for r in results)} frames "
          f"(median {statistics.median(lags):+.1f} ms from press to exposure start), "
          f"processing median {statistics.median(dev):.2f} s per capture", file=out)
    return 0
