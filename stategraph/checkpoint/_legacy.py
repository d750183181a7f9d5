"""Checkpoint helpers that LangGraph keeps in ``checkpoint.base`` for savers written against
its older releases: an empty checkpoint and one built from live channels, both in the format
version 2 those releases wrote (sends in ``pending_sends``), and config-merged metadata without
the deprecated ``writes`` key. The engine writes format 4 and reads both.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, Optional

from stategraph.checkpoint._ids import uuid6
from stategraph.checkpoint._metadata import get_checkpoint_metadata
from stategraph.checkpoint._types import Checkpoint, CheckpointMetadata
from stategraph.errors import EmptyChannelError

__all__ = [
    "EXCLUDED_METADATA_KEYS",
    "LATEST_VERSION",
    "create_checkpoint",
    "empty_checkpoint",
    "get_serializable_checkpoint_metadata",
]

# The format version the legacy helpers stamp, as LangGraph's do: what they build carries
# ``pending_sends``, which the engine moves into the TASKS channel when it loads it.
LATEST_VERSION = 2

# Config keys never copied into checkpoint metadata (they address a run, not describe it).
EXCLUDED_METADATA_KEYS = frozenset(
    {
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "langgraph_checkpoint_ns",
    }
)


def empty_checkpoint() -> Checkpoint:
    """A checkpoint with no channels, in format version 2."""
    nothing: Any = {"channel_values": {}, "channel_versions": {}, "versions_seen": {}}
    return create_checkpoint(nothing, None, -2)


def create_checkpoint(
    checkpoint: Checkpoint,
    channels: Optional[Mapping[str, Any]],
    step: int,
    *,
    id: Optional[str] = None,
) -> Checkpoint:
    """A new checkpoint with ``checkpoint``'s versions and the values of ``channels``.

    Only channels that have a version in ``checkpoint`` are read, and empty ones are left out;
    ``channels=None`` keeps ``checkpoint``'s stored values. ``step`` seeds the id's clock
    sequence, so ids of one thread sort by step.
    """
    if channels is None:
        values = dict(checkpoint["channel_values"])
    else:
        values = {}
        for name, channel in channels.items():
            if name not in checkpoint["channel_versions"]:
                continue
            try:
                values[name] = channel.checkpoint()
            except EmptyChannelError:
                continue
    created: Any = Checkpoint(
        v=LATEST_VERSION,
        id=id or str(uuid6(clock_seq=step)),
        ts=datetime.now(timezone.utc).isoformat(),
        channel_values=values,
        channel_versions=checkpoint["channel_versions"],
        versions_seen=checkpoint["versions_seen"],
        updated_channels=None,
    )
    created["pending_sends"] = checkpoint.get("pending_sends", [])
    return created  # type: ignore[no-any-return]


def get_serializable_checkpoint_metadata(
    config: Mapping[str, Any], metadata: Mapping[str, Any]
) -> CheckpointMetadata:
    """``get_checkpoint_metadata`` without the ``writes`` key older LangGraph versions stored."""
    merged = get_checkpoint_metadata(config, metadata)
    merged.pop("writes", None)
    return merged  # type: ignore[return-value]
