"""Compiled nodes and tasks: the plain data the loop runs."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import xxhash

from stategraph.pregel._call import NodeCall, is_runnable
from stategraph.types import CachePolicy, RetryPolicy

# A node's writer: (return value, task) -> [(channel, value), ...]
NodeWriter = Callable[[Any, "Task"], list[tuple[str, Any]]]


@dataclass(slots=True)
class PregelNode:
    """One node of a compiled graph.

    ``reads`` is a channel name (the node gets that channel's value) or a tuple of names (the
    node gets a dict of the available ones). ``call`` is None for pass-through nodes whose
    input goes straight to ``write``.
    """

    name: str
    triggers: tuple[str, ...]
    reads: str | tuple[str, ...]
    call: Optional[NodeCall]
    write: Optional[NodeWriter] = None
    mapper: Optional[Callable[[Any], Any]] = None
    managed: dict[str, Any] = field(default_factory=dict)
    retry_policy: Sequence[RetryPolicy] = ()
    cache_policy: Optional[CachePolicy] = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    hidden: bool = False
    subgraphs: tuple[Any, ...] = ()
    timeout: Any = None  # TimeoutPolicy for async nodes
    error_handler: Optional[str] = None  # the node that runs when this one fails
    is_error_handler: bool = False  # never planned: scheduled only for a failed task
    trace_policy: Any = None  # TracePolicy: what the node's own trace run records

    # LangGraph's public PregelNode surface: the body as ``bound``, run directly by
    # ``invoke``/``ainvoke`` with the node's tags and metadata, without its writers.
    @property
    def bound(self) -> Any:
        return self.call.action if self.call is not None else None

    @property
    def channels(self) -> str | list[str]:
        return self.reads if isinstance(self.reads, str) else list(self.reads)

    def copy(self, update: dict[str, Any]) -> PregelNode:
        return dataclasses.replace(self, **update)

    def _own_config(self, config: Optional[dict[str, Any]]) -> dict[str, Any]:
        config = dict(config or {})
        config["metadata"] = {**self.metadata, **(config.get("metadata") or {})}
        config["tags"] = [*self.tags, *(config.get("tags") or [])]
        return config

    def invoke(self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        bound = self._require_bound()
        if is_runnable(bound):
            return bound.invoke(input, self._own_config(config), **kwargs)
        return bound(input)

    async def ainvoke(self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        bound = self._require_bound()
        if is_runnable(bound):
            return await bound.ainvoke(input, self._own_config(config), **kwargs)
        result = bound(input)
        return await result if inspect.isawaitable(result) else result

    def _require_bound(self) -> Any:
        if self.call is None:
            raise TypeError(
                f"Node '{self.name}' has no body to invoke: it only passes its input to its writers."
            )
        return self.call.action


class Task:
    """One execution of a node in one step."""

    __slots__ = (
        "id",
        "name",
        "path",
        "input",
        "node",
        "triggers",
        "writes",
        "ns",
        "interrupts",
        "paused",
        "error",
        "cached",
        "config",
        "resume_values",
        "done",
        "restored",
        "caller_callbacks",
        "node_error",
        "timeout",
    )

    def __init__(
        self,
        id: str,
        name: str,
        path: tuple[Any, ...],
        input: Any,
        node: PregelNode,
        triggers: tuple[str, ...],
        ns: str,
    ) -> None:
        self.id = id
        self.name = name
        self.path = path
        self.input = input
        self.node = node
        self.triggers = triggers
        self.ns = ns
        self.writes: list[tuple[str, Any]] = []
        self.interrupts: tuple[Any, ...] = ()
        # Stopped by a subgraph's breakpoint (an interrupt with no value): nothing is saved
        # for it and it runs again when the thread resumes, as in LangGraph.
        self.paused = False
        self.error: BaseException | None = None
        self.cached = False
        self.config: dict[str, Any] | None = None
        self.resume_values: list[Any] = []
        self.done = False
        self.restored = False  # finished in an earlier run: its writes came from the checkpoint
        # A @task call's: the callbacks of the task that called it, whose trace run is its parent.
        self.caller_callbacks: Any = None
        self.node_error: Any = None  # NodeError: the failure an error-handler task handles
        self.timeout: Any = None  # a Send's TimeoutPolicy, in place of the node's

    @property
    def is_call(self) -> bool:
        """A functional ``@task`` call: its path is ``(PUSH, caller's path, index, True)``."""
        return self.path[-1] is True

    def __repr__(self) -> str:
        return f"Task({self.name!r}, id={self.id!r}, path={self.path!r})"


def task_id(checkpoint_id: str, namespace: str, step: int, name: str, kind: str, *parts: str) -> str:
    """Deterministic task id: the same checkpoint and step always yield the same ids.

    This is what lets a resumed run match saved pending writes to re-planned tasks.
    """
    digest = xxhash.xxh3_128_hexdigest(
        "\x00".join((checkpoint_id, namespace, str(step), name, kind, *parts)).encode()
    )
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
