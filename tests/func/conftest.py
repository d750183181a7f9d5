"""Fixtures for the functional API tests: every test runs on the memory and the SQLite saver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stategraph.cache.memory import InMemoryCache
from stategraph.cache.sqlite import SqliteCache
from stategraph.checkpoint.base import BaseCheckpointSaver
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver

from .support import Counter, FakeClock


@pytest.fixture(params=["memory", "sqlite"])
def checkpointer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver[Any]]:
    """An empty checkpointer: ``InMemorySaver`` or a ``SqliteSaver`` on a file in ``tmp_path``."""
    if request.param == "memory":
        yield InMemorySaver()
        return
    with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.sqlite")) as saver:
        yield saver


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory-cache", "sqlite-cache"])
def cache(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    """An empty node cache on the fake clock: ``InMemoryCache`` or ``SqliteCache`` (a file)."""
    if request.param == "memory-cache":
        yield InMemoryCache(clock=clock)
        return
    sqlite_cache: SqliteCache[Any] = SqliteCache(str(tmp_path / "cache.sqlite"), clock=clock)
    yield sqlite_cache
    sqlite_cache.close()


@pytest.fixture
def calls() -> Counter:
    return Counter()
