"""The physical controls, attached: a board's lines → the gesture machine → ``CameraActions``; status LEDs.

``attach_controls()`` is the camera's one entry point. An edge callback (on the GPIO library's thread) runs
the gesture machine, which takes microseconds, and makes the shutter calls right there: a full press is
``trigger(CaptureRequest(press_ns=t))``, a held one ``trigger(CaptureRequest(t, hold=True))`` until
``release(t)``, and ``half_press``. By the ``CameraActions`` contract they only hand a timestamp on, and
skipping a thread wake-up keeps the press-to-capture time flat on a busy machine. Everything else (mode-button actions, fault
reports) and every deadline (hold times, double-click windows, debounce ends) goes to one worker thread. A
camera call that raises is logged and the controls carry on; a refused capture (queue full) is a warning.

>>> board = open_board("mock"); profile = load_profile("mock")               # doctest: +SKIP
>>> controls = attach_controls(profile, board, camera, config, SystemClock())  # doctest: +SKIP
>>> controls.status.led_state(LedState.READY); ...; controls.close()          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import threading

from ..actions import CameraActions, CaptureRequest, ModeAction
from ..board_profile import BoardProfile, InputLine
from ..clock import Clock
from ..config import Config
from ..errors import CaptureRefused, GpioError
from .gestures import Gesture, GestureMachine, GestureTiming
from .status import StatusLeds

log = logging.getLogger(__name__)

_CONTACT_KEYS = {"full": "shutter", "half": "half_press", "mode": "mode"}  # contact -> [controls.*] key
_STOP, _KICK = object(), object()
# Gestures the controls deliver on the edge's own thread: the CameraActions contract is that these only hand a
# timestamp on, and doing so skips a thread wake-up (the shutter lag the benchmark measures).
_AT_ONCE = frozenset({"half_press", "shutter", "burst"})


def pressed_level(line: InputLine, level_now: bool) -> bool:
    """The electrical level (True = high) that means "pressed" on ``line``.

    ``active`` is the level of the closed contact; a normally-closed switch opens when pressed. ``auto``
    takes the level read at start as "released" (a button is not held while the camera boots), which detects
    normally-closed wiring by itself.
    """
    closed = line.active == "high"
    if line.switch == "no":
        return closed
    if line.switch == "nc":
        return not closed
    return not level_now


class Controls:
    """Buttons turned into ``CameraActions`` calls; ``status`` is the ``StatusListener`` for the daemon."""

    def __init__(self, profile: BoardProfile, board, actions: CameraActions, config: Config, clock: Clock, *,
                 threaded: bool = True):
        self.profile = profile
        self.board = board
        self.actions = actions
        self.config = config
        self.clock = clock
        self._later: queue.SimpleQueue = queue.SimpleQueue()  # gestures for the worker, wake-ups, stop
        self._lock = threading.Lock()  # the gesture machine, and the order of the camera calls it makes
        self._handles: list = []
        self._inputs: dict[str, object] = {}
        self._pressed_level: dict[str, bool] = {}
        self._closed = False
        self.pins: dict[str, int] = {}  # control name (shutter, half_press, mode) -> pin
        cc = config.controls
        wired = profile.controls
        if cc.shutter_contacts == "two" and wired.half_press is None:
            raise GpioError(f"{profile.source}: controls.shutter_contacts = \"two\" but the board profile wires no "
                            "[controls.half_press] contact")
        lines = {"full": wired.shutter, "mode": wired.mode,
                 "half": wired.half_press if cc.shutter_contacts != "one" else None}
        self.status = self._status_leds()
        with self._lock:  # an edge arriving while the lines are set up waits for the machine
            try:
                start = {name: self._attach(name, line) for name, line in lines.items() if line is not None}
            except Exception:
                self.close()
                raise
            self.machine = GestureMachine(GestureTiming.from_config(cc), contacts=tuple(start),
                                          pressed_at_start=start, now_ns=clock.monotonic_ns())
        for g in self.machine.faults:
            self._dispatch(g)
        self._thread = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="camerad-controls", daemon=True)
            self._thread.start()

    # -- set-up --------------------------------------------------------------------------------------------
    def _status_leds(self) -> StatusLeds:
        st, cfg = self.profile.status, self.config.status
        led = frame = None
        try:
            if st.led is not None and cfg.led:
                led = self._output(st.led)
            if st.frame is not None and cfg.frame_signal:
                frame = self._output(st.frame)
        except Exception:
            for h in self._handles:
                h.close()
            raise
        kind = st.frame.kind if st.frame is not None else "led"
        return StatusLeds(led, frame, frame_kind=kind, config=cfg, clock=self.clock)

    def levels(self) -> dict[str, bool]:
        """Each input contact's line level read now (True = high), keyed by contact: what selftest checks."""
        return {contact: handle.level() for contact, handle in self._inputs.items()}

    def _output(self, line):
        handle = self.board.output(line.pin, active_high=line.active == "high", chip=line.chip, label=line.label)
        self._handles.append(handle)
        return handle

    def _attach(self, contact: str, line: InputLine) -> bool:
        """Open the contact's line; return whether it reads pressed now."""
        key = _CONTACT_KEYS[contact]
        handle = self.board.input(line.pin, pull=line.pull, chip=line.chip, label=line.label,
                                  on_edge=lambda high, t, c=contact: self._edge(c, high, t))
        self._handles.append(handle)
        self._inputs[contact] = handle
        self.pins[key] = line.pin
        level = handle.level()
        self._pressed_level[contact] = pressed = pressed_level(line, level)
        if line.switch == "auto":
            nc = pressed != (line.active == "high")
            log.info("GPIO%d (%s): reads %s at start: %s switch", line.pin, key, "high" if level else "low",
                     "normally-closed" if nc else "normally-open")
        return level == pressed

    # -- running -------------------------------------------------------------------------------------------
    def _edge(self, contact: str, high: bool, t_ns: int) -> None:
        """On the GPIO library's thread: run the machine (microseconds) and hand on what it found."""
        if self._closed:
            return
        with self._lock:
            self._deliver(self.machine.edge(contact, high == self._pressed_level[contact], t_ns))
        self._later.put(_KICK)  # a new hold or double-click deadline for the worker to wait for

    def _deliver(self, gestures) -> None:
        """Shutter gestures go to the camera at once (they only hand a timestamp on); the rest via the worker."""
        for g in gestures:
            if g.name in _AT_ONCE:
                self._dispatch(g)
            else:
                self._later.put(g)

    def pump(self) -> int:
        """Without a worker thread (tests): deliver queued gestures and everything due now; return how many."""
        n = 0
        while True:
            with self._lock:
                gestures = self.machine.tick(self.clock.monotonic_ns())
                self._deliver(gestures)
            n += len(gestures)
            try:
                item = self._later.get_nowait()
            except queue.Empty:
                return n
            while True:
                if isinstance(item, Gesture):
                    self._dispatch(item)
                    n += 1
                try:
                    item = self._later.get_nowait()
                except queue.Empty:
                    break

    def _run(self) -> None:
        while True:
            with self._lock:
                deadline = self.machine.next_deadline()
            timeout = None if deadline is None else max(0.0, (deadline - self.clock.monotonic_ns()) / 1e9)
            try:
                item = self._later.get(timeout=timeout)
            except queue.Empty:
                item = _KICK
            if item is _STOP:
                return
            try:
                if isinstance(item, Gesture):
                    self._dispatch(item)
                else:
                    with self._lock:
                        self._deliver(self.machine.tick(self.clock.monotonic_ns()))
            except Exception:  # a bug in here must not silence the buttons for good
                log.exception("controls: unexpected error")

    def _dispatch(self, g: Gesture) -> None:
        a = self.actions
        try:
            if g.name == "half_press":
                a.half_press(g.value, g.t_ns)
            elif g.name == "shutter":
                a.trigger(CaptureRequest(press_ns=g.t_ns))
            elif g.name == "burst" and g.value:
                a.trigger(CaptureRequest(press_ns=g.t_ns, hold=True))
            elif g.name == "burst":
                a.release(g.t_ns)
            elif g.name in ("click", "double_click", "hold"):
                action = ModeAction(getattr(self.config.controls, f"mode_{g.name}"))
                if action.method is not None:
                    result = getattr(a, action.method)()
                    log.info("mode button %s: %s -> %s", g.name.replace("_", " "), action, result)
            elif g.name == "fault":
                self._fault(*g.value)
            else:
                log.debug("controls: %s (%s)", g.name, g.value)
        except CaptureRefused as exc:
            log.warning("%s refused: %s", g.name, exc.reason)
        except Exception as exc:
            log.error("%s failed: %s", g.name, exc)

    def _fault(self, contact: str, kind: str) -> None:
        key = _CONTACT_KEYS[contact]
        where = f"GPIO{self.pins[key]} ({key})"
        cc = self.config.controls
        if kind == "stuck":
            log.warning("%s is held down (stuck, or pressed at start): ignored until released", where)
        elif kind == "chatter":
            log.warning("%s is chattering (%d presses within %g s): ignored until quiet for %g s", where,
                        cc.chatter_presses, cc.chatter_window, cc.chatter_quiet_time)
        else:
            log.info("%s works again", where)

    def close(self) -> None:
        """Stop the worker, release the lines and turn the LEDs off. Idempotent."""
        if self._closed:
            return
        self._closed = True
        thread = getattr(self, "_thread", None)
        if thread is not None:
            self._later.put(_STOP)
            thread.join()
        if getattr(self, "status", None) is not None:
            self.status.close()
        for h in self._handles:
            h.close()
        self._handles.clear()


def attach_controls(profile: BoardProfile, board, actions: CameraActions, config: Config, clock: Clock, *,
                    threaded: bool = True) -> Controls:
    """Wire the profile's buttons and status outputs on ``board`` to ``actions``; ``close()`` the result."""
    return Controls(profile, board, actions, config, clock, threaded=threaded)
