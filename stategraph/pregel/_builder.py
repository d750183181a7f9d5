"""``NodeBuilder``: LangGraph's fluent way to define a node of a low-level ``Pregel`` graph.

    node = NodeBuilder().subscribe_only("a").do(double).write_to("b")
    graph = Pregel(nodes={"double": node}, channels={...}, input_channels="a", output_channels="b")
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

from stategraph._context import current_task
from stategraph.pregel._call import NodeCall, is_async_callable
from stategraph.pregel._node import PregelNode
from stategraph.pregel._timeout import timeout_policy
from stategraph.types import CachePolicy, RetryPolicy

PASSTHROUGH: Any = object()


@dataclass(frozen=True, slots=True)
class ChannelWriteEntry:
    """One write of a node: ``value`` (or the node's output) to ``channel``."""

    channel: str
    value: Any = PASSTHROUGH
    skip_none: bool = False
    mapper: Optional[Callable[[Any], Any]] = None


class _Steps:
    """The functions added with ``do``, run one after another on the node's input."""

    def __init__(self, functions: Sequence[Callable[..., Any]]) -> None:
        self.__stategraph_steps__ = tuple(functions)
        self.calls = [NodeCall(f, getattr(f, "__name__", "step")) for f in functions]
        self.__name__ = self.calls[-1].name if self.calls else "passthrough"

    def __call__(self, value: Any) -> Any:
        context = current_task.get()
        for call in self.calls:
            value = call(value, context)  # type: ignore[arg-type]
        return value

    async def __stategraph_acall__(self, value: Any) -> Any:
        """In an async run: a runnable step through its ``ainvoke``, a function on a worker
        thread."""
        context = current_task.get()
        for call in self.calls:
            value = await call.acall(value, context)  # type: ignore[arg-type]
        return value


class _AsyncSteps(_Steps):
    async def __call__(self, value: Any) -> Any:  # type: ignore[override]
        context = current_task.get()
        for call in self.calls:
            value = await call.acall(value, context)  # type: ignore[arg-type]
        return value


class _Writes:
    """Maps a node's output to its ``write_to`` entries."""

    def __init__(self, entries: Sequence[ChannelWriteEntry]) -> None:
        self.entries = list(entries)

    def __call__(self, returned: Any, task: Any, read: Any) -> list[tuple[str, Any]]:
        writes = []
        for entry in self.entries:
            value = returned if entry.value is PASSTHROUGH else entry.value
            if entry.mapper is not None:
                value = entry.mapper(value)
            if entry.skip_none and value is None:
                continue
            writes.append((entry.channel, value))
        return writes


class NodeBuilder:
    """Builds a ``PregelNode``: what triggers it, what it reads, what it does and writes."""

    def __init__(self) -> None:
        self._reads: Union[str, list[str], None] = None
        self._triggers: list[str] = []
        self._functions: list[Callable[..., Any]] = []
        self._writes: list[ChannelWriteEntry] = []
        self._tags: list[str] = []
        self._metadata: dict[str, Any] = {}
        self._retry: list[RetryPolicy] = []
        self._cache: Optional[CachePolicy] = None
        self._timeout: Any = None

    def subscribe_only(self, channel: str) -> NodeBuilder:
        """Run when ``channel`` is updated; the node's input is that channel's value."""
        if self._reads is not None:
            raise ValueError("subscribe_only() must be the only way the node reads channels.")
        self._reads = channel
        self._triggers.append(channel)
        return self

    def subscribe_to(self, *channels: str, read: bool = True) -> NodeBuilder:
        """Run when any of ``channels`` is updated; with ``read``, they are in its input dict."""
        if isinstance(self._reads, str):
            raise ValueError("Cannot subscribe_to() after subscribe_only(); pick one.")
        self._triggers.extend(channels)
        if read:
            self._reads = [*(self._reads or []), *channels]
        return self

    def read_from(self, *channels: str) -> NodeBuilder:
        """Add ``channels`` to the node's input dict without being triggered by them."""
        if isinstance(self._reads, str):
            raise ValueError("Cannot read_from() after subscribe_only(); use subscribe_to().")
        self._reads = [*(self._reads or []), *channels]
        return self

    def do(self, function: Callable[..., Any]) -> NodeBuilder:
        """Run ``function`` on the input (several ``do``s chain, each on the last's output)."""
        self._functions.append(function)
        return self

    def write_to(self, *channels: Union[str, ChannelWriteEntry], **values: Any) -> NodeBuilder:
        """Write the node's output to ``channels``; ``name=value`` writes a value or
        ``name=callable`` the callable applied to the output."""
        for channel in channels:
            self._writes.append(channel if isinstance(channel, ChannelWriteEntry) else ChannelWriteEntry(channel))
        for channel, value in values.items():
            if callable(value) and not inspect.isclass(value):
                self._writes.append(ChannelWriteEntry(channel, mapper=value))
            else:
                self._writes.append(ChannelWriteEntry(channel, value))
        return self

    def meta(self, *tags: str, **metadata: Any) -> NodeBuilder:
        self._tags.extend(tags)
        self._metadata.update(metadata)
        return self

    def add_retry_policies(self, *policies: RetryPolicy) -> NodeBuilder:
        self._retry.extend(policies)
        return self

    def add_cache_policy(self, policy: CachePolicy) -> NodeBuilder:
        self._cache = policy
        return self

    def set_timeout(self, timeout: Any) -> NodeBuilder:
        self._timeout = timeout_policy(timeout)  # a bad value fails here, where it was given
        return self

    def build(self) -> PregelNode:
        if not self._triggers:
            raise ValueError("A node must subscribe to at least one channel: call subscribe_only() or subscribe_to().")
        is_async = any(is_async_callable(f) for f in self._functions)
        steps = (_AsyncSteps if is_async else _Steps)(self._functions) if self._functions else None
        return PregelNode(
            name="",
            triggers=tuple(self._triggers),
            reads=self._reads if isinstance(self._reads, str) else tuple(self._reads or ()),
            call=NodeCall(steps, steps.__name__) if steps is not None else None,
            write=_Writes(self._writes) if self._writes else None,
            retry_policy=tuple(self._retry),
            cache_policy=self._cache,
            metadata=dict(self._metadata),
            tags=tuple(self._tags),
            timeout=timeout_policy(self._timeout),
        )
