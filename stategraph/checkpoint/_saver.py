"""``BaseCheckpointSaver``: the interface every checkpointer implements (LangGraph's).

A saver stores checkpoints under (thread_id, checkpoint_ns, checkpoint_id), the writes of each
task against the checkpoint they belong to, and hands them back as ``CheckpointTuple``s. It
knows nothing of graphs. Methods not overridden raise ``NotImplementedError``, except ``get``
and ``put_step``, which are built on the others.
"""

from __future__ import annotations

import copy
from typing import (
    Any,
    AsyncIterator,
    Generic,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from typing_extensions import Self

from stategraph.checkpoint._delta_history import (
    DeltaChannelHistory,
    acollect_history,
    collect_history,
)
from stategraph.checkpoint._rows import thread_address
from stategraph.checkpoint._types import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    RunnableConfig,
    TaskWrites,
)
from stategraph.checkpoint.serde.base import SerializerProtocol, maybe_add_typed_methods
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = ["PRUNE_STRATEGIES", "BaseCheckpointSaver", "PruneStrategy", "V", "prune_targets"]

V = TypeVar("V", int, float, str)
PruneStrategy = Literal["keep_latest", "delete"]
PRUNE_STRATEGIES: tuple[PruneStrategy, ...] = ("keep_latest", "delete")


class BaseCheckpointSaver(Generic[V]):
    """Base class for checkpointers.

    ``serde`` (default ``JsonPlusSerializer()``) turns values into bytes; an object with only
    ``dumps``/``loads`` is accepted and wrapped. Subclasses implement ``get_tuple``, ``list``,
    ``put``, ``put_writes`` and ``delete_thread`` (and their ``a``-prefixed async versions).
    """

    serde: SerializerProtocol = JsonPlusSerializer()

    # True when ``put`` reads ``checkpoint["channel_values"]`` only for the channels in
    # ``new_versions`` (as stategraph's savers do): the engine then leaves the others out.
    # Some savers store unchanged values inline in every checkpoint, hence False by default.
    reads_only_new_values: bool = False

    def __init__(self, *, serde: Optional[SerializerProtocol] = None) -> None:
        self.serde = maybe_add_typed_methods(serde if serde is not None else self.serde)

    @property
    def config_specs(self) -> List[Any]:
        return []

    # -- reading ---------------------------------------------------------------------------

    def get(self, config: RunnableConfig) -> Optional[Checkpoint]:
        """The checkpoint ``config`` points at (the latest if it names no checkpoint_id)."""
        found = self.get_tuple(config)
        return found.checkpoint if found is not None else None

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        """The checkpoint ``config`` points at, with metadata, parent and pending writes."""
        raise NotImplementedError

    def list(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints matching ``config`` and ``filter`` (metadata equality), newest first."""
        raise NotImplementedError

    # -- writing ---------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` as the child of ``config``'s checkpoint; return its config.

        Only the channels in ``new_versions`` have new values to store.
        """
        raise NotImplementedError

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes against ``config``'s checkpoint (idempotent per position)."""
        raise NotImplementedError

    def put_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        """``put`` plus the ``writes`` of tasks, committed together (stategraph extension).

        The savers stategraph ships do this in one transaction. This default, for other
        savers, calls ``put`` then ``put_writes`` and is not atomic.
        """
        new_config = self.put(config, checkpoint, metadata, new_versions)
        for task in writes:
            self.put_writes(
                _writes_config(config, checkpoint, task), task.writes, task.task_id, task.task_path
            )
        return new_config

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of the thread, in all namespaces."""
        raise NotImplementedError

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        raise NotImplementedError

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        raise NotImplementedError

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Give back the storage of threads' history (stategraph; LangGraph does not implement it).

        ``strategy="delete"`` removes each thread entirely, as ``delete_thread`` does.

        ``strategy="keep_latest"`` keeps, for each thread and each checkpoint namespace in it,
        only the latest checkpoint (the largest ``checkpoint_id``: the one ``get_tuple`` returns
        for a config without one), and with it:

        - its pending writes, so an interrupted thread is still answered by
          ``Command(resume=...)`` and the tasks that finished are not run again;
        - the stored value of every channel in its ``channel_versions``, each as a full
          snapshot: a value stored as deltas (see ``_blobs``) is rewritten at the same
          (channel, version) key with no ``base_version``, so no other value row is needed.
          Every other value row of the namespace is deleted, and so are the rows of a
          namespace that holds no checkpoint;
        - its id, checkpoint fields and metadata, unchanged. Its parent link is cleared: the
          kept checkpoint becomes the thread's first, ``parent_config`` is None and ``list``
          yields it alone.

        So afterwards ``get_tuple`` of the thread returns what it returned before (``config``,
        ``checkpoint`` with all its ``channel_values``, ``metadata``, ``pending_writes``) except
        ``parent_config``; ``get_tuple`` of a deleted checkpoint returns None; ``put`` and
        ``put_writes`` that continue from the kept checkpoint (a run, ``update_state``, a fork)
        work as on any other. A later delta whose base row was deleted must be stored as a
        snapshot instead (as after ``delete_thread``), so pruning during a run loses no value.

        For both strategies: a ``str`` is one thread id; ids with nothing stored are skipped; an
        unknown ``strategy`` raises ``ValueError`` naming the valid ones before anything is
        deleted; each thread is pruned in one transaction. A saver with a value cache drops the
        thread's entries; a saver on a database gives the freed pages back where it can (SQLite:
        ``PRAGMA incremental_vacuum``).

        Expiry: a saver made with ``ttl=TTLConfig`` (``default_ttl`` minutes, ``refresh_on_read``,
        ``sweep_interval_minutes``) expires a thread ``default_ttl`` minutes after its last write
        (``put``, ``put_writes``, ``put_step``), or after its last read (``get_tuple``,
        ``list``) when ``refresh_on_read`` is true, the default. An expired thread reads as
        absent at once; ``sweep_ttl()`` deletes expired threads and returns their number; a
        write to an expired thread first deletes what it held, so it starts anew. ``prune`` with
        ``keep_latest`` leaves the expiry as it was.
        """
        raise NotImplementedError

    # -- async -----------------------------------------------------------------------------

    async def aget(self, config: RunnableConfig) -> Optional[Checkpoint]:
        found = await self.aget_tuple(config)
        return found.checkpoint if found is not None else None

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        raise NotImplementedError

    async def alist(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[CheckpointTuple]:
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        raise NotImplementedError

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        raise NotImplementedError

    async def aput_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        """Async ``put_step``; the default is not atomic (see ``put_step``)."""
        new_config = await self.aput(config, checkpoint, metadata, new_versions)
        for task in writes:
            await self.aput_writes(
                _writes_config(config, checkpoint, task), task.writes, task.task_id, task.task_path
            )
        return new_config

    async def adelete_thread(self, thread_id: str) -> None:
        raise NotImplementedError

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        raise NotImplementedError

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        raise NotImplementedError

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Async ``prune``, with the same contract."""
        raise NotImplementedError

    # -- DeltaChannel history (LangGraph's beta contract) -------------------------------------

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """For each channel, the writes on the parent chain of ``config``'s checkpoint since
        the nearest ancestor that stores its value (``seed``); see ``_delta_history``."""
        return collect_history(self.get_tuple, config, channels)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Async ``get_delta_channel_history``."""
        return await acollect_history(self.aget_tuple, config, channels)

    # -- versions and serialization ----------------------------------------------------------

    def get_next_version(self, current: Optional[V], channel: Any) -> V:
        """The version a channel gets when it changes: integers counting up in this base class."""
        if current is None:
            return 1  # type: ignore[return-value]
        if isinstance(current, str):
            raise NotImplementedError(
                f"{type(self).__qualname__} stores string versions; "
                "it must override get_next_version."
            )
        return current + 1

    def with_allowlist(self, extra_allowlist: Any) -> Self:
        """A copy of this saver whose serializer also allows ``extra_allowlist`` (classes or
        ``(module, name)`` tuples); storage and caches are shared."""
        widen = getattr(self.serde, "with_allowlist", None)
        if widen is None:
            return self
        clone = copy.copy(self)
        clone.serde = widen(extra_allowlist)
        return clone


def _writes_config(
    config: RunnableConfig, checkpoint: Checkpoint, task: TaskWrites
) -> RunnableConfig:
    thread_id, checkpoint_ns = thread_address(config)
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": task.checkpoint_id or checkpoint["id"],
        }
    }


def prune_targets(thread_ids: Sequence[str], strategy: str) -> tuple[list[str], PruneStrategy]:
    """``prune``'s arguments checked, before anything is deleted: the thread ids, the strategy."""
    if strategy not in PRUNE_STRATEGIES:
        valid = " or ".join(repr(name) for name in PRUNE_STRATEGIES)
        raise ValueError(
            f"Unknown prune strategy {strategy!r}. Pass strategy={valid}: 'keep_latest' keeps "
            "each thread's latest checkpoint, 'delete' removes the threads."
        )
    # A bare string is one id; iterating it would prune one-letter threads.
    ids = [thread_ids] if isinstance(thread_ids, str) else [str(tid) for tid in thread_ids]
    return list(dict.fromkeys(ids)), strategy  # type: ignore[return-value]
