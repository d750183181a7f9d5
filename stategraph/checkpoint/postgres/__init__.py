"""``PostgresSaver``: checkpoints in PostgreSQL, for threads that outlive one machine.

>>> with PostgresSaver.from_conn_string("postgresql://user@host/db") as saver:  # doctest: +SKIP
...     graph = builder.compile(checkpointer=saver)

Switching a graph from SQLite is this one line. A step (its checkpoint and its tasks' writes)
is one transaction sent in one round trip; reading a checkpoint is one statement. Retention:
``prune``, ``ttl=`` and ``vacuum()``, see ``docs/retention.md``.
"""

from __future__ import annotations

import asyncio
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

from stategraph.store._postgres_connect import import_psycopg, open_connection

import_psycopg()  # without psycopg: an ImportError that says what to install

from psycopg import Capabilities, Pipeline  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402

from stategraph.checkpoint._blobs import DEFAULT_CACHED_THREADS
from stategraph.checkpoint._saver import prune_targets
from stategraph.checkpoint._types import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    RunnableConfig,
    TaskWrites,
)
from stategraph.checkpoint.postgres._driver import Conn, Operation, Transaction, borrow, run_sync
from stategraph.checkpoint.postgres._migrations import setup as migrate
from stategraph.checkpoint.postgres._retention import prune_thread, sweep_expired, vacuum_tables
from stategraph.checkpoint.postgres.base import SESSION_SETTINGS, BasePostgresSaver, lost_delta_base
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.store._config import TTLConfig
from stategraph.store._sweeper import SweepsInThread

__all__ = ["Conn", "PostgresSaver", "ShallowPostgresSaver"]

T = TypeVar("T")


class PostgresSaver(SweepsInThread, BasePostgresSaver):
    """A checkpointer on a psycopg ``Connection`` or ``ConnectionPool``.

    As LangGraph's: ``PostgresSaver(conn, pipe=None, serde=None)``, where ``conn`` is opened
    with ``autocommit=True`` (``from_conn_string`` does so), and ``pipe`` a pipeline open on it.
    ``setup()`` creates or migrates the tables; it runs by itself before the first use too,
    and two processes may run it at once. The async methods run the sync ones in a thread.

    Beyond LangGraph: ``prune(thread_ids, strategy=...)``, ``copy_thread``,
    ``ttl={"default_ttl": minutes, "refresh_on_read": True, "sweep_interval_minutes": ...}``
    with ``sweep_ttl()`` / ``start_ttl_sweeper()``, and ``vacuum()``. ``clock`` gives seconds
    since the epoch (expiry times come from it, not from the server).
    """

    def __init__(
        self,
        conn: Conn,
        pipe: Optional[Pipeline] = None,
        serde: Optional[SerializerProtocol] = None,
        *,
        cached_threads: int = DEFAULT_CACHED_THREADS,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde, cached_threads=cached_threads, ttl=ttl, clock=clock)
        if isinstance(conn, ConnectionPool) and pipe is not None:
            raise ValueError(
                "Pipeline should be used only with a single Connection, not ConnectionPool."
            )
        self.conn = conn
        self.pipe = pipe
        self.lock = threading.Lock()
        self.supports_pipeline = Capabilities().has_pipeline()

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str, *, pipeline: bool = False, **kwargs: Any
    ) -> Iterator[Any]:
        """A saver on a new connection (``autocommit=True``), in a pipeline if ``pipeline``.

        A server that does not answer raises ``DatabaseConnectionError`` naming its host and
        port. On exit the TTL sweeper, if started, is stopped and the connection closed.
        """
        with open_connection(conn_string, **SESSION_SETTINGS) as conn:
            if pipeline:
                with conn.pipeline() as pipe:
                    saver = cls(conn, pipe, **kwargs)
                    try:
                        yield saver
                    finally:
                        saver.stop_ttl_sweeper(timeout=1.0)
            else:
                saver = cls(conn, **kwargs)
                try:
                    yield saver
                finally:
                    saver.stop_ttl_sweeper(timeout=1.0)

    def setup(self) -> None:
        """Create the tables or apply the migrations not yet applied (idempotent; safe when
        several processes call it at the same moment)."""
        with borrow(self.conn, self.lock) as conn:
            run_sync(conn, migrate(), "serial")
            self.is_setup = True

    def _run(self, operation: Operation[T], transaction: Transaction) -> T:
        with borrow(self.conn, self.lock) as conn:
            if not self.is_setup:
                run_sync(conn, migrate(), "serial")
                self.is_setup = True
            return run_sync(conn, operation, transaction)

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
            found = self._run(self._core.load_tuple(self.serde, row, memo), "none")
            if found is not None:
                yield found

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
        calls = [("step", config, checkpoint, metadata, new_versions, writes)]
        return (self.put_batch(calls))[0]

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.put_batch([("writes", config, writes, task_id, task_path)])

    def put_batch(self, calls: Sequence[Tuple[Any, ...]]) -> List[RunnableConfig]:
        """Store several puts and task writes, of any threads, in one transaction and one
        round trip, in order; returns the config of each checkpoint put.

        Each call is ``("put", config, checkpoint, metadata, new_versions)``, ``("step", config,
        checkpoint, metadata, new_versions, task_writes)`` or ``("writes", config, writes,
        task_id, task_path)``. The engine hands a busy saver what queued up meanwhile this way.
        """
        core = self._core
        try:
            commits = self._run(core.put_batch(self.serde, calls), "none")
        except Exception as error:
            if not lost_delta_base(error):
                raise
            # A value these steps extend was deleted meanwhile: store them with full values.
            commits = self._run(core.put_batch(self.serde, calls, snapshots_only=True), "none")
        return [core.committed(commit) for commit in commits]

    def delete_thread(self, thread_id: str) -> None:
        self._run(self._core.delete_thread(thread_id), "write")

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, value and write of a thread to another thread id."""
        self._run(self._core.copy_thread(str(source_thread_id), str(target_thread_id)), "write")

    # -- retention ---------------------------------------------------------------------------

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads, or all but their latest checkpoints (see ``BaseCheckpointSaver``),
        each thread in one transaction. The rows' space is reused by the tables; ``vacuum``
        gives it back to the file system."""
        ids, chosen = prune_targets(thread_ids, strategy)
        for thread_id in ids:
            self._run(prune_thread(self._core, self.serde, thread_id, chosen), "serial")

    def sweep_ttl(self) -> int:
        """Delete the threads whose expiry has passed; returns how many were deleted."""
        if self._core.expiry is None:
            return 0
        return self._run(sweep_expired(self._core, self._clock()), "serial")

    def vacuum(self, *, full: bool = False) -> None:
        """``VACUUM`` the saver's tables; ``full=True`` also returns the space to the file
        system (``VACUUM FULL``: it locks each table while it is rewritten)."""
        self._run(vacuum_tables(full), "none")

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

    async def aput_batch(self, calls: Sequence[Tuple[Any, ...]]) -> List[RunnableConfig]:
        return await asyncio.to_thread(self.put_batch, calls)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

    async def asweep_ttl(self) -> int:
        return await asyncio.to_thread(self.sweep_ttl)

    async def avacuum(self, *, full: bool = False) -> None:
        await asyncio.to_thread(self.vacuum, full=full)


from stategraph.checkpoint.postgres.shallow import ShallowPostgresSaver  # noqa: E402
