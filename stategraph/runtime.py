"""``Runtime``: what a node can reach besides its state (context, store, stream writer)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Generic, Optional

from stategraph._context import require_task
from stategraph.typing import ContextT

__all__ = ["DEFAULT_RUNTIME", "ExecutionInfo", "RunControl", "Runtime", "ServerInfo", "get_runtime"]


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

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with the given fields replaced."""
        return replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Set when the graph runs under the stategraph server."""

    assistant_id: Optional[str] = None
    graph_id: Optional[str] = None
    user: Any = None


def server_info_of(configurable: dict[str, Any]) -> Optional[ServerInfo]:
    """What a server put in a run's configurable, as LangGraph's: ``assistant_id``,
    ``graph_id`` and the authenticated ``langgraph_auth_user`` (anything with an ``identity``)."""
    assistant_id = configurable.get("assistant_id")
    graph_id = configurable.get("graph_id")
    user = configurable.get("langgraph_auth_user")
    if user is not None and not hasattr(user, "identity"):
        user = None
    if assistant_id is None and graph_id is None and user is None:
        return None
    return ServerInfo(
        assistant_id=str(assistant_id) if assistant_id else "",
        graph_id=str(graph_id) if graph_id else "",
        user=user,
    )


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
    def drain_reason(self) -> Optional[str]:
        return self._reason

    # The name this property had before LangGraph's ``drain_reason`` was adopted.
    reason = drain_reason


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

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """``other``'s values where it has them, this runtime's elsewhere (a parent's runtime
        merged with what a subgraph or task sets)."""
        return Runtime(
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=self.stream_writer if other.stream_writer is _no_op_writer else other.stream_writer,
            heartbeat=self.heartbeat if other.heartbeat is _no_op_heartbeat else other.heartbeat,
            previous=self.previous if other.previous is None else other.previous,
            execution_info=other.execution_info or self.execution_info,
            server_info=other.server_info or self.server_info,
            control=other.control or self.control,
        )

    def override(self, **changes: Any) -> Runtime[ContextT]:
        return replace(self, **changes)

    def patch_execution_info(self, **overrides: Any) -> Runtime[ContextT]:
        """A copy whose ``execution_info`` has the given fields replaced."""
        if self.execution_info is None:
            raise RuntimeError(
                "Cannot patch execution_info before it has been set. The engine sets it when "
                "a task starts; outside a task, pass execution_info=ExecutionInfo(...) first."
            )
        return replace(self, execution_info=self.execution_info.patch(**overrides))

    @property
    def drain_requested(self) -> bool:
        return self.control is not None and self.control.drain_requested

    @property
    def drain_reason(self) -> Optional[str]:
        return self.control.drain_reason if self.control is not None else None


# The runtime of code that runs outside any graph run: no context, store or writer.
DEFAULT_RUNTIME: Runtime[Any] = Runtime()


def get_runtime(context_schema: Any = None) -> Runtime[Any]:
    """The ``Runtime`` of the node, task or entrypoint that is running now."""
    return require_task("get_runtime").runtime
