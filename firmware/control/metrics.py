"""The fleet view: the camera's figures as a Prometheus textfile, for node_exporter's textfile collector.

A lab with dozens of prototypes already runs node_exporter on each; with ``[metrics] textfile_directory`` set to
its ``--collector.textfile.directory`` (Debian: ``/var/lib/prometheus/node-exporter``), camerad writes
``camerad.prom`` there every ``[metrics] interval`` seconds, atomically as the collector asks: a temporary file in
the same directory (a name not ending in ``.prom``, so it is never read half-written), then a rename. The figures
are the status method's, so Prometheus, ``camctl status`` and the preview page never disagree.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

from .. import __version__

log = logging.getLogger(__name__)

FILE_NAME = "camerad.prom"
STATES = ("booting", "ready", "capturing", "busy", "error", "low_storage")


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def render(s: dict) -> str:
    """The exposition text for one status document (the ``status`` method's result)."""
    out: list[str] = []

    def metric(name: str, kind: str, help: str, value: Any, labels: dict | None = None) -> None:
        if value is None:
            return
        out.append(f"# HELP camerad_{name} {help}")
        out.append(f"# TYPE camerad_{name} {kind}")
        text = ",".join(f'{k}="{_label(v)}"' for k, v in (labels or {}).items())
        out.append(f"camerad_{name}{{{text}}} {_number(value)}" if text else f"camerad_{name} {_number(value)}")

    sensor = s.get("sensor") or {}
    metric("info", "gauge", "The camera: sensor model, mode and backend, camerad's version.", 1,
           {"model": sensor.get("model", ""), "mode": sensor.get("mode", ""), "backend": sensor.get("backend", ""),
            "version": __version__})
    out.append("# HELP camerad_state The camera's state (1 for the current one).")
    out.append("# TYPE camerad_state gauge")
    out += [f'camerad_state{{state="{state}"}} {int(s.get("state") == state)}' for state in STATES]
    metric("uptime_seconds", "gauge", "Seconds since camerad started.", s.get("uptime_s"))
    metric("frames_total", "counter", "Frames the sensor delivered.", s.get("frames"))
    metric("frames_dropped_total", "counter", "Frames the sensor dropped.", s.get("frames_dropped"))
    metric("captures_total", "counter", "Captures written to storage.", s.get("captures_written"))
    metric("refusals_total", "counter", "Captures refused (queue full, storage low, no frames).", s.get("refusals"))
    queue = s.get("queue") or {}
    metric("queue_used", "gauge", "Captures taken and not yet written.", queue.get("used"))
    metric("queue_size", "gauge", "Captures the queue holds.", queue.get("size"))
    storage = s.get("storage") or {}
    metric("storage_free_bytes", "gauge", "Free bytes where captures are written.", storage.get("free_bytes"))
    metric("storage_reserve_bytes", "gauge", "Bytes kept free: captures are refused below.", storage.get("reserve_bytes"))
    metric("sensor_temperature_celsius", "gauge", "The sensor's own temperature (where it reports one).",
           s.get("sensor_temperature"))
    metric("fps", "gauge", "Frames per second.", s.get("fps"))
    if s.get("exposure_us") is not None:
        metric("exposure_seconds", "gauge", "The latest frame's exposure time.", s["exposure_us"] / 1e6)
    metric("analogue_gain", "gauge", "The latest frame's analogue gain (ISO / 100).", s.get("analogue_gain"))
    metric("colour_temperature_kelvin", "gauge", "The white balance's colour temperature.", s.get("colour_temperature"))
    metric("lux", "gauge", "The scene's brightness, as the tuning estimates it.", s.get("lux"))
    last = s.get("last_capture") or {}
    metric("develop_seconds", "gauge", "The latest capture's develop time (raw to files).", last.get("develop_s"))
    metric("denoise_seconds", "gauge", "The latest capture's raw denoise time (0: denoise off).", last.get("denoise_s"))
    metric("errored", "gauge", "1 while the camera reports an error.", int(bool(s.get("last_error"))))
    return "\n".join(out) + "\n"


def write_textfile(directory: Path, text: str) -> Path:
    """``directory/camerad.prom`` replaced atomically (node_exporter never reads a half-written file)."""
    path = directory / FILE_NAME
    tmp = directory / f".{FILE_NAME}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # node_exporter runs as its own user
    os.replace(tmp, path)
    return path


class TextfileExporter:
    """A thread writing ``render(status())`` into ``directory`` every ``interval`` seconds until ``close``."""

    def __init__(self, status: Callable[[], dict], directory: str | Path, interval: float):
        self.status = status
        self.directory = Path(directory)
        self.interval = interval
        self._stop = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="metrics-textfile", daemon=True)

    def start(self) -> "TextfileExporter":
        if not self.directory.is_dir():
            log.error("metrics: %s is not a directory; no textfile is written (node_exporter's "
                      "--collector.textfile.directory)", self.directory)
            return self
        self._thread.start()
        log.info("metrics: %s every %g s", self.directory / FILE_NAME, self.interval)
        return self

    def write_now(self) -> None:
        try:
            write_textfile(self.directory, render(self.status()))
        except Exception as exc:  # noqa: BLE001 - the fleet view must never stop the camera
            if not self._failing:
                log.error("metrics: cannot write %s: %s", self.directory / FILE_NAME, exc)
            self._failing = True
        else:
            if self._failing:
                log.info("metrics: writing %s again", self.directory / FILE_NAME)
            self._failing = False

    def _run(self) -> None:
        while not self._stop.is_set():
            self.write_now()
            self._stop.wait(self.interval)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
