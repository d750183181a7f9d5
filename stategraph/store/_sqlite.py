"""``SqliteStore``: the store in a SQLite database through ``sqlite3``, with TTL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional, TypeVar

from stategraph.store._base import BaseStore
from stategraph.store._config import IndexConfig, TTLConfig
from stategraph.store._drive import Execute, Request, Steps, adrive, aembed, drive, embed
from stategraph.store._embed import Embedder
from stategraph.store._ops import Op, Result
from stategraph.store._sqlite_core import Deserializer, SqliteCore
from stategraph.store._sweeper import SweepsInThread

__all__ = ["SqliteStore"]

T = TypeVar("T")


class SqliteStore(SweepsInThread, BaseStore):
    """A store in SQLite; items may expire (``ttl=`` minutes on ``put``, or ``TTLConfig``).

    One connection is shared by threads under a lock; each batch is one transaction. Expired
    items are never returned; ``sweep_ttl()`` (or the sweeper thread) deletes them. Search
    filters run in Python over the rows under the namespace prefix, and vectors are scored
    in Python, so no SQLite extension is needed. ``clock`` returns seconds since the epoch
    (``time.time`` by default; tests pass a fake one).

    Example::

        with SqliteStore.from_conn_string("memory.db") as store:
            store.put(("users", "1"), "prefs", {"theme": "dark"}, ttl=60)
            store.get(("users", "1"), "prefs")
    """

    supports_ttl = True

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        deserializer: Optional[Deserializer] = None,
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.is_setup = False
        self._core = SqliteCore(index=index, ttl=ttl, clock=clock, deserializer=deserializer)
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
        index: Optional[IndexConfig] = None,
        ttl: Optional[TTLConfig] = None,
    ) -> Iterator[SqliteStore]:
        """Open ``conn_string`` (a path or ``":memory:"``), yield a store, close on exit."""
        conn = sqlite3.connect(conn_string, check_same_thread=False, isolation_level=None)
        store = cls(conn, index=index, ttl=ttl)
        try:
            yield store
        finally:
            store.stop_ttl_sweeper(timeout=1.0)
            conn.close()

    def setup(self) -> None:
        """Create or migrate the tables. Runs by itself before the first batch."""
        if not self.is_setup:
            self._run(self._core.setup_steps())
            self.is_setup = True

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        self.setup()
        return self._run(self._core.batch_steps(ops))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        # Embedding is awaited; the SQL runs inline (local and short) on this connection.
        # AsyncSqliteStore keeps even that off the event loop.
        self.setup()
        transaction = _LazyTransaction(self.conn, self.lock)
        try:
            result = await adrive(
                self._core.batch_steps(ops), lambda request: self._aanswer(request, transaction)
            )
        except BaseException:
            transaction.finish(commit=False)
            raise
        transaction.finish(commit=True)
        return result

    def sweep_ttl(self) -> int:
        """Delete expired items now; returns how many were deleted."""
        self.setup()
        return self._run(self._core.sweep_steps())

    def _run(self, steps: Steps[T]) -> T:
        transaction = _LazyTransaction(self.conn, self.lock)
        try:
            result = drive(steps, lambda request: self._answer(request, transaction))
        except BaseException:
            transaction.finish(commit=False)
            raise
        transaction.finish(commit=True)
        return result

    def _answer(self, request: Request, transaction: _LazyTransaction) -> Any:
        if isinstance(request, Execute):
            return transaction.execute(request)
        assert self.embeddings is not None
        return embed(self.embeddings, request)

    async def _aanswer(self, request: Request, transaction: _LazyTransaction) -> Any:
        # Every embedding request precedes the first statement, so no await happens while
        # the lock is held.
        if isinstance(request, Execute):
            return transaction.execute(request)
        assert self.embeddings is not None
        return await aembed(self.embeddings, request)


class _LazyTransaction:
    """Takes the lock and opens a transaction at the first statement, not before.

    Embedding calls come before any statement in a batch, so a slow embedding model never
    holds the database lock.
    """

    __slots__ = ("_conn", "_lock", "_locked", "_began")

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock
        self._locked = False
        self._began = False

    def execute(self, request: Execute) -> list[Any]:
        if not self._locked:
            self._lock.acquire()
            self._locked = True
            if not self._conn.in_transaction:
                self._conn.execute("BEGIN")
                self._began = True
        return self._conn.execute(request.sql, request.params).fetchall()

    def finish(self, *, commit: bool) -> None:
        if not self._locked:
            return
        try:
            if self._began:
                self._conn.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self._locked = False
            self._lock.release()
