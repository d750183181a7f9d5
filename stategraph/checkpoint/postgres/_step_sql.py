"""The one statement that stores steps: value rows, checkpoint rows and task writes.

A single statement is its own transaction on an autocommit connection, so what it stores is
atomic and costs one round trip without ``BEGIN``/``COMMIT`` or pipeline mode. It may hold
several steps, of several threads (``PostgresSaver.put_batch``). Its parts are data-modifying
``WITH`` queries, each fed its rows as a JSON array and their blobs as a ``bytea[]``; each reads
from ``lock`` (the shared advisory lock of every thread written, see ``_core.THREAD_LOCK``), so
none runs before the locks are held.

All parts see the rows as they were when the statement began, never each other's. So a delta
whose base row is written by the same statement is not checked against the table (it is known
to be there once the statement commits), and the deletes (an expired thread starting anew, a
shallow saver dropping its previous checkpoint) see only rows stored before this statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from stategraph.checkpoint._rows import CheckpointRow, WriteRow
from stategraph.checkpoint.postgres._expiry import EXPIRY_TABLE

__all__ = ["StepRows"]

_CHECKPOINTS = "stategraph_checkpoints"
_BLOBS = "stategraph_checkpoint_blobs"
_WRITES = "stategraph_checkpoint_writes"

_LOCK = (
    "lock AS (SELECT count(pg_advisory_xact_lock_shared(hashtextextended(t, 0))) "
    "FROM unnest(%(threads)b::text[]) AS t)"
)
_EXPIRED = (
    f"expired AS (SELECT thread_id FROM {EXPIRY_TABLE} "
    "WHERE thread_id = ANY(%(threads)b::text[]) AND expires_at <= %(now)s)"
)


def _rows(part: str, alias: str, columns: str) -> str:
    """The rows of one part: its text columns from a JSON array of objects, zipped with its
    blobs from a binary ``bytea[]`` (``ROWS FROM`` pairs them up in order).

    A part is two parameters, not one array per column: psycopg dumps each list in Python but a
    string in C, so the fewer lists a statement sends, the less time it spends before the wire.
    """
    names = ", ".join(name for name, _ in (column.split() for column in columns.split(",")))
    return (
        f"ROWS FROM (json_to_recordset(%({part})s::json) AS ({columns}), "
        f"unnest(%({part}_blobs)b::bytea[])) AS {alias}({names}, blob)"
    )


_SNAPSHOTS = f"""snapshots AS (
    INSERT INTO {_BLOBS} (thread_id, checkpoint_ns, channel, version, type, blob, base_version)
    SELECT s.thread_id, s.checkpoint_ns, s.channel, s.version, s.type, s.blob, NULL
    FROM lock, {_rows("s", "s", "thread_id text, checkpoint_ns text, channel text, version text, type text")}
    ON CONFLICT (thread_id, checkpoint_ns, channel, version)
    DO UPDATE SET type = EXCLUDED.type, blob = EXCLUDED.blob, base_version = NULL
)"""
# A delta whose base is an earlier statement's is stored only if that row is there, locked
# against deletion until commit (FOR KEY SHARE blocks only a concurrent delete of that row);
# otherwise the statement fails with MISSING_BASE_SQLSTATE and the saver stores the steps again
# with full values. d.checked is false for a delta whose base this statement writes.
_DELTAS = f"""deltas AS (
    INSERT INTO {_BLOBS} (thread_id, checkpoint_ns, channel, version, type, blob, base_version)
    SELECT d.thread_id, d.checkpoint_ns, d.channel, d.version, d.type, d.blob, d.base
    FROM lock, {_rows("d", "d", "thread_id text, checkpoint_ns text, channel text, version text, type text, base text, checked boolean")}
    WHERE CASE WHEN NOT d.checked THEN TRUE WHEN EXISTS (
        SELECT 1 FROM {_BLOBS} AS b
        WHERE b.thread_id = d.thread_id AND b.checkpoint_ns = d.checkpoint_ns
          AND b.channel = d.channel AND b.version = d.base
        FOR KEY SHARE
    ){{live}} THEN TRUE ELSE stategraph_checkpoint_missing_base(d.channel, d.base) END
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
)"""
_CHECKPOINT_ROWS = _rows(
    "c",
    "c",
    "thread_id text, checkpoint_ns text, checkpoint_id text, parent text, type text, "
    "versions text, metadata text",
)
_CHECKPOINT = f"""checkpoints AS (
    INSERT INTO {_CHECKPOINTS} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
                               type, checkpoint, channel_versions, metadata)
    SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent, c.type, c.blob,
           c.versions::json, c.metadata::jsonb
    FROM lock, {_CHECKPOINT_ROWS}
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
        parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,
        checkpoint = EXCLUDED.checkpoint, channel_versions = EXCLUDED.channel_versions,
        metadata = EXCLUDED.metadata
)"""
_WRITE_COLUMNS = (
    "thread_id text, checkpoint_ns text, checkpoint_id text, task_id text, idx int, "
    "channel text, type text, task_path text"
)
_WRITE_PART = f"""{{name}} AS (
    INSERT INTO {_WRITES} (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type,
                          blob, task_path)
    SELECT w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.idx, w.channel,
           w.type, w.blob, w.task_path
    FROM lock, {{rows}}
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) {{on_conflict}}
)"""
_REPLACE = (
    "DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob, "
    "task_path = EXCLUDED.task_path"
)
_RENEW = f"""renewed AS (
    INSERT INTO {EXPIRY_TABLE} (thread_id, expires_at)
    SELECT t, %(expires_at)s FROM lock, unnest(%(threads)b::text[]) AS t
    ON CONFLICT (thread_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
)"""
# One checkpoint per namespace: a shallow saver stores one step per statement.
_SHALLOW = (
    f"""older_checkpoints AS (
    DELETE FROM {_CHECKPOINTS} AS o USING lock, {_CHECKPOINT_ROWS}
    WHERE o.thread_id = c.thread_id AND o.checkpoint_ns = c.checkpoint_ns
      AND o.checkpoint_id <> c.checkpoint_id
)""",
    f"""older_writes AS (
    DELETE FROM {_WRITES} AS o USING lock, {_CHECKPOINT_ROWS}
    WHERE o.thread_id = c.thread_id AND o.checkpoint_ns = c.checkpoint_ns
      AND o.checkpoint_id <> c.checkpoint_id
)""",
    f"""unused_blobs AS (
    DELETE FROM {_BLOBS} AS o USING lock, {_CHECKPOINT_ROWS}
    WHERE o.thread_id = c.thread_id AND o.checkpoint_ns = c.checkpoint_ns
      AND NOT EXISTS (
          SELECT 1 FROM json_each_text(c.versions::json) AS kept(channel, version)
          WHERE kept.channel = o.channel AND kept.version = o.version
      )
)""",
)


@lru_cache(maxsize=64)
def _statement(
    snapshots: bool,
    deltas: bool,
    checkpoints: bool,
    replace_writes: bool,
    keep_writes: bool,
    shallow: bool,
    expiry: bool,
) -> str:
    parts = [_LOCK]
    if expiry:
        # An expired thread is gone even before the sweeper comes: a write starts it anew.
        parts.append(_EXPIRED)
        for name, table in (("expired_c", _CHECKPOINTS), ("expired_b", _BLOBS), ("expired_w", _WRITES)):
            parts.append(
                f"{name} AS (DELETE FROM {table} WHERE thread_id IN (SELECT thread_id FROM expired) "
                "AND EXISTS (SELECT 1 FROM lock))"
            )
        parts.append(_RENEW)
    if snapshots:
        parts.append(_SNAPSHOTS)
    if deltas:
        live = " AND NOT EXISTS (SELECT 1 FROM expired AS e WHERE e.thread_id = d.thread_id)"
        parts.append(_DELTAS.format(live=live if expiry else ""))
    if checkpoints:
        parts.append(_CHECKPOINT)
    if replace_writes:
        rows = _rows("r", "w", _WRITE_COLUMNS)
        parts.append(_WRITE_PART.format(name="replaced", rows=rows, on_conflict=_REPLACE))
    if keep_writes:
        rows = _rows("k", "w", _WRITE_COLUMNS)
        parts.append(_WRITE_PART.format(name="kept", rows=rows, on_conflict="DO NOTHING"))
    if shallow and checkpoints:
        parts.extend(_SHALLOW)
    # Compact: psycopg caches the parsing of statements up to 4 KiB only.
    return " ".join(("WITH " + ", ".join(parts) + " SELECT 1 FROM lock").split())


@dataclass
class StepRows:
    """The rows of one or more steps (or task writes), gathered into the statement's arrays.

    A row added again under the same key replaces the earlier one (the later step wrote it).
    """

    # (thread_id, checkpoint_ns, channel, version) -> (type, blob)
    snapshots: Dict[Tuple[str, str, str, str], Tuple[str, bytes]] = field(default_factory=dict)
    # (thread_id, checkpoint_ns, channel, version) -> (type, blob, base_version, checked)
    deltas: Dict[Tuple[str, str, str, str], Tuple[str, bytes, str, bool]] = field(
        default_factory=dict
    )
    # (thread_id, checkpoint_ns, checkpoint_id) -> (row, channel_versions JSON)
    checkpoints: Dict[Tuple[str, str, str], Tuple[CheckpointRow, str]] = field(
        default_factory=dict
    )
    # (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) -> row
    writes: Dict[Tuple[str, str, str, str, int], WriteRow] = field(default_factory=dict)
    threads: Dict[str, None] = field(default_factory=dict)  # in first-written order

    def add_snapshot(self, thread_id: str, ns: str, channel: str, version: str, type_: str, blob: bytes) -> None:
        self.threads.setdefault(thread_id)
        key = (thread_id, ns, channel, version)
        self.deltas.pop(key, None)
        self.snapshots[key] = (type_, blob)

    def add_delta(
        self, thread_id: str, ns: str, channel: str, version: str, type_: str, blob: bytes, base: str
    ) -> None:
        self.threads.setdefault(thread_id)
        key = (thread_id, ns, channel, version)
        base_key = (thread_id, ns, channel, base)
        checked = base_key not in self.snapshots and base_key not in self.deltas
        self.snapshots.pop(key, None)
        self.deltas[key] = (type_, blob, base, checked)

    def add_checkpoint(self, row: CheckpointRow, channel_versions: str) -> None:
        self.threads.setdefault(row.thread_id)
        self.checkpoints[(row.thread_id, row.checkpoint_ns, row.checkpoint_id)] = (
            row,
            channel_versions,
        )

    def add_writes(self, thread_id: str, ns: str, checkpoint_id: str, rows: List[WriteRow]) -> None:
        self.threads.setdefault(thread_id)
        for row in rows:
            key = (thread_id, ns, checkpoint_id, row.task_id, row.idx)
            if row.replaces or key not in self.writes:
                self.writes[key] = row  # a kept write stays as first stored, as in the table

    def statement(
        self,
        *,
        shallow: bool = False,
        expiry: Optional[Tuple[float, float]] = None,  # (now, expires_at)
    ) -> Tuple[str, Dict[str, Any]]:
        params: Dict[str, Any] = {"threads": list(self.threads)}
        if expiry is not None:
            params["now"], params["expires_at"] = expiry
        if self.snapshots:
            _part(
                params,
                "s",
                [
                    {"thread_id": t, "checkpoint_ns": ns, "channel": ch, "version": v, "type": type_}
                    for (t, ns, ch, v), (type_, _) in self.snapshots.items()
                ],
                [blob for _, blob in self.snapshots.values()],
            )
        if self.deltas:
            _part(
                params,
                "d",
                [
                    {"thread_id": t, "checkpoint_ns": ns, "channel": ch, "version": v,
                     "type": type_, "base": base, "checked": checked}
                    for (t, ns, ch, v), (type_, _, base, checked) in self.deltas.items()
                ],
                [blob for _, blob, _, _ in self.deltas.values()],
            )
        if self.checkpoints:
            _part(
                params,
                "c",
                [
                    {"thread_id": row.thread_id, "checkpoint_ns": row.checkpoint_ns,
                     "checkpoint_id": row.checkpoint_id, "parent": row.parent_checkpoint_id,
                     "type": row.type, "versions": versions, "metadata": row.metadata}
                    for row, versions in self.checkpoints.values()
                ],
                [row.checkpoint for row, _ in self.checkpoints.values()],
            )
        replaced = [(key, row) for key, row in self.writes.items() if row.replaces]
        kept = [(key, row) for key, row in self.writes.items() if not row.replaces]
        for part, rows in (("r", replaced), ("k", kept)):
            if rows:
                _part(
                    params,
                    part,
                    [
                        {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": cid,
                         "task_id": row.task_id, "idx": row.idx, "channel": row.channel,
                         "type": row.type, "task_path": row.task_path}
                        for (t, ns, cid, _, _), row in rows
                    ],
                    [row.value for _, row in rows],
                )
        sql = _statement(
            bool(self.snapshots),
            bool(self.deltas),
            bool(self.checkpoints),
            bool(replaced),
            bool(kept),
            shallow,
            expiry is not None,
        )
        return sql, params


def _part(params: Dict[str, Any], part: str, columns: List[Dict[str, Any]], blobs: List[bytes]) -> None:
    # Not ASCII-escaped: PostgreSQL reads UTF-8 JSON, and the text is shorter to send and parse.
    params[part] = json.dumps(columns, ensure_ascii=False, separators=(",", ":"))
    params[part + "_blobs"] = blobs
