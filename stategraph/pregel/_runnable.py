"""A graph as a LangChain ``Runnable``, for composing it with LCEL: ``graph | step``,
``graph.pipe(...)``, ``graph.map()``.

The engine itself does not import langchain-core (a graph is not a ``Runnable`` subclass); a
graph becomes one only when it is composed, and the adapter hands every call to the graph's
own ``invoke``/``ainvoke``/``stream``/``astream``, so the composed graph streams its chunks and
runs as a subgraph of the node that calls it, exactly as when called directly.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional

from langchain_core.runnables import Runnable, RunnableConfig

__all__ = ["GraphRunnable"]


class GraphRunnable(Runnable[Any, Any]):
    """``graph`` behind LangChain's ``Runnable`` interface."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.name = graph.get_name()

    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        return self.graph.invoke(input, config, **kwargs)

    async def ainvoke(
        self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any
    ) -> Any:
        return await self.graph.ainvoke(input, config, **kwargs)

    def stream(
        self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self.graph.stream(input, config, **kwargs)

    async def astream(
        self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in self.graph.astream(input, config, **kwargs):
            yield chunk
