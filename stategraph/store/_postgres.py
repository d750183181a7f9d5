"""``PostgresStore``: the store in PostgreSQL through psycopg 3, with TTL and vector search."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from stategraph.store._base import BaseStore
from stategraph.store._config import IndexConfig, TTLConfig
from stategraph.store._drive import Execute, Request, Steps, drive, embed
from stategraph.store._embed import Embedder
from stategraph.store._ops import Op, Result
from stategraph.store._postgres_config import PoolConfig, VectorBackend
from stategraph.store._postgres_connect import connection_pool, import_psycopg, open_connection
from stategraph.store._postgres_core import Deserializer, PostgresCore
from stategraph.store._postgres_schema import Attempt
from stategraph.store._sweeper import SweepsInThread

if TYPE_CHECKING:
    from psycopg import Connection, Pipeline
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore"]

T = TypeVar("T")


class PostgresStore(SweepsInThread, BaseStore):
    """A store in PostgreSQL; items may expire, and ``index=`` enables semantic search.

    ``conn`` is a psycopg ``Connection`` (shared by threads under a lock) or a
    ``ConnectionPool`` (each batch borrows a connection); ``pipe`` is a pipeline opened on
    ``conn``. Each batch is one transaction, sent in pipeline mode so its writes share a
    round trip. ``setup()`` creates or migrates the tables (it also runs by itself before
    the first batch). Vectors use pgvector when the extension exists or can be created,
    else a ``real[]`` column ranked in Python (``vector_backend="python"`` forces that;
    ``"pgvector"`` fails without it); the log says which. ``clock`` returns seconds since
    the epoch (``time.time``; tests pass a fake one).

    Example::

        with PostgresStore.from_conn_string("postgresql://localhost/app") as store:
            store.setup()
            store.put(("users", "1"), "prefs", {"theme": "dark"}, ttl=60)
            store.search(("users",), filter={"theme": "dark"})
    """

    supports_ttl = True

    def __init__(
        self,
        conn: Union[Connection[Any], ConnectionPool[Any]],
        *,
        pipe: Optional[Pipeline] = None,
        deserializer: Optional[Deserializer] = None,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
        vector_backend: VectorBackend = "auto",
        clock: Callable[[], float] = time.time,
    ) -> None:
        psycopg = import_psycopg()
        from psycopg_pool import ConnectionPool

        self._is_pool = isinstance(conn, ConnectionPool)
        if self._is_pool and pipe is not None:
            raise ValueError(
                "Pipeline should be used only with a single Connection, not ConnectionPool. "
                "Pass pipe= with a Connection, or drop it: pooled batches use pipeline mode "
                "by themselves."
            )
        self.conn = conn
        self.pipe = pipe
        self.lock = threading.Lock()
        self.is_setup = False
        self.supports_pipeline = bool(psycopg.Capabilities().has_pipeline())
        self._core = PostgresCore(
            index=index,
            ttl=ttl,
            clock=clock,
            deserializer=deserializer,
            vector_backend=vector_backend,
        )
        self.index_config: Optional[IndexConfig] = (
            self._core.index.config if self._core.index else None
        )
        self.embeddings: Optional[Embedder] = (
            self._core.index.embedder if self._core.index else None
        )
        self.ttl_config = ttl

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: Optional[PoolConfig] = None,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
        vector_backend: VectorBackend = "auto",
    ) -> Iterator[PostgresStore]:
        """Connect to ``conn_string``, yield a store, close everything on exit.

        ``pool_config`` opens a ``ConnectionPool`` (and overrides ``pipeline``);
        ``pipeline=True`` keeps one connection in pipeline mode for the store's life.
        Raises ``DatabaseConnectionError`` naming the host and port if the server does
        not answer.
        """
        options: dict[str, Any] = {"index": index, "ttl": ttl, "vector_backend": vector_backend}
        with ExitStack() as stack:
            if pool_config is not None:
                pool = stack.enter_context(connection_pool(conn_string, pool_config))
                store = cls(pool, **options)
            else:
                conn = stack.enter_context(open_connection(conn_string))
                pipe = stack.enter_context(conn.pipeline()) if pipeline else None
                store = cls(conn, pipe=pipe, **options)
            try:
                yield store
            finally:
                store.stop_ttl_sweeper(timeout=1.0)

    @property
    def uses_pgvector(self) -> Optional[bool]:
        """Whether pgvector ranks vectors (None before setup, and without an index)."""
        return self._core.uses_pgvector

    def setup(self) -> None:
        """Create or migrate the tables; safe to call again, and from several processes."""
        if not self.is_setup:
            self._run(self._core.setup_steps(), pipeline=False)
            self.is_setup = True

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        self.setup()
        return self._run(self._core.batch_steps(ops), pipeline=True)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        # psycopg's sync connection blocks, so the batch runs in a worker thread;
        # AsyncPostgresStore keeps the loop free without one.
        return await asyncio.get_running_loop().run_in_executor(None, self.batch, list(ops))

    def sweep_ttl(self) -> int:
        """Delete expired items now; returns how many were deleted."""
        self.setup()
        return self._run(self._core.sweep_steps(), pipeline=False)

    def _run(self, steps: Steps[T], *, pipeline: bool) -> T:
        transaction = _LazyTransaction(self, pipeline=pipeline)
        try:
            result = drive(steps, transaction.answer)
        except BaseException as error:
            transaction.finish(error)
            raise
        transaction.finish(None)
        return result


class _LazyTransaction:
    """Borrows a connection and opens a transaction at the first statement, not before.

    Embedding calls come before any statement in a batch, so a slow embedding model never
    holds a connection or the lock.
    """

    __slots__ = ("_store", "_pipeline", "_stack", "_conn")

    def __init__(self, store: PostgresStore, *, pipeline: bool) -> None:
        self._store = store
        self._pipeline = pipeline
        self._stack: Optional[ExitStack] = None
        self._conn: Any = None

    def answer(self, request: Request) -> Any:
        if isinstance(request, (Execute, Attempt)):
            conn = self._begin()
            if isinstance(request, Attempt):
                return _attempt(conn, request)
            cursor = conn.cursor(row_factory=_tuple_row())
            # Setup's DDL runs unprepared: psycopg answers an ALTER by deallocating every
            # prepared statement, which in pipeline mode can hit statements queued after it.
            prepare = None if self._pipeline else False
            cursor.execute(request.sql, request.params, prepare=prepare)
            if not request.fetch:
                return []
            with cursor:
                return cursor.fetchall()
        assert self._store.embeddings is not None
        return embed(self._store.embeddings, request)

    def _begin(self) -> Any:
        if self._conn is None:
            store = self._store
            stack = ExitStack()
            try:
                if store._is_pool:
                    conn = stack.enter_context(store.conn.connection())  # type: ignore[union-attr]
                else:
                    stack.enter_context(store.lock)
                    conn = store.conn
                if store.pipe is not None:
                    # Runs after the transaction ends and before the lock is released, so
                    # errors of queued statements surface here, in this batch.
                    stack.callback(store.pipe.sync)
                elif self._pipeline and store.supports_pipeline:
                    stack.enter_context(conn.pipeline())
                stack.enter_context(conn.transaction())
            except BaseException:
                stack.close()
                raise
            self._stack, self._conn = stack, conn
        return self._conn

    def finish(self, error: Optional[BaseException]) -> None:
        if self._stack is None:
            return
        stack, self._stack = self._stack, None
        if error is None:
            stack.close()
        else:
            stack.__exit__(type(error), error, error.__traceback__)


def _attempt(conn: Any, request: Attempt) -> Optional[str]:
    psycopg = import_psycopg()
    try:
        with conn.transaction():  # a savepoint: a failure leaves the batch usable
            conn.execute(request.sql, prepare=False)
    except psycopg.Error as error:
        return _first_line(error)
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _tuple_row() -> Any:
    from psycopg.rows import tuple_row

    return tuple_row
