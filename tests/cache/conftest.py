"""Fixtures running each cache test on every cache, through its sync and async methods."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stategraph.cache.base import BaseCache
from stategraph.cache.memory import InMemoryCache
from stategraph.cache.sqlite import SqliteCache


class JsonSerde:
    """A tiny serializer for tests: JSON bytes tagged "json"."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return "json", json.dumps(obj).encode()

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        encoding, payload = data
        assert encoding == "json"
        return json.loads(payload)


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class CacheUnderTest:
    """One cache plus how to call it: ``await c.get(...)`` runs ``get`` or ``aget``."""

    def __init__(self, cache: BaseCache[Any], use_async: bool) -> None:
        self.cache = cache
        self.use_async = use_async

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.use_async:
                return await getattr(self.cache, "a" + name)(*args, **kwargs)
            return getattr(self.cache, name)(*args, **kwargs)

        return call


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "memory-async", "sqlite", "sqlite-async"])
def cache(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[CacheUnderTest]:
    kind: str = request.param
    if kind.startswith("memory"):
        made: BaseCache[Any] = InMemoryCache(serde=JsonSerde(), clock=clock)
    else:
        made = SqliteCache(path=str(tmp_path / "cache.db"), serde=JsonSerde(), clock=clock)
    yield CacheUnderTest(made, use_async=kind.endswith("async"))
    if isinstance(made, SqliteCache):
        made.close()
