"""The JSON sidecar beside each capture: the frame's metadata and how the capture was made."""

from __future__ import annotations

import json
from typing import Any, Mapping


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def encode_sidecar(metadata: Mapping[str, Any], capture: Mapping[str, Any]) -> bytes:
    doc = {"metadata": _plain(metadata), "capture": _plain(capture)}
    return (json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
