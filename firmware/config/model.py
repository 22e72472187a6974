"""The configuration schema: frozen dataclasses, one per TOML table.

Each field's metadata carries its valid range (``min``/``max``) or choices; ``load.py`` checks every value
against it and rejects unknown keys, so a typo in the file is an error, not a silently ignored setting.
The commented example ``camerad.example.toml`` documents every key; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..actions import DenoiseMode, DriveMode, ModeAction
from ..boards import GpioBackend, SensorBackend


def rng(default, lo=None, hi=None):
    """A field with an inclusive valid range."""
    return field(default=default, metadata={"min": lo, "max": hi})


@dataclass(frozen=True)
class DaemonConfig:
    log_level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class SensorConfig:
    backend: SensorBackend = SensorBackend.AUTO
    camera: int = rng(0, 0, 15)
    # Sensor mode as "WIDTHxHEIGHT"; empty picks the full-resolution mode.
    mode: str = field(default="", metadata={"pattern": r"(\d+x\d+)?", "format": "WIDTHxHEIGHT, e.g. 2028x1520"})
    # Tuning file; empty picks the one for the sensor and platform (see README, "Tuning").
    tuning: str = ""
    frame_timeout: float = rng(2.0, 0.1, 60.0)
    # Sensor buffers; 0 sizes them from capture.memory_budget_mb (the ZSL ring plus streaming headroom).
    buffer_count: int = rng(0, 0, 64)
    # Longest wait between attempts to reopen a failed camera (seconds); attempts back off from 0.5 s.
    reopen_backoff_max: float = rng(30.0, 1.0, 600.0)


@dataclass(frozen=True)
class MockConfig:
    model: Literal["imx477", "imx708"] = "imx477"
    # Be the sensor a stock libcamera tuning file describes: "imx477", "pisp/imx477" or a file's path; empty
    # keeps the hand-made model above (see README, "The mock sensor").
    like: str = ""
    scene: str = "colorchecker"
    colour_temperature: float = rng(5000.0, 1800.0, 12000.0)
    illuminant: Literal["auto", "daylight", "planckian", "fluorescent"] = "auto"
    lux: float = rng(800.0, 0.1, 200000.0)
    seed: int = rng(0, 0, 2**31 - 1)
    hot_pixels: int = rng(16, 0, 10000)


@dataclass(frozen=True)
class CaptureConfig:
    directory: str = "/var/lib/camerad/captures"
    raw: bool = True
    jpeg_quality: int = rng(93, 1, 100)
    sidecar: bool = True
    zsl: bool = True
    # Memory for every frame held, in MB: the sensor's buffers (ZSL ring, streaming) and the queued captures.
    memory_budget_mb: int = rng(384, 16, 65536)
    # Captures waiting to be developed and written, at most (the budget may hold fewer); each holds a raw frame.
    queue_size: int = rng(12, 1, 256)
    # What a shutter press does at start: one frame, a burst, a bracket, or start/stop a timelapse.
    drive_mode: DriveMode = DriveMode.SINGLE
    burst_frames: int = rng(10, 2, 256)
    # Exposure bracketing: frames (centred on 0 EV) and the step between them in EV.
    bracket_frames: int = rng(3, 2, 9)
    bracket_step_ev: float = rng(2.0, 0.1, 4.0)
    # Timelapse: seconds between frames and how many frames; it resumes after a daemon restart.
    timelapse_interval: float = rng(10.0, 0.1, 86400.0)
    timelapse_count: int = rng(100, 1, 1_000_000)
    # The look JPEGs are developed with at start (a file in tuning/looks/); the mode button and camctl change it.
    look: str = "leica-authentic"
    # DNG raw data: "ljpeg" (lossless JPEG tiles, about half the size; every raw developer reads them) or "none".
    dng_compression: Literal["none", "ljpeg"] = "ljpeg"


@dataclass(frozen=True)
class LensConfig:
    # The lens actually fitted, where it differs from the board profile's ([lens] of hw/<board>.toml); 0 or
    # empty keeps the profile's. f_number is the aperture the lens is set to (EXIF FNumber); max_f_number its
    # widest (EXIF MaxApertureValue).
    model: str = ""
    focal_length_mm: float = rng(0.0, 0.0, 2000.0)
    f_number: float = rng(0.0, 0.0, 64.0)
    max_f_number: float = rng(0.0, 0.0, 64.0)


@dataclass(frozen=True)
class StorageConfig:
    # Captures are refused while the captures directory's filesystem has less free space than this (MB).
    reserve_mb: int = rng(200, 0, 10_000_000)
    # Daemon state that must survive a restart (a running timelapse); empty = $STATE_DIRECTORY (systemd),
    # else /var/lib/camerad when writable, else ~/.local/state/camerad.
    state_directory: str = ""


@dataclass(frozen=True)
class WatchdogConfig:
    # Ping systemd's watchdog (when the unit sets WatchdogSec=) while frames keep arriving.
    enabled: bool = True
    # Seconds without a new frame after which the pings stop, so systemd restarts a stuck daemon.
    frame_stall: float = rng(5.0, 0.5, 600.0)


@dataclass(frozen=True)
class GpioConfig:
    backend: GpioBackend = GpioBackend.AUTO
    # Board profile name from hw/ ("rpi4", "rpi5", "qcom-rb5", …); "auto" detects it.
    board: str = "auto"


@dataclass(frozen=True)
class ControlsConfig:
    """Gestures and timings of the shutter and mode buttons (the pins come from the board profile in hw/)."""

    # "auto": two-stage when the board profile wires a half-press contact, else one contact; "two"; "one".
    shutter_contacts: Literal["auto", "two", "one"] = "auto"
    debounce_time: float = rng(0.015, 0.0, 0.5)
    burst: bool = True
    burst_hold_time: float = rng(0.6, 0.05, 10.0)
    min_shot_interval: float = rng(0.1, 0.0, 10.0)
    mode_click: ModeAction = ModeAction.DRIVE_MODE
    mode_double_click: ModeAction = ModeAction.LOOK
    mode_hold: ModeAction = ModeAction.RAW
    double_click_time: float = rng(0.35, 0.05, 2.0)
    mode_hold_time: float = rng(1.0, 0.1, 10.0)
    drive_modes: str = field(default=",".join(DriveMode), metadata={"items": DriveMode})
    stuck_time: float = rng(30.0, 1.0, 3600.0)
    chatter_presses: int = rng(10, 2, 1000)
    chatter_window: float = rng(1.0, 0.1, 60.0)
    chatter_quiet_time: float = rng(2.0, 0.1, 600.0)


@dataclass(frozen=True)
class StatusConfig:
    """The status LED's patterns and the frame-taken signal (buzzer or second LED) wired in the board profile."""

    led: bool = True
    frame_signal: bool = True
    flash_time: float = rng(0.06, 0.01, 1.0)
    beep_time: float = rng(0.03, 0.005, 1.0)
    fast_blink_time: float = rng(0.1, 0.02, 2.0)
    slow_blink_time: float = rng(1.0, 0.1, 10.0)
    error_pattern: Literal["sos", "long"] = "sos"
    sos_unit_time: float = rng(0.15, 0.03, 1.0)
    long_blink_time: float = rng(1.5, 0.2, 10.0)


@dataclass(frozen=True)
class ControlConfig:
    """The control socket camctl talks to (see README, "Operating over SSH: camctl")."""

    # Socket path when systemd does not hand one over; empty: /run/camerad/control.sock where writable, else
    # $XDG_RUNTIME_DIR/camerad/control.sock. camerad --socket and $CAMERAD_SOCKET override it.
    socket: str = ""
    # A connection that begins no request for this many seconds is closed (a begun one has 10 s from its first
    # byte, or this if shorter).
    idle_timeout: float = rng(30.0, 1.0, 3600.0)
    # Connections served at once (at most a quarter of the open-file limit); one more is told "busy" and closed.
    max_clients: int = rng(128, 1, 1024)


@dataclass(frozen=True)
class PreviewConfig:
    """The local preview page (MJPEG, histogram, zebras, focus peaking, shutter) on 127.0.0.1 only."""

    enabled: bool = False
    port: int = rng(8088, 1024, 65535)
    # Preview frames: width in pixels (height follows the sensor mode) and the most per second.
    width: int = rng(640, 160, 1920)
    fps: float = rng(10.0, 1.0, 30.0)
    jpeg_quality: int = rng(80, 10, 100)
    # MJPEG streams served at once (each costs a JPEG encode per frame).
    max_streams: int = rng(4, 1, 32)


@dataclass(frozen=True)
class DenoiseConfig:
    # Raw denoising of stills: "off", "fast" (16-channel int8 model) or "hq" (32-channel int8 model); see
    # firmware.denoise. hq by default: it is the better picture, and at ~0.4 s per 12.3 MP frame it runs off
    # the capture path without holding up a burst.
    mode: DenoiseMode = DenoiseMode.HQ
    threads: int = rng(2, 1, 64)


@dataclass(frozen=True)
class Config:
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    sensor: SensorConfig = field(default_factory=SensorConfig)
    mock: MockConfig = field(default_factory=MockConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    lens: LensConfig = field(default_factory=LensConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    controls: ControlsConfig = field(default_factory=ControlsConfig)
    status: StatusConfig = field(default_factory=StatusConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    preview: PreviewConfig = field(default_factory=PreviewConfig)
    denoise: DenoiseConfig = field(default_factory=DenoiseConfig)
    # Where the configuration came from, for messages; not a TOML key.
    source: str = field(default="<defaults>", compare=False, metadata={"internal": True})
