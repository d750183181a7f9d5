"""``Runtime``: what a node can reach besides its state (context, store, stream writer)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Generic, Optional, TypeVar

from stategraph._context import require_task

__all__ = ["ExecutionInfo", "RunControl", "Runtime", "ServerInfo", "get_runtime"]

ContextT = TypeVar("ContextT")


def _no_op_writer(_: Any) -> None:
    return None


def _no_op_heartbeat() -> None:
    return None


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where the current attempt runs: checkpoint, task and attempt number (1-based)."""

    checkpoint_id: Optional[str] = None
    checkpoint_ns: str = ""
    task_id: Optional[str] = None
    thread_id: Optional[str] = None
    run_id: Optional[str] = None
    node_attempt: int = 1
    node_first_attempt_time: Optional[float] = None


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Set when the graph runs under the stategraph server."""

    assistant_id: Optional[str] = None
    graph_id: Optional[str] = None
    user: Any = None


class RunControl:
    """Lets a caller stop a run cleanly between steps: ``request_drain()``.

    The run finishes the step it is in, saves its checkpoint, and raises ``GraphDrained``; the
    thread resumes later with ``invoke(None, config)``. Pass it as ``invoke(..., control=...)``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: Optional[str] = None

    def request_drain(self, reason: str = "shutdown") -> None:
        with self._lock:
            if self._reason is None:
                self._reason = reason

    @property
    def drain_requested(self) -> bool:
        return self._reason is not None

    @property
    def reason(self) -> Optional[str]:
        return self._reason


@dataclass(frozen=True, slots=True)
class Runtime(Generic[ContextT]):
    """Run-scoped values injected into nodes as ``runtime``."""

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_op_writer
    heartbeat: Callable[[], None] = _no_op_heartbeat
    previous: Any = None
    execution_info: Optional[ExecutionInfo] = None
    server_info: Optional[ServerInfo] = None
    control: Any = None

    def override(self, **changes: Any) -> Runtime[ContextT]:
        return replace(self, **changes)


def get_runtime(context_schema: Any = None) -> Runtime[Any]:
    """The ``Runtime`` of the node, task or entrypoint that is running now."""
    return require_task("get_runtime").runtime
