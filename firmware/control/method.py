"""What a control method is and what it may use: ``Method`` (name, params, summary) and its ``Context``.

The methods' modules (``methods_*.py``) import this, and the dispatcher imports them: arrows one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..camera import Camerad
from .params import Param

if TYPE_CHECKING:  # pragma: no cover
    from .server import Peer


@dataclass
class Context:
    """What a method may use: the camera, the caller, the daemon's reload, and the methods being served."""

    camera: Camerad
    peer: "Peer | None" = None
    reload: Callable[[], str | None] | None = None  # returns None on success, else why it was rejected
    methods: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    name: str
    run: Callable[[Context, dict[str, Any]], Any]
    params: Mapping[str, Param]
    summary: str
    changes_state: bool = False
