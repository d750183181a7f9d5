"""``SqliteCache``: the node cache in a SQLite file (or a connection you own), with TTLs."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

from stategraph.cache._base import BaseCache, FullKey, Namespace, Serializer, ValueT, expiry_time

__all__ = ["SqliteCache"]

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS cache (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    expiry REAL,
    encoding TEXT NOT NULL,
    val BLOB NOT NULL,
    PRIMARY KEY (ns, key)
)
"""


def _namespace_text(namespace: Namespace) -> str:
    # JSON keeps labels that contain separators apart: ("a,b",) and ("a", "b") differ.
    return json.dumps(list(namespace), ensure_ascii=False, separators=(",", ":"))


class SqliteCache(BaseCache[ValueT]):
    """A cache kept in SQLite, shared by threads through one locked connection.

    Give ``path`` (a file, or ``":memory:"``) to let the cache open and own a connection, or
    ``conn`` to use one you manage (open it with ``check_same_thread=False``: the async methods
    run in worker threads). An expired entry is deleted when it is next read.
    ``clock`` returns the current time in seconds (``time.time`` by default).
    """

    def __init__(
        self,
        path: Union[str, None] = None,
        *,
        conn: Optional[sqlite3.Connection] = None,
        serde: Optional[Serializer] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (path is None) == (conn is None):
            raise ValueError(
                "SqliteCache needs exactly one of path= or conn=. Pass path='cache.db' to let "
                "the cache open its own database, or conn=sqlite3.connect(...) to share one."
            )
        super().__init__(serde=serde)
        self._clock = clock
        self._lock = threading.RLock()
        self._owns_conn = conn is None
        if conn is None:
            assert path is not None
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            if path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
        self._conn = conn
        with self._transaction() as cursor:
            cursor.execute(_CREATE_TABLE)

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        found: dict[FullKey, ValueT] = {}
        if not keys:
            return found
        now = self._clock()
        wanted = {(_namespace_text(ns), key): (tuple(ns), key) for ns, key in keys}
        with self._transaction() as cursor:
            for (ns_text, key), full_key in wanted.items():
                row = cursor.execute(
                    "SELECT expiry, encoding, val FROM cache WHERE ns = ? AND key = ?",
                    (ns_text, key),
                ).fetchone()
                if row is None:
                    continue
                expiry, encoding, payload = row
                if expiry is not None and now >= expiry:
                    cursor.execute("DELETE FROM cache WHERE ns = ? AND key = ?", (ns_text, key))
                    continue
                found[full_key] = self.serde.loads_typed((encoding, bytes(payload)))
        return found

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return await asyncio.to_thread(self.get, keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[float]]]) -> None:
        now = self._clock()
        rows = []
        for (namespace, key), (value, ttl) in pairs.items():
            encoding, payload = self.serde.dumps_typed(value)
            rows.append((_namespace_text(namespace), key, expiry_time(now, ttl), encoding, payload))
        with self._transaction() as cursor:
            cursor.executemany(
                "INSERT OR REPLACE INTO cache (ns, key, expiry, encoding, val) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[float]]]) -> None:
        await asyncio.to_thread(self.set, pairs)

    def clear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        with self._transaction() as cursor:
            if namespaces is None:
                cursor.execute("DELETE FROM cache")
            else:
                cursor.executemany(
                    "DELETE FROM cache WHERE ns = ?",
                    [(_namespace_text(namespace),) for namespace in namespaces],
                )

    async def aclear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        await asyncio.to_thread(self.clear, namespaces)

    def close(self) -> None:
        """Close the connection if the cache opened it (a ``conn=`` you passed stays open)."""
        if self._owns_conn:
            self._conn.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn, self._lock)


class _Transaction:
    """Holds the lock and one SQLite transaction; commits on success, rolls back on error."""

    __slots__ = ("_conn", "_lock", "_began", "_cursor")

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock
        self._began = False

    def __enter__(self) -> sqlite3.Cursor:
        self._lock.acquire()
        try:
            if not self._conn.in_transaction:
                self._conn.execute("BEGIN")
                self._began = True
            self._cursor = self._conn.cursor()
        except BaseException:
            self._lock.release()
            raise
        return self._cursor

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._cursor.close()
            if self._began:
                self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self._lock.release()
