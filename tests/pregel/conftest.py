"""Fixtures shared by the engine tests."""

import asyncio
from typing import Any, Callable, Optional

import pytest


@pytest.fixture(params=["sync", "async"])
def stream(request: pytest.FixtureRequest) -> Callable[..., list[Any]]:
    """``stream(graph, input, config=None, **kwargs)`` -> list of chunks, sync or async."""

    def call(graph: Any, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> list[Any]:
        if request.param == "sync":
            return list(graph.stream(input, config, **kwargs))

        async def collect() -> list[Any]:
            return [chunk async for chunk in graph.astream(input, config, **kwargs)]

        return asyncio.run(collect())

    return call
