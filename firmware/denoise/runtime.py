"""The TFLite runtime seam: one place chooses the interpreter, and tests can swap in a fake.

Order of preference: ``ai-edge-litert`` (LiteRT, the maintained runtime, numpy 2), ``tflite-runtime`` (the
last release, 2.14, needs numpy<2 and runs int8 without XNNPACK), then ``tensorflow.lite`` (a development
machine with TensorFlow). ``CAMERAD_TFLITE_RUNTIME`` forces one of ``litert``, ``tflite-runtime``,
``tensorflow`` or ``none`` (behave as if no runtime were installed).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
import tempfile
import threading
from typing import Callable, Iterator

import numpy as np

from firmware.errors import CameradError

log = logging.getLogger(__name__)

ENV = "CAMERAD_TFLITE_RUNTIME"
RUNTIMES = {
    "litert": "ai_edge_litert.interpreter",
    "tflite-runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}


class RuntimeUnavailable(CameradError, ImportError):
    """No TFLite interpreter can be imported (or ``CAMERAD_TFLITE_RUNTIME=none``)."""


class ModelError(CameradError, RuntimeError):
    """A denoiser model file is missing, unreadable or not what its metadata says."""


def choose(preference: str | None = None) -> tuple[str, type]:
    """(name, Interpreter class) of the first runtime that imports, or the one ``preference``/env names."""
    want = preference or os.environ.get(ENV, "").strip() or None
    if want == "none":
        raise RuntimeUnavailable(f"no TFLite runtime: {ENV}=none")
    if want is not None and want not in RUNTIMES:
        raise RuntimeUnavailable(f"{ENV}={want!r} is not one of {', '.join(RUNTIMES)}, none")
    tried = []
    for name, module in RUNTIMES.items():
        if want is not None and name != want:
            continue
        try:
            return name, importlib.import_module(module).Interpreter
        except Exception as exc:  # a broken install (e.g. tflite-runtime under numpy 2) fails beyond ImportError
            tried.append(f"{module}: {exc.__class__.__name__}: {exc}")
    raise RuntimeUnavailable("no TFLite runtime could be imported (" + "; ".join(tried) + ")")


def load(path, threads: int, preference: str | None = None):
    """An interpreter for the model at ``path`` on ``threads`` CPU threads; resize and allocate it next."""
    name, cls = choose(preference)
    try:
        interp = cls(model_path=str(path), num_threads=int(threads))
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"{path}: cannot load the model with {name}: {exc}") from exc
    interp.runtime_name = name
    return interp


_first_allocation = threading.Lock()
_allocated_once = False
_PREFIXED = re.compile(r"^<\d>")  # a line our own logging wrote meanwhile (firmware.logs' journal prefix)


def allocate(interp) -> None:
    """``interp.allocate_tensors()``. The first one in a process is where the TFLite runtime prints
    ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` straight to the process's stderr (its C++
    logger, which no environment variable quiets): that line goes through our logging instead, with its level
    and a name, rather than into the journal without a priority prefix."""
    global _allocated_once
    if _allocated_once:
        interp.allocate_tensors()
        return
    with _first_allocation:
        if _allocated_once:
            interp.allocate_tensors()
            return
        with _native_stderr_to_log():
            interp.allocate_tensors()
        _allocated_once = True


@contextlib.contextmanager
def _native_stderr_to_log() -> Iterator[None]:
    """While inside, what native code writes to file descriptor 2 is collected, then logged line by line
    (lines our own handlers wrote meanwhile, from other threads, are passed on unchanged)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no stderr descriptor at all
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
    for line in text.splitlines():
        if _PREFIXED.match(line):
            sys.stderr.write(line + "\n")
        elif line.strip():
            level, _, message = line.partition(": ")
            known = {"INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}.get(level)
            # The runtime's INFO lines (the delegate it made) are a developer's concern: debug level here;
            # anything it prints without a level is unexpected, so it is a warning.
            level_no = logging.DEBUG if known == logging.INFO else known or logging.WARNING
            log.log(level_no, "tflite: %s", message if known else line)


class FakeInterpreter:
    """An in-memory stand-in with the interpreter calls the denoiser makes; ``fn`` maps input to output."""

    runtime_name = "fake"

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], shape: tuple[int, ...]):
        self.fn = fn
        self.shape = tuple(shape)
        self.invocations = 0
        self._x = self._y = None

    def allocate_tensors(self):
        self._x = np.zeros(self.shape, np.float32)
        self._y = None

    def get_input_details(self):
        return [{"index": 0, "shape": np.array(self.shape), "dtype": np.float32, "quantization": (0.0, 0)}]

    def get_output_details(self):
        return [{"index": 1, "shape": np.array(self.shape), "dtype": np.float32, "quantization": (0.0, 0)}]

    def resize_tensor_input(self, index, shape):
        self.shape = tuple(shape)

    def tensor(self, index):
        """Like the real call: a function returning the tensor's buffer (the input is written in place)."""
        return lambda: self._x if index == 0 else self._y

    def invoke(self):
        if self._x is None or self._x.shape != self.shape:
            raise ValueError(f"fake interpreter: tensors not allocated for {self.shape}")
        self.invocations += 1
        self._y = np.asarray(self.fn(self._x.copy()), dtype=np.float32)
