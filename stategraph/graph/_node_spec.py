"""A node as added to a ``StateGraph`` builder, before compilation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from stategraph.pregel._call import is_runnable
from stategraph.types import CachePolicy

__all__ = ["DEFAULT_ERROR_HANDLER", "ERROR_HANDLER_PREFIX", "NodeCallable", "StateNodeSpec", "node_name"]


class NodeCallable:
    """A function or callable object added as a node, held as LangGraph holds it: ``func`` is
    what was added (``builder.nodes[name].runnable.func``)."""

    __slots__ = ("func", "name")

    def __init__(self, func: Any, name: str) -> None:
        self.func = func
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"NodeCallable({self.name!r}, func={self.func!r})"


@dataclass
class StateNodeSpec:
    """A node as added to the builder."""

    runnable: Any
    metadata: Optional[dict[str, Any]]
    input_schema: Any
    retry_policy: Any
    cache_policy: Optional[CachePolicy]
    ends: Union[tuple[str, ...], dict[str, str], None] = None
    defer: bool = False
    timeout: Any = None
    is_error_handler: bool = False
    error_handler_node: Optional[str] = None  # the hidden node that handles this node's failures
    trace_policy: Any = None  # TracePolicy: what the node's trace run records

    @property
    def action(self) -> Any:
        """What was added as the node: a function, callable object, Runnable or graph."""
        runnable = self.runnable
        return runnable.func if isinstance(runnable, NodeCallable) else runnable


ERROR_HANDLER_PREFIX = "__error_handler__"
DEFAULT_ERROR_HANDLER = "__default_error_handler__"


def node_name(action: Any) -> str:
    if is_runnable(action) and hasattr(action, "get_name"):
        return action.get_name()
    name = getattr(action, "__name__", None)
    if isinstance(name, str):
        return name
    return type(action).__name__
