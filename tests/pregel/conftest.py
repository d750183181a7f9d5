"""Fixtures shared by the engine tests."""

import asyncio
from typing import Any, Callable, Iterator, Optional

import pytest

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver


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


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def checkpointer(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """The engine's checkpointer tests run on each backend: memory, SQLite, PostgreSQL
    (a schema of its own per test)."""
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param == "sqlite":
        with SqliteSaver.from_conn_string(str(tmp_path / "engine.db")) as saver:
            yield saver
    else:
        from _services import fresh_postgres_schema
        from stategraph.checkpoint.postgres import PostgresSaver

        with fresh_postgres_schema() as url, PostgresSaver.from_conn_string(url) as saver:
            yield saver
