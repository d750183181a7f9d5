"""Reading checkpoints of format version 3 and older, where sends were pending writes.

Before version 4 a ``Send`` was saved as a ``TASKS`` write of the checkpoint it was made
from; version 4 keeps sends in the ``TASKS`` channel of the checkpoint that runs them. As
LangGraph's PostgreSQL saver does, such a checkpoint reads back with its parent's ``TASKS``
writes as that channel's value, so the engine finds them where it now looks.
"""

from __future__ import annotations

from typing import Any, Dict

from stategraph.checkpoint._ids import next_channel_version
from stategraph.checkpoint._rows import CheckpointRow
from stategraph.checkpoint._types import CHECKPOINT_FORMAT_VERSION
from stategraph.checkpoint.postgres._compress import unpack
from stategraph.checkpoint.postgres._driver import Operation, Query
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.checkpoint.serde.types import TASKS

__all__ = ["attach_pending_sends", "needs_pending_sends"]

_SELECT_SENDS = """
SELECT type, blob FROM stategraph_checkpoint_writes
WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s AND channel = %s
ORDER BY task_path, task_id, idx
"""


def needs_pending_sends(stored: Dict[str, Any], row: CheckpointRow) -> bool:
    version = stored.get("v", CHECKPOINT_FORMAT_VERSION)
    return version < CHECKPOINT_FORMAT_VERSION and bool(row.parent_checkpoint_id)


def attach_pending_sends(
    serde: SerializerProtocol,
    row: CheckpointRow,
    stored: Dict[str, Any],
    values: Dict[str, Any],
) -> Operation[None]:
    """Put the parent's ``TASKS`` writes into ``values`` and ``stored``'s channel versions."""
    rows = yield Query(
        _SELECT_SENDS,
        (row.thread_id, row.checkpoint_ns, row.parent_checkpoint_id, TASKS),
        fetch=True,
    )
    if not rows:
        return
    values[TASKS] = [serde.loads_typed(unpack(type_, blob)) for type_, blob in rows]
    versions = stored.setdefault("channel_versions", {})
    versions[TASKS] = max(versions.values()) if versions else next_channel_version(None)
