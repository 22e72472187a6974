"""Small keyed caches so a pipeline built per capture reuses its lookup tables and gain maps.

The daemon calls ``build_pipeline(tuning)`` for every capture; tables that depend only on the tuning (tone
LUTs) or on the tuning and the light (lens-shading maps) are kept here, keyed by a digest of the typed block's
content, not by object identity, so a rebuilt pipeline over the same file finds them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

import numpy as np

from ..tuning import Pwl

T = TypeVar("T")


def view_digest(*views: Any) -> str:
    """A short digest of typed tuning views (``tuning.blocks``): their numbers, arrays included, by value."""
    h = hashlib.blake2b(digest_size=12)
    stack = list(views)
    while stack:
        v = stack.pop()
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            h.update(type(v).__name__.encode())
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))
        elif isinstance(v, np.ndarray):
            h.update(str(v.shape).encode() + np.ascontiguousarray(v, dtype=np.float64).tobytes())
        elif isinstance(v, Pwl):
            stack += [v.x, v.y]
        elif isinstance(v, (tuple, list)):
            h.update(b"(%d" % len(v))
            stack.extend(v)
        elif isinstance(v, dict):
            h.update(b"{%d" % len(v))
            for k in sorted(v, key=str):
                h.update(str(k).encode())
                stack.append(v[k])
        else:
            h.update(repr(v).encode())
    return h.hexdigest()


class Memo:
    """A bounded least-recently-used map from a hashable key to a value computed on first use."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
