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
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from typing_extensions import Self

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

__all__ = ["BaseCheckpointSaver", "V"]

V = TypeVar("V", int, float, str)


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
        raise NotImplementedError

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
