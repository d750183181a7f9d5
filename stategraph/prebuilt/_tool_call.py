"""One tool call on its way to a tool: the request interceptors see, and the ``Send`` payload.

``wrap_tool_call(request, execute)`` interceptors receive a ``ToolCallRequest`` and may call
``execute`` any number of times (retries) with the request or an ``override()`` of it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from typing_extensions import TypedDict

from stategraph.prebuilt._injection import ToolRuntime
from stategraph.types import Command

__all__ = ["AsyncToolCallWrapper", "ToolCallRequest", "ToolCallWithContext", "ToolCallWrapper"]


@dataclass
class ToolCallRequest:
    """A tool call about to run: the call, its tool (None if unknown), the state, the runtime.

    Treat it as immutable: ``override()`` makes a changed copy. Assigning an attribute still
    works, as in LangGraph, but warns, since an interceptor that retries would otherwise see
    its own earlier change.
    """

    tool_call: ToolCall
    tool: BaseTool | None
    state: Any
    runtime: ToolRuntime[Any, Any]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dataclass_fields__ and hasattr(self, name):
            warnings.warn(
                f"Setting attribute '{name}' on ToolCallRequest is deprecated. Use the "
                "override() method instead to create a new instance with modified values.",
                DeprecationWarning,
                stacklevel=2,
            )
        object.__setattr__(self, name, value)

    def override(self, **changes: Any) -> ToolCallRequest:
        """A copy with ``tool_call``, ``tool`` or ``state`` replaced (``state`` also in runtime)."""
        request = dataclasses.replace(self, **changes)
        if "state" in changes and isinstance(request.runtime, ToolRuntime):
            request = dataclasses.replace(request, runtime=dataclasses.replace(request.runtime, state=request.state))
        return request


ToolResult = Union[ToolMessage, Command[Any]]
ToolCallWrapper = Callable[[ToolCallRequest, Callable[[ToolCallRequest], ToolResult]], ToolResult]
AsyncToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], Awaitable[ToolResult]]], Awaitable[ToolResult]
]


class ToolCallWithContext(TypedDict):
    """What ``create_react_agent`` sends to its ``tools`` node per call: the call plus the state."""

    __type: Literal["tool_call_with_context"]
    tool_call: ToolCall
    state: Any


def is_tool_call_with_context(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type") == "tool_call_with_context"
