"""Listeners told when the serializer allows or blocks a stored type, at LangGraph's path.

Lets an application audit which classes its checkpoints rebuild before it tightens
``allowed_msgpack_modules``. A failing listener is logged and never breaks a read.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, TypedDict

from typing_extensions import NotRequired

__all__ = ["SerdeEvent", "SerdeEventListener", "emit_serde_event", "register_serde_event_listener"]

logger = logging.getLogger(__name__)


class SerdeEvent(TypedDict):
    """``kind`` is ``"msgpack_blocked"`` or ``"msgpack_unregistered_allowed"``."""

    kind: str
    module: str
    name: str
    method: NotRequired[str]


SerdeEventListener = Callable[[SerdeEvent], None]

_listeners: list[SerdeEventListener] = []
_lock = threading.Lock()


def register_serde_event_listener(listener: SerdeEventListener) -> Callable[[], None]:
    """Call ``listener`` with every serde event; returns a function that unregisters it."""
    with _lock:
        _listeners.append(listener)

    def unregister() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unregister


def emit_serde_event(event: SerdeEvent) -> None:
    """Send ``event`` to every registered listener."""
    with _lock:
        listeners = tuple(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            logger.warning("Serde event listener %r failed", listener, exc_info=True)
