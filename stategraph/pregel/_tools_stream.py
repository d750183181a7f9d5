"""``stream_mode="tools"``: the lifecycle of every tool call a run makes, from LangChain callbacks.

Payloads, LangGraph's: ``{"event": "tool-started", "tool_call_id", "tool_name", "input"}``,
``{"event": "tool-output-delta", "tool_call_id", "delta"}`` (from
``ToolRuntime.emit_output_delta``), ``{"event": "tool-finished", "tool_call_id", "output"}`` and
``{"event": "tool-error", "tool_call_id", "message"}``. A tool paused by ``interrupt()`` reports
no error: it runs again on resume. Imported only when a run asks for the mode.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any, Callable, Optional
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from stategraph._constants import TAG_NOSTREAM
from stategraph.errors import GraphDrained, GraphInterrupt
from stategraph.pregel._messages import Namespace, graph_namespace

__all__ = ["StreamToolCallHandler", "current_tool_writer"]

ToolWriter = Callable[[Any], None]

# The running tool call's writer of output deltas (set between its start and its end).
_tool_writer: ContextVar[Optional[ToolWriter]] = ContextVar("stategraph_tool_writer", default=None)


def current_tool_writer() -> Optional[ToolWriter]:
    """Where ``emit_output_delta`` sends a delta; None when no run streams ``tools``."""
    return _tool_writer.get()


class StreamToolCallHandler(BaseCallbackHandler):
    """Pushes ``(namespace, payload)`` for each tool-call event of the run it is attached to.

    Tools of nested graphs are reported only with ``subgraphs=True`` (or when they run in
    ``parent_ns``, the graph that attached the handler).
    """

    run_inline = True  # in the tool's own thread and context: events keep their order

    def __init__(
        self,
        push: Callable[[Namespace, dict[str, Any]], None],
        subgraphs: bool,
        *,
        parent_ns: Optional[Namespace] = None,
    ) -> None:
        self.push = push
        self.subgraphs = subgraphs
        self.parent_ns = parent_ns
        self.calls: dict[UUID, tuple[Namespace, str, Token[Optional[ToolWriter]]]] = {}

    def _namespace(self, metadata: Optional[dict[str, Any]], tags: Optional[list[str]]) -> Optional[Namespace]:
        if not metadata or (tags and TAG_NOSTREAM in tags):
            return None
        namespace = graph_namespace(metadata) if metadata.get("langgraph_checkpoint_ns") else ()
        if namespace and not self.subgraphs and namespace != self.parent_ns:
            return None
        return namespace

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        tags: Optional[list[str]] = None,
        metadata: Optional[dict[str, Any]] = None,
        inputs: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        namespace = self._namespace(metadata, tags)
        if namespace is None:
            return
        tool_call_id = kwargs.get("tool_call_id") or str(run_id)
        tool_name = (serialized or {}).get("name") or kwargs.get("name") or ""

        def write_delta(delta: Any) -> None:
            self.push(namespace, {"event": "tool-output-delta", "tool_call_id": tool_call_id, "delta": delta})

        self.calls[run_id] = (namespace, tool_call_id, _tool_writer.set(write_delta))
        payload: dict[str, Any] = {"event": "tool-started", "tool_call_id": tool_call_id, "tool_name": tool_name}
        if inputs is not None:
            payload["input"] = inputs
        self.push(namespace, payload)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        call = self._finish(run_id)
        if call is not None:
            namespace, tool_call_id = call
            self.push(namespace, {"event": "tool-finished", "tool_call_id": tool_call_id, "output": output})

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        call = self._finish(run_id)
        if call is None or isinstance(error, (GraphInterrupt, GraphDrained)):
            return  # paused, not failed: the tool runs again on resume
        namespace, tool_call_id = call
        self.push(namespace, {"event": "tool-error", "tool_call_id": tool_call_id, "message": str(error)})

    def _finish(self, run_id: UUID) -> Optional[tuple[Namespace, str]]:
        call = self.calls.pop(run_id, None)
        if call is None:
            return None
        namespace, tool_call_id, token = call
        try:
            _tool_writer.reset(token)
        except ValueError:
            pass  # ended in another context than it started in; the variable dies with it
        return namespace, tool_call_id
