"""``AsyncSqliteSaver``: the SQLite checkpointer on an ``aiosqlite`` connection.

Same tables and SQL as ``SqliteSaver`` (both drive ``_core``'s operations); only the driver
differs: here each query is awaited. Retention (``aprune``, ``ttl=``, ``avacuum``) as on
``SqliteSaver``; the TTL sweeper is a task on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Coroutine,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

try:
    import aiosqlite
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "AsyncSqliteSaver needs aiosqlite: pip install 'stategraph[sqlite]'."
    ) from error

from stategraph.checkpoint._blobs import DEFAULT_CACHED_THREADS
from stategraph.checkpoint._ids import next_channel_version
from stategraph.checkpoint._saver import BaseCheckpointSaver, prune_targets
from stategraph.checkpoint._types import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    RunnableConfig,
    TaskWrites,
)
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.checkpoint.sqlite._core import (
    Operation,
    SqliteCheckpointCore,
    Transaction,
)
from stategraph.checkpoint.sqlite._retention import (
    AsyncSweeper,
    expired_threads,
    give_back_pages,
    prune_thread,
    sweep_expired,
    thread_expiry,
    vacuum_file,
)
from stategraph.checkpoint.sqlite._schema import configure, migrate
from stategraph.store._config import TTLConfig

__all__ = ["AsyncSqliteSaver"]

T = TypeVar("T")


async def run_async(
    conn: aiosqlite.Connection, operation: Operation[T], transaction: Transaction
) -> T:
    """Drive ``operation`` on ``conn``; ``read``/``write`` wrap it in one transaction."""
    began = transaction != "none" and not conn.in_transaction
    if began:
        await conn.execute("BEGIN IMMEDIATE" if transaction == "write" else "BEGIN")
    try:
        reply: Any = None
        while True:
            try:
                query = operation.send(reply)
            except StopIteration as stop:
                result: T = stop.value
                break
            if query.script:
                await conn.executescript(query.sql)
                reply = None
                continue
            if query.many:
                cursor = await conn.executemany(query.sql, query.params)
            else:
                cursor = await conn.execute(query.sql, query.params)
            try:
                reply = await cursor.fetchall() if query.returns_rows else cursor.rowcount
            finally:
                await cursor.close()
    except BaseException:
        if began:
            await conn.rollback()
        raise
    if began or transaction == "write":
        await conn.commit()
    return result


class AsyncSqliteSaver(BaseCheckpointSaver[str]):
    """A checkpointer on an ``aiosqlite`` connection, for ``ainvoke``/``astream``.

    >>> async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)

    Tables are created or migrated on first use (or by ``await setup()``); WAL mode,
    ``synchronous=NORMAL`` (see ``stategraph.checkpoint.sqlite``). The sync methods work only
    from a thread other than the event loop's; they run the async ones on that loop.

    ``ttl=`` and ``clock`` as for ``SqliteSaver``; ``await start_ttl_sweeper()`` sweeps in a
    task until ``await stop_ttl_sweeper()`` or the end of ``from_conn_string``.
    """

    # An embedded database: a save costs less than handing it to a writer thread, so the
    # engine saves inline even with durability="async" (and is the more durable for it).
    is_in_process = True
    reads_only_new_values = True

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        serde: Optional[SerializerProtocol] = None,
        cached_threads: int = DEFAULT_CACHED_THREADS,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = asyncio.Lock()
        self.is_setup = False
        self.ttl_config = ttl
        self._clock = clock
        self._core = SqliteCheckpointCore(cached_threads, thread_expiry(ttl, clock))
        self._sweeper = AsyncSweeper(ttl, self.asweep_ttl)
        try:
            self.loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, **kwargs: Any
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on a new connection to ``conn_string``; on exit the TTL sweeper, if
        started, is stopped and the connection closed."""
        async with aiosqlite.connect(conn_string) as conn:
            saver = cls(conn, **kwargs)
            try:
                yield saver
            finally:
                await saver.stop_ttl_sweeper(timeout=1.0)

    async def setup(self) -> None:
        """Set the pragmas and create or migrate the tables (done automatically on first use)."""
        async with self.lock:
            await self._ensure_setup()

    async def _ensure_setup(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if not self.is_setup:
            await run_async(self.conn, configure(), "none")
            await run_async(self.conn, migrate(), "write")
            self.is_setup = True

    async def _run(self, operation: Operation[T], transaction: Transaction) -> T:
        async with self.lock:
            await self._ensure_setup()
            return await run_async(self.conn, operation, transaction)

    # -- async interface -----------------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return await self._run(
            self._core.get_tuple(self.serde, config), self._core.read_transaction
        )

    async def alist(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[CheckpointTuple]:
        rows = await self._run(
            self._core.list_rows(config, filter, before, limit), self._core.read_transaction
        )
        memos: Dict[Tuple[str, str], Dict[Any, Any]] = {}
        for row in rows:
            memo = memos.setdefault((row.thread_id, row.checkpoint_ns), {})
            yield await self._run(self._core.load_tuple(self.serde, row, memo), "read")

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self.aput_step(config, checkpoint, metadata, new_versions)

    async def aput_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        operation = self._core.put_step(
            self.serde, config, checkpoint, metadata, new_versions, writes
        )
        async with self.lock:
            await self._ensure_setup()
            return self._core.committed(await run_async(self.conn, operation, "write"))

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._run(
            self._core.put_writes(self.serde, config, writes, task_id, task_path), "write"
        )

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(self._core.delete_thread(thread_id), "write")

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads, or all but their latest checkpoints (see ``BaseCheckpointSaver``);
        each thread in one transaction, then free pages go back to the file system."""
        ids, chosen = prune_targets(thread_ids, strategy)
        for thread_id in ids:
            await self._run(prune_thread(self._core, self.serde, thread_id, chosen), "write")
        await self._run(give_back_pages(), "none")

    async def asweep_ttl(self) -> int:
        """Delete the threads whose expiry has passed; returns how many were deleted."""
        now = self._clock()
        deleted = 0
        for thread_id in await self._run(expired_threads(now), "read"):
            deleted += await self._run(sweep_expired(self._core, thread_id, now), "write")
        if deleted:
            await self._run(give_back_pages(), "none")
        return deleted

    async def avacuum(self) -> None:
        """Rebuild the database file without its free pages (see ``SqliteSaver.vacuum``)."""
        await self._run(vacuum_file(), "none")

    async def start_ttl_sweeper(
        self, sweep_interval_minutes: Optional[float] = None
    ) -> asyncio.Task[None]:
        """Sweep expired threads every interval (the argument, else the ttl's
        ``sweep_interval_minutes``, else 5) in a task; without ``ttl=`` the task does nothing."""
        return await self._sweeper.start_ttl_sweeper(sweep_interval_minutes)

    async def stop_ttl_sweeper(self, timeout: Optional[float] = None) -> bool:
        """Stop the sweeper task; False if it did not stop within ``timeout`` seconds."""
        return await self._sweeper.stop_ttl_sweeper(timeout)

    def get_next_version(self, current: Optional[str], channel: Any) -> str:
        return next_channel_version(current)

    # -- sync interface, from other threads only -------------------------------------------------

    def _from_other_thread(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self.loop is None or running is self.loop:
            coroutine.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to AsyncSqliteSaver are only allowed from a different thread "
                "than its event loop's. From the event loop, use the async methods "
                "(await saver.aget_tuple(...), graph.ainvoke(...)); for sync code use SqliteSaver."
            )
        if self.loop.is_closed() or not self.loop.is_running():
            coroutine.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to AsyncSqliteSaver need its event loop running: the loop it "
                "was opened on is not running now, so the call could never complete. Open the "
                "saver on the loop that runs the graph, or use SqliteSaver for sync code."
            )
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return self._from_other_thread(self.aget_tuple(config))

    def list(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> Iterator[CheckpointTuple]:
        async def collect() -> List[CheckpointTuple]:
            return [
                item async for item in self.alist(config, filter=filter, before=before, limit=limit)
            ]

        yield from self._from_other_thread(collect())

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._from_other_thread(self.aput(config, checkpoint, metadata, new_versions))

    def put_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        return self._from_other_thread(
            self.aput_step(config, checkpoint, metadata, new_versions, writes)
        )

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._from_other_thread(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._from_other_thread(self.adelete_thread(thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._from_other_thread(self.aprune(thread_ids, strategy=strategy))

    def sweep_ttl(self) -> int:
        return self._from_other_thread(self.asweep_ttl())

    def vacuum(self) -> None:
        self._from_other_thread(self.avacuum())
