"""``AsyncSqliteStore``: the SQLite store through ``aiosqlite``, for asyncio programs.

Same tables, SQL and behaviour as ``SqliteStore``: both run ``SqliteCore``'s generators.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from stategraph.store._base import BaseStore
from stategraph.store._config import IndexConfig, TTLConfig
from stategraph.store._drive import Execute, Request, Steps, adrive, aembed
from stategraph.store._embed import Embedder
from stategraph.store._ops import Op, Result
from stategraph.store._sqlite_core import Deserializer, SqliteCore
from stategraph.store._sweeper import SweepsInTask

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["AsyncSqliteStore"]

T = TypeVar("T")


def _import_aiosqlite() -> Any:
    try:
        import aiosqlite
    except ImportError as error:
        raise ImportError(
            "AsyncSqliteStore needs the 'aiosqlite' package. Install it with "
            "pip install 'stategraph[sqlite]' (or pip install aiosqlite)."
        ) from error
    return aiosqlite


class AsyncSqliteStore(SweepsInTask, BaseStore):
    """An asyncio store in SQLite (via aiosqlite); items may expire, as in ``SqliteStore``.

    Use the ``a*`` methods. The sync methods work only from threads other than the event
    loop's (they hand the batch to that loop), which is how sync nodes of an async run call
    them.

    Example::

        async with AsyncSqliteStore.from_conn_string("memory.db") as store:
            await store.aput(("users", "1"), "prefs", {"theme": "dark"})
    """

    supports_ttl = True

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        deserializer: Optional[Deserializer] = None,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()
        self.is_setup = False
        try:
            self.loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        self._core = SqliteCore(index=index, ttl=ttl, clock=clock, deserializer=deserializer)
        self.index_config: Optional[IndexConfig] = (
            self._core.index.config if self._core.index else None
        )
        self.embeddings: Optional[Embedder] = (
            self._core.index.embedder if self._core.index else None
        )
        self.ttl_config = ttl

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
    ) -> AsyncIterator[AsyncSqliteStore]:
        """Open ``conn_string`` (a path or ``":memory:"``), yield a store, close on exit."""
        aiosqlite = _import_aiosqlite()
        async with aiosqlite.connect(conn_string, isolation_level=None) as conn:
            store = cls(conn, index=index, ttl=ttl)
            try:
                yield store
            finally:
                await store.stop_ttl_sweeper(timeout=1.0)

    async def __aenter__(self) -> AsyncSqliteStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop_ttl_sweeper(timeout=1.0)

    async def setup(self) -> None:
        """Create or migrate the tables. Runs by itself before the first batch."""
        if not self.is_setup:
            await self._run(self._core.setup_steps())
            self.is_setup = True

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        await self.setup()
        return await self._run(self._core.batch_steps(ops))

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self.loop is None:
            raise RuntimeError(
                "AsyncSqliteStore has no event loop to run this call on. Create the store "
                "inside a running loop (async with AsyncSqliteStore.from_conn_string(...)) "
                "or use SqliteStore in sync code."
            )
        if running is self.loop:
            raise asyncio.InvalidStateError(
                "Synchronous calls to AsyncSqliteStore detected in the main event loop. "
                "This can lead to deadlocks. Use the async methods instead, e.g. replace "
                "store.get(...) with await store.aget(...), or use SqliteStore in sync code."
            )
        return asyncio.run_coroutine_threadsafe(self.abatch(list(ops)), self.loop).result()

    async def sweep_ttl(self) -> int:
        """Delete expired items now; returns how many were deleted."""
        await self.setup()
        return await self._run(self._core.sweep_steps())

    async def _run(self, steps: Steps[T]) -> T:
        transaction = _LazyTransaction(self.conn, self.lock)
        try:
            result = await adrive(steps, lambda request: self._answer(request, transaction))
        except BaseException:
            await transaction.finish(commit=False)
            raise
        await transaction.finish(commit=True)
        return result

    async def _answer(self, request: Request, transaction: _LazyTransaction) -> Any:
        if isinstance(request, Execute):
            return await transaction.execute(request)
        assert self.embeddings is not None
        return await aembed(self.embeddings, request)


class _LazyTransaction:
    """Takes the lock and opens a transaction at the first statement (after embedding)."""

    __slots__ = ("_conn", "_lock", "_locked", "_began")

    def __init__(self, conn: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._conn = conn
        self._lock = lock
        self._locked = False
        self._began = False

    async def execute(self, request: Execute) -> list[Any]:
        if not self._locked:
            await self._lock.acquire()
            self._locked = True
            if not self._conn.in_transaction:
                await self._conn.execute("BEGIN")
                self._began = True
        async with self._conn.execute(request.sql, request.params) as cursor:
            return list(await cursor.fetchall())

    async def finish(self, *, commit: bool) -> None:
        if not self._locked:
            return
        try:
            if self._began:
                await self._conn.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self._locked = False
            self._lock.release()
