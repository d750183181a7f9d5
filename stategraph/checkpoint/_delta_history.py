"""What a channel's history looks like to ``DeltaChannel`` readers (LangGraph's beta contract).

``BaseCheckpointSaver.get_delta_channel_history`` walks a checkpoint's parent chain and, for
each channel asked for, returns the writes made to it on that path (oldest first) and the
nearest stored value before them (``seed``). stategraph's savers store every channel's value
at each checkpoint, so the walk ends at the parent; the method exists for code written
against LangGraph's saver interface.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence

from typing_extensions import NotRequired, TypedDict

from stategraph.checkpoint._types import CheckpointTuple, PendingWrite, RunnableConfig

__all__ = ["DeltaChannelHistory", "acollect_history", "collect_history", "writes_sort_key"]


class DeltaChannelHistory(TypedDict):
    """One channel's history: ``writes`` on the path, oldest first; ``seed`` where it starts
    (absent when the walk reached the first checkpoint without finding a stored value)."""

    writes: List[PendingWrite]
    seed: NotRequired[Any]


def writes_sort_key(task_path: str, task_id: str = "", idx: int = 0) -> tuple[str, str, int]:
    """The order in which a step's task writes are applied: by task path, then id, then index."""
    return (task_path, task_id, idx)


class _Walk:
    """The state of one walk up a parent chain, shared by the sync and async drivers."""

    def __init__(self, channels: Sequence[str]) -> None:
        self.remaining = set(channels)
        self.channels = list(channels)
        self.newest_first: Dict[str, List[PendingWrite]] = {c: [] for c in channels}
        self.seeds: Dict[str, Any] = {}
        self.visited: set[tuple[str, str]] = set()

    def visit(self, ancestor: CheckpointTuple) -> Optional[RunnableConfig]:
        """Take one ancestor in; returns the next config to visit, or None when done."""
        configurable = ancestor.config["configurable"]
        key = (configurable.get("checkpoint_ns", ""), configurable.get("checkpoint_id", ""))
        if key in self.visited:
            # A put that overwrote an ancestor with a new parent can close the chain into a
            # loop; each checkpoint's writes count once, and the walk ends where it repeats.
            return None
        self.visited.add(key)
        for write in reversed(ancestor.pending_writes or []):
            if write[1] in self.remaining:
                self.newest_first[write[1]].append(write)
        stored = ancestor.checkpoint.get("channel_values") or {}
        for channel in [c for c in self.remaining if c in stored]:
            self.seeds[channel] = stored[channel]
            self.remaining.discard(channel)
        return ancestor.parent_config if self.remaining else None

    def result(self) -> Dict[str, DeltaChannelHistory]:
        history: Dict[str, DeltaChannelHistory] = {}
        for channel in self.channels:
            entry: DeltaChannelHistory = {"writes": self.newest_first[channel][::-1]}
            if channel in self.seeds:
                entry["seed"] = self.seeds[channel]
            history[channel] = entry
        return history


def collect_history(
    get_tuple: Callable[[RunnableConfig], Optional[CheckpointTuple]],
    config: RunnableConfig,
    channels: Sequence[str],
) -> Mapping[str, DeltaChannelHistory]:
    walk = _Walk(channels)
    target = get_tuple(config) if channels else None
    cursor = target.parent_config if target is not None else None
    while cursor is not None:
        ancestor = get_tuple(cursor)
        if ancestor is None:
            break
        cursor = walk.visit(ancestor)
    return walk.result()


async def acollect_history(
    aget_tuple: Callable[[RunnableConfig], Awaitable[Optional[CheckpointTuple]]],
    config: RunnableConfig,
    channels: Sequence[str],
) -> Mapping[str, DeltaChannelHistory]:
    walk = _Walk(channels)
    target = await aget_tuple(config) if channels else None
    cursor = target.parent_config if target is not None else None
    while cursor is not None:
        ancestor = await aget_tuple(cursor)
        if ancestor is None:
            break
        cursor = walk.visit(ancestor)
    return walk.result()
