"""A graph node with a sync body and an optional async one, shaped as a LangChain ``Runnable``.

The engine calls any node that has ``invoke(input, config)`` and ``ainvoke(input, config)`` with
the task's config; prebuilt nodes are such objects, so they also work outside a graph.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config, run_in_executor

__all__ = ["NodeRunnable"]

SyncBody = Callable[[Any, RunnableConfig], Any]
AsyncBody = Callable[[Any, RunnableConfig], Awaitable[Any]]


class NodeRunnable(Runnable[Any, Any]):
    """Runs ``func(input, config)``, or ``afunc(input, config)`` from async code.

    Without ``afunc`` the async path runs ``func`` in a worker thread (context kept), so a
    blocking body never stalls the event loop.
    """

    def __init__(
        self,
        func: SyncBody,
        afunc: AsyncBody | None = None,
        *,
        name: str,
        tags: list[str] | None = None,
    ) -> None:
        self.func = func
        self.afunc = afunc
        self.name = name
        self.tags = list(tags or [])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.func(input, ensure_config(config))

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        config = ensure_config(config)
        if self.afunc is not None:
            return await self.afunc(input, config)
        return await run_in_executor(config, self.func, input, config)
