"""``AsyncPostgresSaver``: the PostgreSQL checkpointer on psycopg's asyncio connections.

Same tables and SQL as ``PostgresSaver`` (both drive ``_core``'s operations); only the driver
differs. The sync methods work from threads other than the event loop's, as in LangGraph.
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

from psycopg import AsyncPipeline, Capabilities
from psycopg_pool import AsyncConnectionPool

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
from stategraph.store._postgres_connect import aopen_connection
from stategraph.checkpoint.postgres._driver import (
    AsyncConn,
    Operation,
    Transaction,
    aborrow,
    run_async,
)
from stategraph.checkpoint.postgres._migrations import setup as migrate
from stategraph.checkpoint.postgres._retention import prune_thread, sweep_expired, vacuum_tables
from stategraph.checkpoint.postgres.base import SESSION_SETTINGS, BasePostgresSaver, lost_delta_base
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.checkpoint.sqlite._retention import AsyncSweeper
from stategraph.store._config import TTLConfig

__all__ = ["AsyncPostgresSaver"]

T = TypeVar("T")


class AsyncPostgresSaver(BasePostgresSaver):
    """A checkpointer on a psycopg ``AsyncConnection`` or ``AsyncConnectionPool``.

    As LangGraph's: ``AsyncPostgresSaver(conn, pipe=None, serde=None)``, made inside a running
    event loop; ``from_conn_string(uri, pipeline=False, serde=None)``; ``await setup()``
    (also run by itself before the first use). Retention and ``ttl=`` as on ``PostgresSaver``;
    ``await start_ttl_sweeper()`` sweeps in a task until ``await stop_ttl_sweeper()``.
    """

    def __init__(
        self,
        conn: AsyncConn,
        pipe: Optional[AsyncPipeline] = None,
        serde: Optional[SerializerProtocol] = None,
        *,
        cached_threads: int = DEFAULT_CACHED_THREADS,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde, cached_threads=cached_threads, ttl=ttl, clock=clock)
        if isinstance(conn, AsyncConnectionPool) and pipe is not None:
            raise ValueError(
                "Pipeline should be used only with a single AsyncConnection, "
                "not AsyncConnectionPool."
            )
        self.conn = conn
        self.pipe = pipe
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.supports_pipeline = Capabilities().has_pipeline()
        self._sweeper = AsyncSweeper(ttl, self.asweep_ttl)

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        serde: Optional[SerializerProtocol] = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """A saver on a new connection (``autocommit=True``), in a pipeline if ``pipeline``;
        on exit the TTL sweeper, if started, is stopped and the connection closed."""
        async with aopen_connection(conn_string, **SESSION_SETTINGS) as conn:
            if pipeline:
                async with conn.pipeline() as pipe:
                    saver = cls(conn, pipe, serde, **kwargs)
                    try:
                        yield saver
                    finally:
                        await saver.stop_ttl_sweeper(timeout=1.0)
            else:
                saver = cls(conn, None, serde, **kwargs)
                try:
                    yield saver
                finally:
                    await saver.stop_ttl_sweeper(timeout=1.0)

    async def setup(self) -> None:
        """Create the tables or apply the migrations not yet applied (idempotent; safe when
        several processes call it at the same moment)."""
        async with aborrow(self.conn, self.lock) as conn:
            await run_async(conn, migrate(), "serial")
            self.is_setup = True

    async def _run(self, operation: Operation[T], transaction: Transaction) -> T:
        async with aborrow(self.conn, self.lock) as conn:
            if not self.is_setup:
                await run_async(conn, migrate(), "serial")
                self.is_setup = True
            return await run_async(conn, operation, transaction)

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
            found = await self._run(self._core.load_tuple(self.serde, row, memo), "none")
            if found is not None:
                yield found

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
        calls = [("step", config, checkpoint, metadata, new_versions, writes)]
        return (await self.aput_batch(calls))[0]

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self.aput_batch([("writes", config, writes, task_id, task_path)])

    async def aput_batch(self, calls: Sequence[Tuple[Any, ...]]) -> List[RunnableConfig]:
        """Store several puts and task writes, of any threads, in one transaction and one
        round trip, in order; returns the config of each checkpoint put.

        Each call is ``("put", config, checkpoint, metadata, new_versions)``, ``("step", config,
        checkpoint, metadata, new_versions, task_writes)`` or ``("writes", config, writes,
        task_id, task_path)``. The engine hands a busy saver what queued up meanwhile this way.
        """
        core = self._core
        try:
            commits = await self._run(core.put_batch(self.serde, calls), "none")
        except Exception as error:
            if not lost_delta_base(error):
                raise
            # A value these steps extend was deleted meanwhile: store them with full values.
            commits = await self._run(core.put_batch(self.serde, calls, snapshots_only=True), "none")
        return [core.committed(commit) for commit in commits]

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(self._core.delete_thread(thread_id), "write")

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, value and write of a thread to another thread id."""
        await self._run(
            self._core.copy_thread(str(source_thread_id), str(target_thread_id)), "write"
        )

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads, or all but their latest checkpoints (see ``BaseCheckpointSaver``),
        each thread in one transaction."""
        ids, chosen = prune_targets(thread_ids, strategy)
        for thread_id in ids:
            await self._run(prune_thread(self._core, self.serde, thread_id, chosen), "serial")

    async def asweep_ttl(self) -> int:
        """Delete the threads whose expiry has passed; returns how many were deleted."""
        if self._core.expiry is None:
            return 0
        return await self._run(sweep_expired(self._core, self._clock()), "serial")

    async def avacuum(self, *, full: bool = False) -> None:
        """``VACUUM`` the saver's tables (see ``PostgresSaver.vacuum``)."""
        await self._run(vacuum_tables(full), "none")

    async def start_ttl_sweeper(
        self, sweep_interval_minutes: Optional[float] = None
    ) -> asyncio.Task[None]:
        """Sweep expired threads every interval (the argument, else the ttl's
        ``sweep_interval_minutes``, else 5) in a task; without ``ttl=`` the task does nothing."""
        return await self._sweeper.start_ttl_sweeper(sweep_interval_minutes)

    async def stop_ttl_sweeper(self, timeout: Optional[float] = None) -> bool:
        """Stop the sweeper task; False if it did not stop within ``timeout`` seconds."""
        return await self._sweeper.stop_ttl_sweeper(timeout)

    # -- sync interface, from other threads only -------------------------------------------------

    def _from_other_thread(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coroutine.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to AsyncPostgresSaver are only allowed from a different "
                "thread. From the main thread, use the async interface. For example, use "
                "`checkpointer.alist(...)` or `await graph.ainvoke(...)`."
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

    def put_batch(self, calls: Sequence[Tuple[Any, ...]]) -> List[RunnableConfig]:
        return self._from_other_thread(self.aput_batch(calls))

    def delete_thread(self, thread_id: str) -> None:
        self._from_other_thread(self.adelete_thread(thread_id))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._from_other_thread(self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._from_other_thread(self.aprune(thread_ids, strategy=strategy))

    def sweep_ttl(self) -> int:
        return self._from_other_thread(self.asweep_ttl())

    def vacuum(self, *, full: bool = False) -> None:
        self._from_other_thread(self.avacuum(full=full))


def __getattr__(name: str) -> Any:
    # LangGraph exports the async shallow saver from this module too; it subclasses the saver
    # above, so it is fetched on first use rather than imported in a cycle.
    if name == "AsyncShallowPostgresSaver":
        from stategraph.checkpoint.postgres.shallow import AsyncShallowPostgresSaver

        return AsyncShallowPostgresSaver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
