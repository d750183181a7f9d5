"""The shapes a checkpointer stores and returns (LangGraph's names and fields)."""

from __future__ import annotations

from typing import (
    Any,
    Dict,
    List,
    Literal,
    NamedTuple,
    Optional,
    Tuple,
    TypedDict,
    Union,
)

__all__ = [
    "WRITES_IDX_MAP",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "PendingWrite",
    "RunnableConfig",
    "TaskWrites",
    "copy_checkpoint",
]

# A plain dict with langchain-core's keys ("configurable", "metadata", ...); the checkpointer
# reads only configurable.thread_id / checkpoint_ns / checkpoint_id and the metadata.
RunnableConfig = Dict[str, Any]

ChannelVersions = Dict[str, Union[str, int, float]]

# (task_id, channel, value)
PendingWrite = Tuple[str, str, Any]

# Writes to these channels replace the previous one of the same task (stored at a fixed
# negative index); all other writes are keyed by position and never overwritten.
WRITES_IDX_MAP: dict[str, int] = {
    "__error__": -1,
    "__scheduled__": -2,
    "__interrupt__": -3,
    "__resume__": -4,
}

CHECKPOINT_FORMAT_VERSION = 4


class Checkpoint(TypedDict):
    """The state of a thread after one step: channel values and the versions that produced them."""

    v: int
    id: str
    ts: str
    channel_values: dict[str, Any]
    channel_versions: ChannelVersions
    versions_seen: dict[str, ChannelVersions]
    updated_channels: Optional[List[str]]


class CheckpointMetadata(TypedDict, total=False):
    """What produced a checkpoint; user config metadata is merged in by the saver."""

    source: Literal["input", "loop", "update", "fork"]
    step: int
    parents: dict[str, str]
    run_id: str


class CheckpointTuple(NamedTuple):
    """A checkpoint with its config, metadata, parent and the writes saved against it."""

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    parent_config: Optional[RunnableConfig] = None
    pending_writes: Optional[List[PendingWrite]] = None


class TaskWrites(NamedTuple):
    """One task's writes, for ``put_step`` (stategraph's atomic step commit).

    ``checkpoint_id=None`` attaches them to the checkpoint being put (writes pending for the
    next step, e.g. at an interrupt); an id attaches them to that checkpoint of the same thread
    and namespace (usually the parent: the writes this step consumed).
    """

    task_id: str
    writes: List[Tuple[str, Any]]
    task_path: str = ""
    checkpoint_id: Optional[str] = None


def copy_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    """A copy whose dicts can be changed without touching ``checkpoint`` (values are shared)."""
    copied: Any = dict(checkpoint)
    copied["channel_values"] = dict(checkpoint["channel_values"])
    copied["channel_versions"] = dict(checkpoint["channel_versions"])
    copied["versions_seen"] = {
        node: dict(seen) for node, seen in checkpoint["versions_seen"].items()
    }
    updated = checkpoint.get("updated_channels")
    copied["updated_channels"] = None if updated is None else list(updated)
    return copied  # type: ignore[no-any-return]
