"""The one statement that stores a step: value rows, checkpoint row and task writes.

A single statement is its own transaction on an autocommit connection, so a step is atomic and
costs one round trip without ``BEGIN``/``COMMIT`` or pipeline mode. Its parts are
data-modifying ``WITH`` queries fed by arrays (``unnest``); each reads from ``lock`` (the
thread's shared advisory lock, see ``_core.THREAD_LOCK``), so none runs before the lock is held.

All parts see the rows as they were when the statement began, never each other's: the rows a
delta extends are always of an earlier step, and the deletes (an expired thread starting anew,
a shallow saver dropping its previous checkpoint) see only rows stored before this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

from stategraph.checkpoint._rows import CheckpointRow, WriteRow
from stategraph.checkpoint.postgres._expiry import EXPIRY_TABLE

__all__ = ["StepRows"]

_CHECKPOINTS = "stategraph_checkpoints"
_BLOBS = "stategraph_checkpoint_blobs"
_WRITES = "stategraph_checkpoint_writes"

_LOCK = "lock AS (SELECT pg_advisory_xact_lock_shared(hashtextextended(%(thread_id)s, 0)))"
_EXPIRED = (
    f"EXISTS (SELECT 1 FROM {EXPIRY_TABLE} "
    "WHERE thread_id = %(thread_id)s AND expires_at <= %(now)s)"
)
_SNAPSHOTS = f"""snapshots AS (
    INSERT INTO {_BLOBS} (thread_id, checkpoint_ns, channel, version, type, blob, base_version)
    SELECT %(thread_id)s, %(checkpoint_ns)s, s.channel, s.version, s.type, s.blob, NULL
    FROM lock, unnest(%(s_channels)s::text[], %(s_versions)s::text[], %(s_types)s::text[],
                      %(s_blobs)s::bytea[]) AS s(channel, version, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version)
    DO UPDATE SET type = EXCLUDED.type, blob = EXCLUDED.blob, base_version = NULL
)"""
# A delta is stored only if the row it extends is there, locked against deletion until commit
# (FOR KEY SHARE blocks only a concurrent delete of that row); otherwise the statement fails
# with MISSING_BASE_SQLSTATE and the saver stores the step again with full values.
_DELTAS = f"""deltas AS (
    INSERT INTO {_BLOBS} (thread_id, checkpoint_ns, channel, version, type, blob, base_version)
    SELECT %(thread_id)s, %(checkpoint_ns)s, d.channel, d.version, d.type, d.blob, d.base
    FROM lock, unnest(%(d_channels)s::text[], %(d_versions)s::text[], %(d_types)s::text[],
                      %(d_blobs)s::bytea[], %(d_bases)s::text[])
        AS d(channel, version, type, blob, base)
    WHERE CASE WHEN EXISTS (
        SELECT 1 FROM {_BLOBS} AS b
        WHERE b.thread_id = %(thread_id)s AND b.checkpoint_ns = %(checkpoint_ns)s
          AND b.channel = d.channel AND b.version = d.base
        FOR KEY SHARE
    ){{live}} THEN TRUE ELSE stategraph_checkpoint_missing_base(d.channel, d.base) END
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
)"""
_CHECKPOINT = f"""checkpoint AS (
    INSERT INTO {_CHECKPOINTS} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
                               type, checkpoint, channel_versions, metadata)
    SELECT %(thread_id)s, %(checkpoint_ns)s, %(checkpoint_id)s, %(parent_checkpoint_id)s,
           %(type)s, %(checkpoint)s, %(channel_versions)s::json, %(metadata)s::jsonb
    FROM lock
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
        parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,
        checkpoint = EXCLUDED.checkpoint, channel_versions = EXCLUDED.channel_versions,
        metadata = EXCLUDED.metadata
)"""
_WRITE_PART = f"""{{name}} AS (
    INSERT INTO {_WRITES} (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type,
                          blob, task_path)
    SELECT %(thread_id)s, %(checkpoint_ns)s, w.checkpoint_id, w.task_id, w.idx, w.channel,
           w.type, w.blob, w.task_path
    FROM lock, unnest(%({{p}}checkpoint_ids)s::text[], %({{p}}task_ids)s::text[],
                      %({{p}}idx)s::int[], %({{p}}channels)s::text[], %({{p}}types)s::text[],
                      %({{p}}blobs)s::bytea[], %({{p}}task_paths)s::text[])
        AS w(checkpoint_id, task_id, idx, channel, type, blob, task_path)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) {{on_conflict}}
)"""
_REPLACE = (
    "DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob, "
    "task_path = EXCLUDED.task_path"
)
_RENEW = f"""renewed AS (
    INSERT INTO {EXPIRY_TABLE} (thread_id, expires_at) SELECT %(thread_id)s, %(expires_at)s
    FROM lock
    ON CONFLICT (thread_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
)"""
_SHALLOW = (
    f"""older_checkpoints AS (
    DELETE FROM {_CHECKPOINTS} WHERE thread_id = %(thread_id)s
      AND checkpoint_ns = %(checkpoint_ns)s AND checkpoint_id <> %(checkpoint_id)s
      AND EXISTS (SELECT 1 FROM lock)
)""",
    f"""older_writes AS (
    DELETE FROM {_WRITES} WHERE thread_id = %(thread_id)s
      AND checkpoint_ns = %(checkpoint_ns)s AND checkpoint_id <> %(checkpoint_id)s
      AND EXISTS (SELECT 1 FROM lock)
)""",
    f"""unused_blobs AS (
    DELETE FROM {_BLOBS} AS b WHERE thread_id = %(thread_id)s
      AND checkpoint_ns = %(checkpoint_ns)s AND EXISTS (SELECT 1 FROM lock)
      AND NOT EXISTS (
          SELECT 1 FROM json_each_text(%(channel_versions)s::json) AS kept(channel, version)
          WHERE kept.channel = b.channel AND kept.version = b.version
      )
)""",
)


@lru_cache(maxsize=64)
def _statement(
    snapshots: bool,
    deltas: bool,
    checkpoint: bool,
    replace_writes: bool,
    keep_writes: bool,
    shallow: bool,
    expiry: bool,
) -> str:
    parts = [_LOCK]
    if expiry:
        # An expired thread is gone even before the sweeper comes: a write starts it anew.
        for name, table in (("expired_c", _CHECKPOINTS), ("expired_b", _BLOBS), ("expired_w", _WRITES)):
            parts.append(
                f"{name} AS (DELETE FROM {table} WHERE thread_id = %(thread_id)s "
                f"AND {_EXPIRED} AND EXISTS (SELECT 1 FROM lock))"
            )
        parts.append(_RENEW)
    if snapshots:
        parts.append(_SNAPSHOTS)
    if deltas:
        parts.append(_DELTAS.format(live=f" AND NOT {_EXPIRED}" if expiry else ""))
    if checkpoint:
        parts.append(_CHECKPOINT)
    if replace_writes:
        parts.append(_WRITE_PART.format(name="replaced", p="r_", on_conflict=_REPLACE))
    if keep_writes:
        parts.append(_WRITE_PART.format(name="kept", p="k_", on_conflict="DO NOTHING"))
    if shallow and checkpoint:
        parts.extend(_SHALLOW)
    # Compact: psycopg caches the parsing of statements up to 4 KiB only.
    return " ".join(("WITH " + ", ".join(parts) + " SELECT 1 FROM lock").split())


@dataclass
class StepRows:
    """The rows of one step (or of one task's writes), gathered into the statement's arrays."""

    thread_id: str
    checkpoint_ns: str
    params: Dict[str, Any] = field(default_factory=dict)
    snapshots: List[Tuple[str, str, str, bytes]] = field(default_factory=list)
    deltas: List[Tuple[str, str, str, bytes, str]] = field(default_factory=list)
    checkpoint: Optional[CheckpointRow] = None
    writes: List[Tuple[str, WriteRow]] = field(default_factory=list)  # (checkpoint_id, row)

    def add_writes(self, checkpoint_id: str, rows: Sequence[WriteRow]) -> None:
        self.writes.extend((checkpoint_id, row) for row in rows)

    def statement(
        self,
        *,
        shallow: bool = False,
        expiry: Optional[Tuple[float, float]] = None,  # (now, expires_at)
    ) -> Tuple[str, Dict[str, Any]]:
        params = self.params
        params["thread_id"] = self.thread_id
        params["checkpoint_ns"] = self.checkpoint_ns
        if expiry is not None:
            params["now"], params["expires_at"] = expiry
        for prefix, columns, rows in (
            ("s_", ("channels", "versions", "types", "blobs"), self.snapshots),
            ("d_", ("channels", "versions", "types", "blobs", "bases"), self.deltas),
        ):
            if rows:
                for name, values in zip(columns, zip(*rows)):
                    params[prefix + name] = list(values)
        replaced = [(cid, row) for cid, row in self.writes if row.replaces]
        kept = [(cid, row) for cid, row in self.writes if not row.replaces]
        for prefix, rows in (("r_", replaced), ("k_", kept)):
            if not rows:
                continue
            params[prefix + "checkpoint_ids"] = [cid for cid, _ in rows]
            params[prefix + "task_ids"] = [row.task_id for _, row in rows]
            params[prefix + "idx"] = [row.idx for _, row in rows]
            params[prefix + "channels"] = [row.channel for _, row in rows]
            params[prefix + "types"] = [row.type for _, row in rows]
            params[prefix + "blobs"] = [row.value for _, row in rows]
            params[prefix + "task_paths"] = [row.task_path for _, row in rows]
        row = self.checkpoint
        if row is not None:
            params["checkpoint_id"] = row.checkpoint_id
            params["parent_checkpoint_id"] = row.parent_checkpoint_id
            params["type"] = row.type
            params["checkpoint"] = row.checkpoint
            params["metadata"] = row.metadata
        sql = _statement(
            bool(self.snapshots),
            bool(self.deltas),
            row is not None,
            bool(replaced),
            bool(kept),
            shallow,
            expiry is not None,
        )
        return sql, params
