"""``SqliteStore``: the store in a SQLite database through ``sqlite3``, with TTL."""

from __future__ import annotations

import concurrent.futures
import logging
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

__all__ = ["SqliteStore"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_SWEEP_INTERVAL_MINUTES = 5.0


class SqliteStore(BaseStore):
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
        self._sweeper: Optional[threading.Thread] = None
        self._stop_sweeping = threading.Event()

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

    def start_ttl_sweeper(
        self, sweep_interval_minutes: Optional[float] = None
    ) -> concurrent.futures.Future[None]:
        """Sweep expired items every interval in a daemon thread until stopped.

        The interval is the argument, else ``TTLConfig.sweep_interval_minutes``, else 5.
        Without a ``TTLConfig`` nothing starts. Cancelling the future stops the thread.
        """
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if not self.ttl_config or (self._sweeper is not None and self._sweeper.is_alive()):
            future.set_result(None)
            return future
        interval_minutes = float(
            sweep_interval_minutes
            or self.ttl_config.get("sweep_interval_minutes")
            or DEFAULT_SWEEP_INTERVAL_MINUTES
        )
        self._stop_sweeping.clear()

        def sweep_until_stopped() -> None:
            while not self._stop_sweeping.wait(interval_minutes * 60):
                try:
                    swept = self.sweep_ttl()
                    if swept:
                        logger.info("Store TTL sweep deleted %d expired items", swept)
                except Exception:
                    logger.exception("Store TTL sweep failed; retrying next interval")
            if not future.done():
                future.set_result(None)

        self._sweeper = threading.Thread(
            target=sweep_until_stopped, name="stategraph-store-ttl-sweeper", daemon=True
        )
        future.add_done_callback(_stop_if_cancelled(self._stop_sweeping))
        self._sweeper.start()
        return future

    def stop_ttl_sweeper(self, timeout: Optional[float] = None) -> bool:
        """Stop the sweeper thread; False if it did not stop within ``timeout`` seconds."""
        if self._sweeper is None or not self._sweeper.is_alive():
            return True
        self._stop_sweeping.set()
        self._sweeper.join(timeout)
        if self._sweeper.is_alive():
            return False
        self._sweeper = None
        return True

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


def _stop_if_cancelled(
    stop: threading.Event,
) -> Callable[[concurrent.futures.Future[None]], None]:
    def on_done(future: concurrent.futures.Future[None]) -> None:
        if future.cancelled():
            stop.set()

    return on_done
