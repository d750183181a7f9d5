"""Storage rows: how a checkpoint, its metadata and its pending writes are laid out, and back.

Shared by every saver we ship: a checkpoint row holds the checkpoint without its channel values
(``channel_versions`` say which blob each channel uses, see ``_blobs``), metadata as JSON, and
the parent id; a write row holds one task write under ``(task_id, idx)``. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence

from stategraph.checkpoint._metadata import (
    decode_metadata,
    encode_metadata,
    get_checkpoint_metadata,
)
from stategraph.checkpoint._types import (
    WRITES_IDX_MAP,
    Checkpoint,
    CheckpointTuple,
    PendingWrite,
    RunnableConfig,
)
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.errors import DeserializationError, SerializationError

__all__ = [
    "CheckpointRow",
    "WriteRow",
    "checkpoint_config",
    "decode_checkpoint",
    "decode_pending_writes",
    "encode_checkpoint_row",
    "encode_write_rows",
    "thread_address",
    "to_checkpoint_tuple",
]


# Rows are named tuples: savers build several per step, and a named tuple is made in a third
# of the time a frozen dataclass takes.
class CheckpointRow(NamedTuple):
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: Optional[str]
    type: str
    checkpoint: bytes
    metadata: str


class WriteRow(NamedTuple):
    task_id: str
    idx: int
    channel: str
    type: str
    value: bytes
    task_path: str

    @property
    def replaces(self) -> bool:
        """Special channels (negative idx) overwrite; other writes are kept as first stored."""
        return self.idx < 0


def thread_address(config: Mapping[str, Any]) -> tuple[str, str]:
    """``(thread_id, checkpoint_ns)`` of a config, with an error that says what is missing."""
    configurable = config.get("configurable") or {}
    thread_id = configurable.get("thread_id")
    if thread_id is None:
        raise ValueError(
            "The checkpointer needs config['configurable']['thread_id'] to know which thread "
            f"to read or write; got configurable={dict(configurable)!r}. Fix: pass "
            "config={'configurable': {'thread_id': '...'}}."
        )
    return str(thread_id), configurable.get("checkpoint_ns") or ""


def checkpoint_config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def encode_checkpoint_row(
    serde: SerializerProtocol,
    config: Mapping[str, Any],
    checkpoint: Checkpoint,
    metadata: Mapping[str, Any],
    *,
    keep_versions: bool = True,
) -> CheckpointRow:
    """The row of ``checkpoint``, without the values stored as blobs by version.

    A value whose channel has no version (a checkpoint made by hand, not by the engine) has no
    blob to live in: it stays in the row, as LangGraph's SQLite saver keeps every value.
    ``keep_versions=False`` leaves ``channel_versions`` out too, for a saver with a column for it.
    """
    thread_id, checkpoint_ns = thread_address(config)
    versions = checkpoint.get("channel_versions") or {}
    fields = {
        key: value
        for key, value in checkpoint.items()
        if key != "channel_values" and (keep_versions or key != "channel_versions")
    }
    unversioned = {
        channel: value
        for channel, value in (checkpoint.get("channel_values") or {}).items()
        if channel not in versions
    }
    if unversioned:
        fields["channel_values"] = unversioned
    try:
        tag, data = serde.dumps_typed(fields)
    except TypeError as error:  # another error (a serializer's own) passes as it is
        raise SerializationError(f"Cannot store checkpoint {checkpoint['id']}: {error}") from error
    return CheckpointRow(
        thread_id=thread_id,
        checkpoint_ns=checkpoint_ns,
        checkpoint_id=checkpoint["id"],
        parent_checkpoint_id=(config.get("configurable") or {}).get("checkpoint_id") or None,
        type=tag,
        checkpoint=data,
        metadata=encode_metadata(get_checkpoint_metadata(config, metadata)),
    )


def encode_write_rows(
    serde: SerializerProtocol,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str = "",
    encoded: Optional[dict[int, tuple[str, bytes]]] = None,
) -> list[WriteRow]:
    """Rows for a task's writes; ``encoded`` collects each value's bytes by ``id(value)``.

    A step's checkpoint usually stores some of the very objects its tasks wrote (a plain
    key's new value is the value written), so the caller can pass ``encoded`` on to
    ``plan_blob_writes`` and serialize each of those once.
    """
    rows = []
    dumps = serde.dumps_typed
    for position, (channel, value) in enumerate(writes):
        try:
            tag, data = dumps(value)
        except TypeError as error:  # another error (a serializer's own) passes as it is
            raise SerializationError(
                f"Cannot store the write to channel {channel!r} by task {task_id!r}: {error}"
            ) from error
        if encoded is not None:
            encoded[id(value)] = (tag, data)
        rows.append(
            WriteRow(task_id, WRITES_IDX_MAP.get(channel, position), channel, tag, data, task_path)
        )
    return rows


def decode_pending_writes(
    serde: SerializerProtocol, rows: Iterable[tuple[str, str, str, bytes]]
) -> list[PendingWrite]:
    """``(task_id, channel, value)`` from ``(task_id, channel, type, value)`` rows, in order."""
    writes = []
    for task_id, channel, tag, data in rows:
        try:
            value = serde.loads_typed((tag, data))
        except DeserializationError as error:
            raise DeserializationError(
                f"Cannot read the write to channel {channel!r} by task {task_id!r}: {error}"
            ) from error
        writes.append((task_id, channel, value))
    return writes


def decode_checkpoint(serde: SerializerProtocol, row: CheckpointRow) -> dict[str, Any]:
    """The stored checkpoint fields (everything but ``channel_values``)."""
    try:
        stored = serde.loads_typed((row.type, row.checkpoint))
    except DeserializationError as error:
        raise DeserializationError(
            f"Cannot read checkpoint {row.checkpoint_id}: {error}"
        ) from error
    if not isinstance(stored, dict):
        raise DeserializationError(f"Stored checkpoint {row.checkpoint_id} is not a mapping.")
    return stored


def to_checkpoint_tuple(
    row: CheckpointRow,
    stored: Mapping[str, Any],
    channel_values: dict[str, Any],
    pending_writes: list[PendingWrite],
    config: Optional[RunnableConfig] = None,
) -> CheckpointTuple:
    """A ``CheckpointTuple``; ``config`` is returned as given when the caller named the id."""
    unversioned = stored.get("channel_values")
    if unversioned:
        channel_values = {**unversioned, **channel_values}
    checkpoint: Any = {**stored, "channel_values": channel_values}
    parent = row.parent_checkpoint_id
    return CheckpointTuple(
        config=config or checkpoint_config(row.thread_id, row.checkpoint_ns, row.checkpoint_id),
        checkpoint=checkpoint,
        metadata=decode_metadata(row.metadata),  # type: ignore[arg-type]
        parent_config=checkpoint_config(row.thread_id, row.checkpoint_ns, parent)
        if parent
        else None,
        pending_writes=pending_writes,
    )
