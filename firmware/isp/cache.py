"""Small keyed caches so a pipeline built per capture reuses its lookup tables and gain maps.

The daemon calls ``build_pipeline(tuning)`` for every capture; tables that depend only on the tuning (tone
LUTs) or on the tuning and the light (lens-shading maps) are kept here, keyed by a digest of the block's
content, not by object identity, so a rebuilt pipeline over the same file finds them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from ..tuning import TuningFile

T = TypeVar("T")


def block_digest(tuning: TuningFile, *names: str) -> str:
    """A short digest of the named blocks' parameters (absent blocks count as absent)."""
    h = hashlib.blake2b(digest_size=12)
    for name in names:
        h.update(json.dumps([name, tuning.block(name), tuning.target], sort_keys=True).encode())
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
