"""Carrying out the savers' SQL operations on psycopg connections, sync and async.

An operation is a generator: it yields ``Query`` objects and is sent back the rows of each
query that fetches (``None`` for the others), then returns its result; it does no I/O.
``run_sync`` and ``run_async`` carry one out. A "write" transaction is sent in pipeline mode (libpq
14+): statements that fetch nothing are queued rather than waited for, so ``BEGIN``, every
statement of a step and ``COMMIT`` travel together and cost one round trip.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import (
    Any,
    AsyncContextManager,
    AsyncIterator,
    ContextManager,
    Generator,
    Iterator,
    Literal,
    Optional,
    TypeVar,
    Union,
)

from psycopg import AsyncConnection, AsyncCursor, Capabilities, Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

__all__ = [
    "AsyncConn",
    "Conn",
    "Operation",
    "Query",
    "Transaction",
    "aborrow",
    "borrow",
    "run_async",
    "run_sync",
]

T = TypeVar("T")
Conn = Union[Connection[Any], ConnectionPool[Any]]
AsyncConn = Union[AsyncConnection[Any], AsyncConnectionPool[Any]]
# "none": each statement commits on its own (reads, and writes made of one statement);
# "write": one transaction of statements that fetch nothing, sent in pipeline mode; "serial":
# one transaction whose statements may fetch, each awaited in turn; "snapshot": as "serial",
# REPEATABLE READ, so every statement sees the same rows.
Transaction = Literal["none", "write", "serial", "snapshot"]

_BEGIN = {
    "write": "BEGIN",
    "serial": "BEGIN",
    "snapshot": "BEGIN ISOLATION LEVEL REPEATABLE READ",
}
_SUPPORTS_PIPELINE = Capabilities().has_pipeline()


@dataclass(frozen=True, slots=True)
class Query:
    sql: str
    params: Any = None  # a sequence or mapping; for ``many``, a list of them
    fetch: bool = False  # wait for the rows and send them back to the operation
    many: bool = False
    # None: the connection's policy. False for statements whose text varies from call to
    # call, which would only churn the connection's cache of prepared statements.
    prepare: Optional[bool] = None


Operation = Generator[Query, Any, T]


# -- borrowing a connection ------------------------------------------------------------------


@contextmanager
def borrow(conn: Conn, lock: threading.Lock) -> Iterator[Connection[Any]]:
    """The connection to use: a pool's next one, or the saver's own, held under ``lock``
    (a connection runs one statement sequence at a time)."""
    if isinstance(conn, ConnectionPool):
        with conn.connection() as pooled:
            yield pooled
    elif isinstance(conn, Connection):
        with lock:
            yield conn
    else:
        raise TypeError(
            f"PostgresSaver needs a psycopg Connection or ConnectionPool, got {type(conn)!r}."
        )


@asynccontextmanager
async def aborrow(conn: AsyncConn, lock: asyncio.Lock) -> AsyncIterator[AsyncConnection[Any]]:
    if isinstance(conn, AsyncConnectionPool):
        async with conn.connection() as pooled:
            yield pooled
    elif isinstance(conn, AsyncConnection):
        async with lock:
            yield conn
    else:
        raise TypeError(
            "AsyncPostgresSaver needs a psycopg AsyncConnection or AsyncConnectionPool, "
            f"got {type(conn)!r}."
        )


# -- sync ------------------------------------------------------------------------------------


def run_sync(conn: Connection[Any], operation: Operation[T], transaction: Transaction) -> T:
    """Carry out ``operation`` on ``conn`` in the given kind of transaction."""
    with conn.cursor(row_factory=tuple_row) as cur:
        if transaction == "none" and conn.autocommit:
            return _drive_sync(cur, operation)
        if not conn.autocommit:  # psycopg begins transactions itself on such a connection
            ours = conn.info.transaction_status == TransactionStatus.IDLE
            with conn.transaction():
                if transaction == "snapshot" and ours:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return _drive_sync(cur, operation)
        try:
            pipeline: ContextManager[Any] = (
                conn.pipeline() if transaction == "write" and _SUPPORTS_PIPELINE else nullcontext()
            )
            with pipeline:
                cur.execute(_BEGIN[transaction])
                result = _drive_sync(cur, operation, pipelined=transaction == "write")
                cur.execute("COMMIT")  # sent with the rest when the pipeline syncs on exit
        except BaseException:
            _rollback_sync(conn)
            raise
        return result


def _drive_sync(cur: Cursor[Any], operation: Operation[T], pipelined: bool = False) -> T:
    reply: Any = None
    while True:
        try:
            query = operation.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if pipelined and query.fetch:
            raise RuntimeError(f"A 'write' transaction is pipelined and cannot fetch: {query.sql}")
        if query.many:
            cur.executemany(query.sql, query.params)
            reply = None
            continue
        cur.execute(query.sql, query.params, prepare=query.prepare, binary=True)
        reply = cur.fetchall() if query.fetch else None


def _rollback_sync(conn: Connection[Any]) -> None:
    if conn.closed:
        return
    try:
        conn.rollback()  # first leaves an aborted pipeline; a no-op if no transaction is open
    except Exception:  # noqa: BLE001 - the error that caused the rollback is the one to see
        pass


# -- async -----------------------------------------------------------------------------------


async def run_async(
    conn: AsyncConnection[Any], operation: Operation[T], transaction: Transaction
) -> T:
    """``run_sync`` on an ``AsyncConnection``."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        if transaction == "none" and conn.autocommit:
            return await _drive_async(cur, operation)
        if not conn.autocommit:
            ours = conn.info.transaction_status == TransactionStatus.IDLE
            async with conn.transaction():
                if transaction == "snapshot" and ours:
                    await cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return await _drive_async(cur, operation)
        try:
            pipeline: AsyncContextManager[Any] = (
                conn.pipeline()
                if transaction == "write" and _SUPPORTS_PIPELINE
                else _async_nullcontext()
            )
            async with pipeline:
                await cur.execute(_BEGIN[transaction])
                result = await _drive_async(cur, operation, pipelined=transaction == "write")
                await cur.execute("COMMIT")
        except BaseException:
            await _rollback_async(conn)
            raise
        return result


async def _drive_async(cur: AsyncCursor[Any], operation: Operation[T], pipelined: bool = False) -> T:
    reply: Any = None
    while True:
        try:
            query = operation.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if pipelined and query.fetch:
            raise RuntimeError(f"A 'write' transaction is pipelined and cannot fetch: {query.sql}")
        if query.many:
            await cur.executemany(query.sql, query.params)
            reply = None
            continue
        await cur.execute(query.sql, query.params, prepare=query.prepare, binary=True)
        reply = await cur.fetchall() if query.fetch else None


async def _rollback_async(conn: AsyncConnection[Any]) -> None:
    if conn.closed:
        return
    try:
        await conn.rollback()
    except Exception:  # noqa: BLE001 - the error that caused the rollback is the one to see
        pass


@asynccontextmanager
async def _async_nullcontext() -> AsyncIterator[None]:
    yield None
