"""``AsyncPostgresStore``: the PostgreSQL store through psycopg's asyncio connections.

Same tables, SQL and behaviour as ``PostgresStore``: both run ``PostgresCore``'s generators.
Concurrent ``a*`` calls made in one loop tick share one batch (``AsyncBatchedBaseStore``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from stategraph.store._batched import AsyncBatchedBaseStore
from stategraph.store._config import IndexConfig, TTLConfig
from stategraph.store._drive import Execute, Request, Steps, adrive, aembed
from stategraph.store._embed import Embedder
from stategraph.store._ops import Op, Result
from stategraph.store._postgres_config import PoolConfig, VectorBackend
from stategraph.store._postgres_connect import aconnection_pool, aopen_connection, import_psycopg
from stategraph.store._postgres_core import Deserializer, PostgresCore
from stategraph.store._postgres_schema import Attempt
from stategraph.store._sweeper import SweepsInTask

if TYPE_CHECKING:
    from psycopg import AsyncConnection, AsyncPipeline
    from psycopg_pool import AsyncConnectionPool

__all__ = ["AsyncPostgresStore"]

T = TypeVar("T")


class AsyncPostgresStore(SweepsInTask, AsyncBatchedBaseStore):
    """An asyncio store in PostgreSQL; items may expire, as in ``PostgresStore``.

    Create it inside a running event loop. ``conn`` is an ``AsyncConnection`` (shared under
    a lock) or an ``AsyncConnectionPool``; ``pipe`` a pipeline opened on ``conn``. The sync
    methods work only from threads other than the loop's (they hand the batch to it).

    Example::

        async with AsyncPostgresStore.from_conn_string("postgresql://localhost/app") as store:
            await store.setup()
            await store.aput(("users", "1"), "prefs", {"theme": "dark"})
    """

    supports_ttl = True

    def __init__(
        self,
        conn: Union[AsyncConnection[Any], AsyncConnectionPool[Any]],
        *,
        pipe: Optional[AsyncPipeline] = None,
        deserializer: Optional[Deserializer] = None,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
        vector_backend: VectorBackend = "auto",
        clock: Callable[[], float] = time.time,
    ) -> None:
        psycopg = import_psycopg()
        from psycopg_pool import AsyncConnectionPool

        self._is_pool = isinstance(conn, AsyncConnectionPool)
        if self._is_pool and pipe is not None:
            raise ValueError(
                "Pipeline should be used only with a single AsyncConnection, not "
                "AsyncConnectionPool. Pass pipe= with an AsyncConnection, or drop it: pooled "
                "batches use pipeline mode by themselves."
            )
        self._core = PostgresCore(
            index=index,
            ttl=ttl,
            clock=clock,
            deserializer=deserializer,
            vector_backend=vector_backend,
        )
        super().__init__()
        self.conn = conn
        self.pipe = pipe
        self.lock = asyncio.Lock()
        self.loop = self._loop
        self.is_setup = False
        self._setup_lock = asyncio.Lock()
        self.supports_pipeline = bool(psycopg.Capabilities().has_pipeline())
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
        pipeline: bool = False,
        pool_config: Optional[PoolConfig] = None,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
        vector_backend: VectorBackend = "auto",
    ) -> AsyncIterator[AsyncPostgresStore]:
        """Connect to ``conn_string``, yield a store, close everything on exit.

        ``pool_config`` opens an ``AsyncConnectionPool`` (and overrides ``pipeline``).
        Raises ``DatabaseConnectionError`` naming the host and port if the server does
        not answer.
        """
        options: dict[str, Any] = {"index": index, "ttl": ttl, "vector_backend": vector_backend}
        async with AsyncExitStack() as stack:
            if pool_config is not None:
                pool = await stack.enter_async_context(aconnection_pool(conn_string, pool_config))
                store = cls(pool, **options)
            else:
                conn = await stack.enter_async_context(aopen_connection(conn_string))
                pipe = await stack.enter_async_context(conn.pipeline()) if pipeline else None
                store = cls(conn, pipe=pipe, **options)
            try:
                yield store
            finally:
                await store.stop_ttl_sweeper(timeout=1.0)

    async def __aenter__(self) -> AsyncPostgresStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop_ttl_sweeper(timeout=1.0)

    @property
    def uses_pgvector(self) -> Optional[bool]:
        """Whether pgvector ranks vectors (None before setup, and without an index)."""
        return self._core.uses_pgvector

    async def setup(self) -> None:
        """Create or migrate the tables; safe to call again, and from several processes."""
        if self.is_setup:
            return
        async with self._setup_lock:  # concurrent first batches set up once
            if not self.is_setup:
                await self._run(self._core.setup_steps(), pipeline=False)
                self.is_setup = True

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        await self.setup()
        return await self._run(self._core.batch_steps(ops), pipeline=True)

    async def sweep_ttl(self) -> int:
        """Delete expired items now; returns how many were deleted."""
        await self.setup()
        return await self._run(self._core.sweep_steps(), pipeline=False)

    async def _run(self, steps: Steps[T], *, pipeline: bool) -> T:
        transaction = _LazyTransaction(self, pipeline=pipeline)
        try:
            result = await adrive(steps, transaction.answer)
        except BaseException as error:
            await transaction.finish(error)
            raise
        await transaction.finish(None)
        return result


class _LazyTransaction:
    """Borrows a connection and opens a transaction at the first statement (after embedding)."""

    __slots__ = ("_store", "_pipeline", "_stack", "_conn")

    def __init__(self, store: AsyncPostgresStore, *, pipeline: bool) -> None:
        self._store = store
        self._pipeline = pipeline
        self._stack: Optional[AsyncExitStack] = None
        self._conn: Any = None

    async def answer(self, request: Request) -> Any:
        if isinstance(request, (Execute, Attempt)):
            conn = await self._begin()
            if isinstance(request, Attempt):
                return await _attempt(conn, request)
            cursor = conn.cursor(row_factory=_tuple_row())
            # Setup's DDL runs unprepared: psycopg answers an ALTER by deallocating every
            # prepared statement, which in pipeline mode can hit statements queued after it.
            prepare = None if self._pipeline else False
            await cursor.execute(request.sql, request.params, prepare=prepare)
            if not request.fetch:
                return []
            async with cursor:
                return await cursor.fetchall()
        assert self._store.embeddings is not None
        return await aembed(self._store.embeddings, request)

    async def _begin(self) -> Any:
        if self._conn is None:
            store = self._store
            stack = AsyncExitStack()
            try:
                if store._is_pool:
                    conn = await stack.enter_async_context(
                        store.conn.connection()  # type: ignore[union-attr]
                    )
                else:
                    await stack.enter_async_context(store.lock)
                    conn = store.conn
                if store.pipe is not None:
                    stack.push_async_callback(store.pipe.sync)
                elif self._pipeline and store.supports_pipeline:
                    await stack.enter_async_context(conn.pipeline())
                await stack.enter_async_context(conn.transaction())
            except BaseException:
                await stack.aclose()
                raise
            self._stack, self._conn = stack, conn
        return self._conn

    async def finish(self, error: Optional[BaseException]) -> None:
        if self._stack is None:
            return
        stack, self._stack = self._stack, None
        if error is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(error), error, error.__traceback__)


async def _attempt(conn: Any, request: Attempt) -> Optional[str]:
    psycopg = import_psycopg()
    try:
        async with conn.transaction():  # a savepoint: a failure leaves the batch usable
            await conn.execute(request.sql, prepare=False)
    except psycopg.Error as error:
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__
    return None


def _tuple_row() -> Any:
    from psycopg.rows import tuple_row

    return tuple_row
