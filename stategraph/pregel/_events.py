"""LangChain's events API over a graph run (``astream_events``, ``version="v2"`` or ``"v1"``).

langchain-core's own event streamer turns the callbacks of the graph run, its node runs and
the models and tools they call into events; we hand it the graph's ``astream``.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from contextlib import aclosing
from typing import Any, AsyncIterator, Iterator, Optional, Sequence

_DONE = object()


async def astream_events(
    graph: Any,
    input: Any,
    config: Optional[dict[str, Any]],
    *,
    version: str,
    filters: dict[str, Any],
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    if version not in ("v1", "v2"):
        raise NotImplementedError(
            f"astream_events(version={version!r}) is not supported; use version='v2' (or 'v1')."
        )
    try:
        from langchain_core.tracers.event_stream import (
            _astream_events_implementation_v1,
            _astream_events_implementation_v2,
        )
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "astream_events needs langchain-core: pip install 'stategraph[agents]'."
        ) from error
    if version == "v1":  # built on astream_log, as in LangChain
        streamed = _astream_events_implementation_v1(
            graph._as_runnable(), input, dict(config or {}), **filters, **kwargs
        )
    else:
        streamed = _astream_events_implementation_v2(
            graph, input, dict(config or {}), **filters, **kwargs
        )
    # Each layer closes the one it reads: a consumer that stops reading stops the run at once.
    async with aclosing(streamed) as events:
        async for event in events:
            yield event


def stream_events(
    graph: Any, input: Any, config: Optional[dict[str, Any]], *, version: str, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()

    async def pump() -> None:
        try:
            async for event in graph.astream_events(input, config, version=version, **kwargs):
                items.put(event)
        except BaseException as error:  # delivered to the caller's thread below
            items.put(error)
        finally:
            items.put(_DONE)

    worker = threading.Thread(target=lambda: asyncio.run(pump()), daemon=True)
    worker.start()
    while True:
        item = items.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    worker.join()


class EventMethods:
    """``Pregel``'s LangChain events methods."""

    async def astream_events(
        self,
        input: Any,
        config: Optional[dict[str, Any]] = None,
        *,
        version: str = "v2",
        include_names: Optional[Sequence[str]] = None,
        include_types: Optional[Sequence[str]] = None,
        include_tags: Optional[Sequence[str]] = None,
        exclude_names: Optional[Sequence[str]] = None,
        exclude_types: Optional[Sequence[str]] = None,
        exclude_tags: Optional[Sequence[str]] = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """LangChain's events API (``version="v2"``, or the older "v1"): every graph, node, model and
        tool event."""
        filters = dict(
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
        )
        streamed = astream_events(self, input, config, version=version, filters=filters, **kwargs)
        async with aclosing(streamed) as events:
            async for event in events:
                yield event

    def stream_events(
        self, input: Any, config: Optional[dict[str, Any]] = None, *, version: str = "v2", **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        """Sync ``astream_events``: the events of a run, from a worker thread's event loop."""
        yield from stream_events(self, input, config, version=version, **kwargs)
