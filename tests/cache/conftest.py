"""Fixtures running each cache test on every cache, through its sync and async methods."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stategraph.cache.base import BaseCache
from stategraph.cache.memory import InMemoryCache
from stategraph.cache.sqlite import SqliteCache

from _services import REDIS_URL, delete_redis_keys, redis_key_prefix, require_redis


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


@pytest.fixture(
    params=["memory", "memory-async", "sqlite", "sqlite-async", "redis", "redis-async"]
)
def cache(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[CacheUnderTest]:
    kind: str = request.param
    if kind.startswith("redis"):
        yield from _redis_cache(request, use_async=kind.endswith("async"))
        return
    if kind.startswith("memory"):
        made: BaseCache[Any] = InMemoryCache(serde=JsonSerde(), clock=clock)
    else:
        made = SqliteCache(path=str(tmp_path / "cache.db"), serde=JsonSerde(), clock=clock)
    yield CacheUnderTest(made, use_async=kind.endswith("async"))
    if isinstance(made, SqliteCache):
        made.close()


def _redis_cache(request: pytest.FixtureRequest, *, use_async: bool) -> Iterator[CacheUnderTest]:
    # Redis expires entries by its own clock, which a test cannot move; tests/cache/
    # test_redis.py checks the TTL Redis was given instead.
    if "clock" in inspect.signature(request.function).parameters:
        pytest.skip("Redis keeps time itself: a fake clock cannot expire its entries")
    require_redis()
    import redis

    from stategraph.cache.redis import RedisCache

    client = redis.Redis.from_url(REDIS_URL)
    prefix = redis_key_prefix()
    try:
        yield CacheUnderTest(RedisCache(client, serde=JsonSerde(), prefix=prefix), use_async)
    finally:
        delete_redis_keys(client, prefix)
        client.close()
