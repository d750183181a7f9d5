"""Fixtures running each store test on every backend, through its sync and async methods.

Backends: memory, SQLite (sqlite3 and aiosqlite) and PostgreSQL (PostgresStore on a
connection, a pipeline or a pool; AsyncPostgresStore on a connection or a pool), each
PostgreSQL store in a database of its own that is dropped after the test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from stategraph.store.base import BaseStore, IndexConfig, TTLConfig
from stategraph.store.memory import InMemoryStore
from stategraph.store.sqlite import AsyncSqliteStore, SqliteStore

from _services import fresh_postgres_database

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


# PostgreSQL backends: PostgresStore on a Connection (sync methods), on a pipelined Connection
# (async methods, which run the batch in a thread) and on a ConnectionPool; AsyncPostgresStore
# on an AsyncConnection and on an AsyncConnectionPool. Each store gets a fresh database.
POSTGRES_BACKENDS = [
    "postgres",
    "postgres-pipeline",
    "postgres-pool",
    "postgres-async",
    "postgres-async-pool",
]
BACKENDS = ["memory", "memory-async", "sqlite", "sqlite-async", "aiosqlite", *POSTGRES_BACKENDS]
ASYNC_BACKENDS = [
    "memory-async",
    "sqlite-async",
    "aiosqlite",
    "postgres-pipeline",
    "postgres-async",
    "postgres-async-pool",
]
SQL_BACKENDS = ["sqlite", "sqlite-async", "aiosqlite", "postgres", "postgres-async"]


class StoreFactory:
    """Builds the backend named by the test's parameter, with a given index/TTL config."""

    def __init__(self, backend: str, tmp_path: Path, clock: FakeClock) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.clock = clock
        self._to_close: list[Any] = []
        self._resources = AsyncExitStack()

    @property
    def supports_ttl(self) -> bool:
        return not self.backend.startswith("memory")

    async def open(
        self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None
    ) -> StoreUnderTest:
        path = str(self.tmp_path / f"store{len(self._to_close)}.db")
        if self.backend.startswith("postgres"):
            store = await self._open_postgres(index=index, ttl=ttl)
        elif self.backend.startswith("memory"):
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

    async def _open_postgres(
        self, *, index: IndexConfig | None, ttl: TTLConfig | None
    ) -> BaseStore:
        import psycopg
        from psycopg_pool import AsyncConnectionPool, ConnectionPool

        from stategraph.store.postgres import AsyncPostgresStore, PostgresStore

        url = self._resources.enter_context(fresh_postgres_database())
        options: dict[str, Any] = {"index": index, "ttl": ttl, "clock": self.clock}
        connect: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0}
        enter = self._resources.enter_async_context
        if self.backend == "postgres-async":
            aconn = await enter(await psycopg.AsyncConnection.connect(url, **connect))
            return AsyncPostgresStore(aconn, **options)
        if self.backend == "postgres-async-pool":
            apool = await enter(
                AsyncConnectionPool(url, open=False, kwargs=connect, min_size=1, max_size=2)
            )
            return AsyncPostgresStore(apool, **options)
        if self.backend == "postgres-pool":
            pool = self._resources.enter_context(
                ConnectionPool(url, open=False, kwargs=connect, min_size=1, max_size=2)
            )
            return PostgresStore(pool, **options)
        conn = self._resources.enter_context(psycopg.Connection.connect(url, **connect))
        if self.backend == "postgres-pipeline":
            pipe = self._resources.enter_context(conn.pipeline())
            return PostgresStore(conn, pipe=pipe, **options)
        return PostgresStore(conn, **options)

    async def close(self) -> None:
        for conn in self._to_close:
            result = conn.close()
            if result is not None:
                await result
        await self._resources.aclose()


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
