"""``SqliteSaver``: checkpoints in a SQLite database (the embedded, durable default).

Tables ``checkpoints`` (one row per checkpoint, without channel values), ``checkpoint_blobs``
(one row per channel version; lists that grow by appending are stored as deltas) and ``writes``
(pending writes per task). The connection runs in WAL mode with ``synchronous=NORMAL``: a
commit is atomic and survives a crash of the process, but the last commits may be lost if the
machine loses power (set ``PRAGMA synchronous=FULL`` on the connection for that guarantee).

Retention: ``prune`` keeps only each thread's latest checkpoint (or deletes threads), ``ttl=``
expires idle threads, and ``vacuum()`` rebuilds the file; see ``docs/retention.md``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

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
    expired_threads,
    give_back_pages,
    prune_thread,
    sweep_expired,
    thread_expiry,
    vacuum_file,
)
from stategraph.checkpoint.sqlite._schema import configure, migrate
from stategraph.store._config import TTLConfig
from stategraph.store._sweeper import SweepsInThread

__all__ = ["SqliteSaver"]

T = TypeVar("T")


def run_sync(conn: sqlite3.Connection, operation: Operation[T], transaction: Transaction) -> T:
    """Drive ``operation`` on ``conn``; ``read``/``write`` wrap it in one transaction."""
    began = transaction != "none" and not conn.in_transaction
    if began:
        conn.execute("BEGIN IMMEDIATE" if transaction == "write" else "BEGIN")
    try:
        reply: Any = None
        while True:
            try:
                query = operation.send(reply)
            except StopIteration as stop:
                result: T = stop.value
                break
            if query.script:
                conn.executescript(query.sql)
                reply = None
                continue
            if query.many:
                cursor = conn.executemany(query.sql, query.params)
            else:
                cursor = conn.execute(query.sql, query.params)
            reply = cursor.fetchall() if query.returns_rows else cursor.rowcount
    except BaseException:
        if began:
            conn.rollback()
        raise
    if began or transaction == "write":
        conn.commit()
    return result


class SqliteSaver(SweepsInThread, BaseCheckpointSaver[str]):
    """A checkpointer on a ``sqlite3`` connection; safe to share between threads.

    >>> with SqliteSaver.from_conn_string("checkpoints.db") as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)

    A connection you open yourself needs ``check_same_thread=False`` if the graph runs tasks
    in threads. Tables are created or migrated on first use (or by ``setup()``). Every ``put``
    and ``put_writes`` is one transaction; ``put_step`` commits a checkpoint with task writes.
    The async methods run the same code in a worker thread.

    ``ttl={"default_ttl": minutes}`` expires a thread that many minutes after its last write
    (or read, unless ``refresh_on_read`` is False); ``sweep_ttl()`` deletes expired threads,
    ``start_ttl_sweeper()`` does so every ``sweep_interval_minutes``. ``clock`` gives seconds
    since the epoch.
    """

    # An embedded database: a save costs less than handing it to a writer thread, so the
    # engine saves inline even with durability="async" (and is the more durable for it).
    is_in_process = True
    reads_only_new_values = True

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        serde: Optional[SerializerProtocol] = None,
        cached_threads: int = DEFAULT_CACHED_THREADS,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.Lock()
        self.is_setup = False
        self.ttl_config = ttl
        self._clock = clock
        self._core = SqliteCheckpointCore(cached_threads, thread_expiry(ttl, clock))

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, **kwargs: Any) -> Iterator[SqliteSaver]:
        """A saver on a new connection to ``conn_string`` (a path or ``":memory:"``).

        The TTL sweeper, if started, is stopped and the connection closed on exit.
        """
        conn = sqlite3.connect(conn_string, check_same_thread=False)
        try:
            saver = cls(conn, **kwargs)
            try:
                yield saver
            finally:
                saver.stop_ttl_sweeper(timeout=1.0)
        finally:
            conn.close()

    def setup(self) -> None:
        """Set the pragmas and create or migrate the tables (done automatically on first use)."""
        with self.lock:
            self._ensure_setup()

    def _ensure_setup(self) -> None:
        if not self.is_setup:
            run_sync(self.conn, configure(), "none")
            run_sync(self.conn, migrate(), "write")
            self.is_setup = True

    def _run(self, operation: Operation[T], transaction: Transaction) -> T:
        with self.lock:
            self._ensure_setup()
            return run_sync(self.conn, operation, transaction)

    # -- reading ---------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return self._run(self._core.get_tuple(self.serde, config), self._core.read_transaction)

    def list(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> Iterator[CheckpointTuple]:
        rows = self._run(
            self._core.list_rows(config, filter, before, limit), self._core.read_transaction
        )
        memos: Dict[Tuple[str, str], Dict[Any, Any]] = {}
        for row in rows:
            memo = memos.setdefault((row.thread_id, row.checkpoint_ns), {})
            yield self._run(self._core.load_tuple(self.serde, row, memo), "read")

    # -- writing ---------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put_step(config, checkpoint, metadata, new_versions)

    def put_step(
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
        with self.lock:
            self._ensure_setup()
            return self._core.committed(run_sync(self.conn, operation, "write"))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._run(self._core.put_writes(self.serde, config, writes, task_id, task_path), "write")

    def delete_thread(self, thread_id: str) -> None:
        self._run(self._core.delete_thread(thread_id), "write")

    def get_next_version(self, current: Optional[str], channel: Any) -> str:
        return next_channel_version(current)

    # -- retention ---------------------------------------------------------------------------

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads, or all but their latest checkpoints (see ``BaseCheckpointSaver``);
        each thread in one transaction, then free pages go back to the file system."""
        ids, chosen = prune_targets(thread_ids, strategy)
        for thread_id in ids:
            self._run(prune_thread(self._core, self.serde, thread_id, chosen), "write")
        self._run(give_back_pages(), "none")

    def sweep_ttl(self) -> int:
        """Delete the threads whose expiry has passed; returns how many were deleted."""
        now = self._clock()
        deleted = sum(
            self._run(sweep_expired(self._core, thread_id, now), "write")
            for thread_id in self._run(expired_threads(now), "read")
        )
        if deleted:
            self._run(give_back_pages(), "none")
        return deleted

    def vacuum(self) -> None:
        """Rebuild the database file without its free pages (SQLite's ``VACUUM``).

        It needs free disk space about the file's size and blocks other connections while it
        runs. A file made before stategraph enabled incremental auto-vacuum gets it, so later
        prunes give pages back by themselves.
        """
        self._run(vacuum_file(), "none")

    # -- async: the sync methods in a worker thread -------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[CheckpointTuple]:
        found: List[CheckpointTuple] = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for item in found:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        return await asyncio.to_thread(
            self.put_step, config, checkpoint, metadata, new_versions, writes
        )

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

    async def asweep_ttl(self) -> int:
        return await asyncio.to_thread(self.sweep_ttl)

    async def avacuum(self) -> None:
        await asyncio.to_thread(self.vacuum)
