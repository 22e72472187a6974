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
from ..actions import LedState

log = logging.getLogger(__name__)

FILE_NAME = "camerad.prom"
# (metric, type, help, where in the status document, scale): a figure the status does not have is left out.
METRICS = [
    ("uptime_seconds", "gauge", "Seconds since camerad started.", ("uptime_s",), 1),
    ("frames_total", "counter", "Frames the sensor delivered.", ("frames",), 1),
    ("frames_dropped_total", "counter", "Frames the sensor dropped.", ("frames_dropped",), 1),
    ("captures_total", "counter", "Captures written to storage.", ("captures_written",), 1),
    ("refusals_total", "counter", "Captures refused (queue full, storage low, no frames).", ("refusals",), 1),
    ("queue_used", "gauge", "Captures taken and not yet written.", ("queue", "used"), 1),
    ("queue_size", "gauge", "Captures the queue holds.", ("queue", "size"), 1),
    ("storage_free_bytes", "gauge", "Free bytes where captures are written.", ("storage", "free_bytes"), 1),
    ("storage_reserve_bytes", "gauge", "Bytes kept free: captures are refused below.", ("storage", "reserve_bytes"), 1),
    ("sensor_temperature_celsius", "gauge", "The sensor's own temperature (where it reports one).",
     ("sensor_temperature",), 1),
    ("fps", "gauge", "Frames per second.", ("fps",), 1),
    ("exposure_seconds", "gauge", "The latest frame's exposure time.", ("exposure_us",), 1e-6),
    ("analogue_gain", "gauge", "The latest frame's analogue gain (ISO / 100).", ("analogue_gain",), 1),
    ("colour_temperature_kelvin", "gauge", "The white balance's colour temperature.", ("colour_temperature",), 1),
    ("lux", "gauge", "The scene's brightness, as the tuning estimates it.", ("lux",), 1),
    ("develop_seconds", "gauge", "The latest capture's develop time (raw to files).", ("last_capture", "develop_s"), 1),
    ("denoise_seconds", "gauge", "The latest capture's raw denoise time (0: denoise off).",
     ("last_capture", "denoise_s"), 1),
]


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
    out += [f'camerad_state{{state="{state.value}"}} {int(s.get("state") == state.value)}' for state in LedState]
    for name, kind, help, path, scale in METRICS:
        value: Any = s
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        metric(name, kind, help, None if value is None else value * scale if scale != 1 else value)
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
