"""Every public exception of stategraph, with messages that name the problem and the fix.

The tree (LangGraph's names and builtin bases are kept so ``except`` clauses port unchanged)::

    Exception
    ├── StategraphError
    │   ├── InvalidUpdateError
    │   ├── EmptyInputError
    │   ├── TaskNotFound
    │   ├── NodeTimeoutError
    │   ├── NodeCancelledError
    │   ├── InvalidNamespaceError (also ValueError)  a store namespace that cannot be stored
    │   ├── StoreIndexNotConfiguredError (also ValueError)  search(query=...) without an index
    │   ├── DatabaseConnectionError (also ConnectionError)  a database that does not answer
    │   └── GraphBuildError (also ValueError)       bad builder input, found at add/compile time
    ├── EmptyChannelError                            reading a channel that holds no value
    ├── GraphBubbleUp                                control flow; never a StategraphError
    │   ├── GraphInterrupt
    │   │   └── NodeInterrupt (deprecated)
    │   ├── ParentCommand
    │   └── GraphDrained
    ├── RecursionError
    │   └── GraphRecursionError
    ├── RuntimeError
    │   └── ResumeError                              resume misuse (nothing pending, ambiguous)
    ├── UnknownInterruptError                        strict resume: answer matches no pending one
    └── InvalidModuleError                           stored JSON names a symbol not allowed

Control-flow signals derive from ``GraphBubbleUp`` so ``except StategraphError`` can never
swallow an interrupt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Optional, Sequence

__all__ = [
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphBuildError",
    "GraphDrained",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidUpdateError",
    "NodeCancelledError",
    "NodeError",
    "is_invalid_resume",
    "NodeInterrupt",
    "NodeTimeoutError",
    "ParentCommand",
    "ResumeError",
    "StategraphError",
    "TaskNotFound",
    "create_error_message",
]


class ErrorCode(Enum):
    GRAPH_RECURSION_LIMIT = "GRAPH_RECURSION_LIMIT"
    INVALID_CONCURRENT_GRAPH_UPDATE = "INVALID_CONCURRENT_GRAPH_UPDATE"
    INVALID_GRAPH_NODE_RETURN_VALUE = "INVALID_GRAPH_NODE_RETURN_VALUE"
    MULTIPLE_SUBGRAPHS = "MULTIPLE_SUBGRAPHS"
    INVALID_CHAT_HISTORY = "INVALID_CHAT_HISTORY"


def create_error_message(*, message: str, error_code: ErrorCode) -> str:
    """LangGraph's message format: the message, then a troubleshooting line naming the code."""
    return (
        f"{message}\n"
        "For troubleshooting, visit: https://docs.langchain.com/oss/python/langgraph/"
        f"errors/{error_code.value}"
    )


class StategraphError(Exception):
    """Base of stategraph's own errors (not of control-flow signals)."""


class GraphBuildError(StategraphError, ValueError):
    """The graph definition is invalid (raised by the builder and by ``compile()``)."""


class GraphRecursionError(RecursionError):
    """The run used up its step budget (``recursion_limit``) without reaching END."""


class InvalidUpdateError(StategraphError):
    """A node, input or ``update_state`` produced writes the channels cannot accept."""


class EmptyInputError(StategraphError):
    """A run was started with no input and there is nothing to resume."""


class TaskNotFound(StategraphError):
    """A distributed worker was asked to run a task that does not exist."""


class EmptyChannelError(Exception):
    """Raised when reading a channel that holds no value yet."""


class ResumeError(RuntimeError):
    """A ``Command(resume=...)`` that cannot be matched to what the thread is waiting for."""


class GraphBubbleUp(Exception):
    """Base of control-flow exceptions: never retried, never treated as task failures."""


class GraphInterrupt(GraphBubbleUp):
    """Raised by ``interrupt()`` and breakpoints; ``args[0]`` is the tuple of ``Interrupt``s."""

    def __init__(self, interrupts: Sequence[Any] = ()) -> None:
        super().__init__(tuple(interrupts))

    @property
    def interrupts(self) -> tuple[Any, ...]:
        return self.args[0]


class NodeInterrupt(GraphInterrupt):
    """Deprecated: raise ``interrupt(value)`` instead. Interrupts without resume support."""

    def __init__(self, value: Any, id: str | None = None) -> None:
        import warnings

        from stategraph.types import Interrupt
        from stategraph.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "NodeInterrupt is deprecated. Please use `stategraph.types.interrupt` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        if id is None:
            super().__init__([Interrupt(value=value)])
        else:
            super().__init__([Interrupt(value=value, id=id)])


class ParentCommand(GraphBubbleUp):
    """Carries a ``Command(graph=Command.PARENT)`` from a subgraph node to its parent graph."""

    def __init__(self, command: Any) -> None:
        super().__init__(command)

    @property
    def command(self) -> Any:
        return self.args[0]


class GraphDrained(GraphBubbleUp):
    """The run stopped cleanly at a step boundary after a drain was requested."""

    def __init__(self, reason: str = "shutdown") -> None:
        super().__init__(reason)
        self.reason = reason


class NodeTimeoutError(StategraphError):
    """A node attempt ran past its timeout (retryable by default, unlike ``TimeoutError``)."""

    def __init__(
        self,
        node: str,
        elapsed: float,
        *,
        kind: str = "run",
        idle_timeout: float | None = None,
        run_timeout: float | None = None,
    ) -> None:
        super().__init__(f"Node '{node}' timed out after {elapsed:.3f}s ({kind} timeout).")
        self.node = node
        self.elapsed = elapsed
        self.kind = kind
        self.idle_timeout = idle_timeout
        self.run_timeout = run_timeout


class NodeCancelledError(StategraphError):
    """The node body itself raised ``asyncio.CancelledError``."""

    def __init__(self, node: str, message: Optional[str] = None) -> None:
        super().__init__(
            message
            or f"Node {node!r} raised asyncio.CancelledError. A node that raises it fails like "
            "any other; to stop a run, raise an exception of your own or use interrupt()."
        )
        self.node = node


_INVALID_RESUME = "_stategraph_invalid_resume"


def mark_invalid_resume(error: BaseException) -> None:
    """Mark ``error`` as raised because a resume answer failed ``interrupt``'s response_schema."""
    setattr(error, _INVALID_RESUME, True)


def is_invalid_resume(error: BaseException) -> bool:
    """Whether ``error`` was raised because a resume answer did not match ``response_schema``.

    ``ToolNode`` lets such errors fail the run (rather than telling the model about them), so
    the interrupt stays pending and can be answered again.
    """
    return getattr(error, _INVALID_RESUME, False) is True


@dataclass(frozen=True, slots=True)
class NodeError:
    """Failure information handed to a node error handler (not an exception)."""

    node: str
    error: BaseException


class InvalidNamespaceError(StategraphError, ValueError):
    """A store namespace is malformed (empty, a non-string or dotted label, or reserved root).

    Re-exported from ``stategraph.store.base``; a ``ValueError`` as in LangGraph.
    """


__all__.append("InvalidNamespaceError")


class StoreIndexNotConfiguredError(StategraphError, ValueError):
    """``search(query=...)`` on a store created without ``index=``: nothing was embedded.

    The message shows the ``index={"dims": ..., "embed": ..., "fields": [...]}`` to pass.
    """


class DatabaseConnectionError(StategraphError, ConnectionError):
    """A database server could not be reached; the message names the host and port tried.

    The driver's own error is chained as ``__cause__``.
    """


__all__ += ["DatabaseConnectionError", "StoreIndexNotConfiguredError"]


class SerializationError(StategraphError, TypeError):
    """A value cannot be stored: its type is not one the checkpoint serializer may rebuild.

    Raised at write time (never at read time), naming the type, where it was found (channel,
    write or metadata key) and how to allow it (``register_types`` or an allow-list).
    """


class DeserializationError(StategraphError, ValueError):
    """Stored bytes cannot be decoded: corrupt, encrypted with another key, or naming a type
    that is not in the serializer's registry (stored bytes never import or call other types).
    """


class UnknownInterruptError(Exception):
    """A resume that does not match the pending interrupts (LangGraph's strict resume mode).

    ``reason`` is ``"not_pending"`` (``interrupt_ids`` names interrupts that are not waiting),
    ``"empty_map"`` (the resume map is empty) or ``"ambiguous"`` (one value, several pending).
    ``pending_ids`` lists the interrupts still waiting; nothing was written, so they can still
    be answered.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: Literal["not_pending", "empty_map", "ambiguous"],
        interrupt_ids: Sequence[str] = (),
        pending_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.interrupt_ids = tuple(interrupt_ids)
        self.pending_ids = tuple(pending_ids)


__all__ += ["UnknownInterruptError"]


class InvalidModuleError(Exception):
    """A stored JSON constructor names a symbol outside ``allowed_json_modules`` (LangGraph's
    name and base). ``message`` holds the text, as in LangGraph."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


__all__ += ["DeserializationError", "InvalidModuleError", "SerializationError"]
