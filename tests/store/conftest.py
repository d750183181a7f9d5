"""Fixtures running each store test on every backend, through its sync and async methods."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from stategraph.store.base import BaseStore, IndexConfig, TTLConfig
from stategraph.store.memory import InMemoryStore
from stategraph.store.sqlite import AsyncSqliteStore, SqliteStore

VOCABULARY = ("cat", "dog", "fish")


def keyword_embed(texts: Sequence[str]) -> list[list[float]]:
    """A toy embedding: how often each vocabulary word occurs in the text."""
    return [[float(text.lower().count(word)) for word in VOCABULARY] for text in texts]


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, *, minutes: float = 0.0, seconds: float = 0.0) -> None:
        self.now += minutes * 60 + seconds


class StoreUnderTest:
    """One store plus how to call it: ``await s.put(...)`` runs ``put`` or ``aput``."""

    def __init__(self, store: BaseStore, use_async: bool) -> None:
        self.store = store
        self.use_async = use_async

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.use_async:
                return await getattr(self.store, "a" + name)(*args, **kwargs)
            return getattr(self.store, name)(*args, **kwargs)

        return call


BACKENDS = ["memory", "memory-async", "sqlite", "sqlite-async", "aiosqlite"]
ASYNC_BACKENDS = ["memory-async", "sqlite-async", "aiosqlite"]
SQL_BACKENDS = ["sqlite", "sqlite-async", "aiosqlite"]


class StoreFactory:
    """Builds the backend named by the test's parameter, with a given index/TTL config."""

    def __init__(self, backend: str, tmp_path: Path, clock: FakeClock) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.clock = clock
        self._to_close: list[Any] = []

    @property
    def supports_ttl(self) -> bool:
        return not self.backend.startswith("memory")

    async def open(
        self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None
    ) -> StoreUnderTest:
        path = str(self.tmp_path / f"store{len(self._to_close)}.db")
        if self.backend.startswith("memory"):
            store: BaseStore = InMemoryStore(index=index)
        elif self.backend.startswith("sqlite"):
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._to_close.append(conn)
            store = SqliteStore(conn, index=index, ttl=ttl, clock=self.clock)
        else:
            import aiosqlite

            aconn = await aiosqlite.connect(path, isolation_level=None)
            self._to_close.append(aconn)
            store = AsyncSqliteStore(aconn, index=index, ttl=ttl, clock=self.clock)
        return StoreUnderTest(store, use_async=self.backend in ASYNC_BACKENDS)

    async def close(self) -> None:
        for conn in self._to_close:
            result = conn.close()
            if result is not None:
                await result


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
async def factory(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[StoreFactory]:
    made = StoreFactory(request.param, tmp_path, clock)
    yield made
    await made.close()


@pytest.fixture(params=SQL_BACKENDS)
async def sql_factory(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[StoreFactory]:
    made = StoreFactory(request.param, tmp_path, clock)
    yield made
    await made.close()


@pytest.fixture
async def store(factory: StoreFactory) -> StoreUnderTest:
    return await factory.open()
