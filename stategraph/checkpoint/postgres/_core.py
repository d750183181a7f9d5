"""The SQL of the PostgreSQL savers, written once as operations that yield queries.

Operations in ``_driver``'s style: generators that yield ``Query`` objects, are sent back the
rows of those that fetch, and do no I/O; the sync and async savers drive the same ones. Every
value, metadata-filter keys and values included, is a bound parameter.

Reading a checkpoint is one statement: the row, the blob rows of the channel versions it
names that the saver's value cache does not hold (with their delta chains), and its pending
writes. Writing a step is one pipelined transaction that fetches nothing, so it costs one round
trip: the value rows, the checkpoint row and the task writes. A delta row is stored only if the
row it extends is still there; when it is not (the thread was deleted or pruned meanwhile), the
insert fails the transaction with ``MISSING_BASE_SQLSTATE`` and the saver stores the step again
with full values (see ``StepPlan.retry_with_snapshots``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from stategraph.checkpoint._blobs import (
    BlobRow,
    ChannelValueCache,
    StoredValue,
    assemble_values,
    plan_blob_writes,
)
from stategraph.checkpoint._ids import get_checkpoint_id
from stategraph.checkpoint._rows import (
    CheckpointRow,
    WriteRow,
    checkpoint_config,
    decode_checkpoint,
    decode_pending_writes,
    encode_checkpoint_row,
    encode_write_rows,
    thread_address,
    to_checkpoint_tuple,
)
from stategraph.checkpoint._types import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    RunnableConfig,
    TaskWrites,
)
from stategraph.checkpoint.postgres._compress import pack, unpack
from stategraph.checkpoint.postgres._driver import Operation, Query, Transaction
from stategraph.checkpoint.postgres._expiry import EXPIRY_TABLE, ThreadExpiry
from stategraph.checkpoint.postgres._legacy_sends import attach_pending_sends, needs_pending_sends
from stategraph.checkpoint.postgres._step_sql import StepRows
from stategraph.checkpoint.serde.base import SerializerProtocol

__all__ = [
    "THREAD_LOCK",
    "THREAD_TABLES",
    "PostgresCheckpointCore",
    "StepCommit",
    "blob_chains",
    "decode_stored_checkpoint",
]

CHECKPOINTS = "stategraph_checkpoints"
BLOBS = "stategraph_checkpoint_blobs"
WRITES = "stategraph_checkpoint_writes"
THREAD_TABLES = (CHECKPOINTS, BLOBS, WRITES)
# A thread's writes take it shared and a prune exclusive ({mode} is "" or "_shared"), so a
# prune never mistakes the rows of a step committed meanwhile for old ones.
THREAD_LOCK = "SELECT pg_advisory_xact_lock{mode}(hashtextextended(%s, 0))"

_ROW_COLUMNS = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
    "metadata::text"
)
# {where} narrows the checkpoints to the one wanted (latest first). "known" are the
# (channel, version) values the caller holds: a chain stops there, and a version it holds
# is not fetched at all. Aggregates over one row set keep their inputs in step.
_LOAD = f"""
WITH RECURSIVE cp AS (
    SELECT {_ROW_COLUMNS}, channel_versions FROM {CHECKPOINTS}
    WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(checkpoint_ns)s {{where}}
    ORDER BY checkpoint_id DESC LIMIT 1
), known AS (
    SELECT * FROM unnest(%(known_channels)b::text[], %(known_versions)b::text[])
        AS k(channel, version)
), chain AS (
    SELECT b.channel, b.version, b.type, b.blob, b.base_version
    FROM cp CROSS JOIN LATERAL json_each_text(cp.channel_versions) AS w(channel, version)
    JOIN {BLOBS} AS b
      ON b.thread_id = cp.thread_id AND b.checkpoint_ns = cp.checkpoint_ns
     AND b.channel = w.channel AND b.version = w.version
    WHERE NOT EXISTS (
        SELECT 1 FROM known WHERE known.channel = w.channel AND known.version = w.version
    )
    UNION ALL
    SELECT b.channel, b.version, b.type, b.blob, b.base_version
    FROM chain JOIN {BLOBS} AS b
      ON b.thread_id = %(thread_id)s AND b.checkpoint_ns = %(checkpoint_ns)s
     AND b.channel = chain.channel AND b.version = chain.base_version
    WHERE NOT EXISTS (
        SELECT 1 FROM known
        WHERE known.channel = chain.channel AND known.version = chain.base_version
    )
)
SELECT cp.thread_id, cp.checkpoint_ns, cp.checkpoint_id, cp.parent_checkpoint_id, cp.type,
       cp.checkpoint, cp.metadata, cp.channel_versions::text,
       bl.channels, bl.versions, bl.types, bl.blobs, bl.bases,
       wr.task_ids, wr.channels, wr.types, wr.blobs
FROM cp
CROSS JOIN LATERAL (
    SELECT array_agg(channel) AS channels, array_agg(version) AS versions,
           array_agg(type) AS types, array_agg(blob) AS blobs,
           array_agg(base_version) AS bases
    FROM chain
) AS bl
CROSS JOIN LATERAL (
    SELECT array_agg(task_id ORDER BY task_path, task_id, idx) AS task_ids,
           array_agg(channel ORDER BY task_path, task_id, idx) AS channels,
           array_agg(type ORDER BY task_path, task_id, idx) AS types,
           array_agg(blob ORDER BY task_path, task_id, idx) AS blobs
    FROM {WRITES} AS w
    WHERE w.thread_id = cp.thread_id AND w.checkpoint_ns = cp.checkpoint_ns
      AND w.checkpoint_id = cp.checkpoint_id
) AS wr
"""
# The rows of wanted (channel -> version, a JSON object) with their delta chains.
_SELECT_BLOB_CHAINS = f"""
WITH RECURSIVE chain AS (
    SELECT b.channel, b.version, b.type, b.blob, b.base_version
    FROM json_each_text(%(wanted)s::json) AS w(channel, version)
    JOIN {BLOBS} AS b
      ON b.thread_id = %(thread_id)s AND b.checkpoint_ns = %(checkpoint_ns)s
     AND b.channel = w.channel AND b.version = w.version
    UNION ALL
    SELECT b.channel, b.version, b.type, b.blob, b.base_version
    FROM chain JOIN {BLOBS} AS b
      ON b.thread_id = %(thread_id)s AND b.checkpoint_ns = %(checkpoint_ns)s
     AND b.channel = chain.channel AND b.version = chain.base_version
)
SELECT channel, version, type, blob, base_version FROM chain
"""
_COPY_THREAD = {
    CHECKPOINTS: "checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
    "channel_versions, metadata",
    BLOBS: "checkpoint_ns, channel, version, type, blob, base_version",
    WRITES: "checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path",
}


@dataclass(frozen=True, slots=True)
class StepCommit:
    """What a put returns; ``remember`` is applied to the value cache once committed."""

    config: RunnableConfig
    thread_id: str
    checkpoint_ns: str
    remember: Dict[str, Optional[StoredValue]]


class PostgresCheckpointCore:
    """Operations of the PostgreSQL savers; holds the value cache they share and their TTL.

    ``shallow`` keeps only the latest checkpoint of each namespace (``ShallowPostgresSaver``):
    values are then always stored whole, since the rows a delta would extend are deleted.
    """

    def __init__(
        self, cached_threads: int, expiry: Optional[ThreadExpiry] = None, shallow: bool = False
    ) -> None:
        self.values = ChannelValueCache(cached_threads)
        self.expiry = expiry
        self.shallow = shallow
        # A read that pushes the thread's expiry back also writes.
        self.read_transaction: Transaction = (
            "serial" if expiry is not None and expiry.refresh_on_read else "none"
        )

    # -- reading ---------------------------------------------------------------------------

    def get_tuple(
        self, serde: SerializerProtocol, config: RunnableConfig
    ) -> Operation[Optional[CheckpointTuple]]:
        thread_id, checkpoint_ns = thread_address(config)
        checkpoint_id = None if self.shallow else get_checkpoint_id(config)
        found = yield from self._load(
            serde, thread_id, checkpoint_ns, checkpoint_id, {}, remember=True
        )
        if found is None:
            return None
        if self.expiry is not None and self.expiry.refresh_on_read:
            yield from self.expiry.extend([thread_id])
        if checkpoint_id is not None:
            return found._replace(config=config)
        return found

    def load_tuple(
        self, serde: SerializerProtocol, row: CheckpointRow, memo: Dict[Any, StoredValue]
    ) -> Operation[Optional[CheckpointTuple]]:
        """The full tuple of a row ``list_rows`` returned (None if deleted since)."""
        return (
            yield from self._load(
                serde, row.thread_id, row.checkpoint_ns, row.checkpoint_id, memo, remember=False
            )
        )

    def _load(
        self,
        serde: SerializerProtocol,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: Optional[str],
        memo: Dict[Any, StoredValue],
        *,
        remember: bool,
    ) -> Operation[Optional[CheckpointTuple]]:
        cached = self.values.channels(thread_id, checkpoint_ns)
        known = [(channel, value.version) for channel, value in cached.items()]
        known.extend(memo)
        params: Dict[str, Any] = {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "known_channels": [channel for channel, _ in known],
            "known_versions": [version for _, version in known],
        }
        where = ""
        if checkpoint_id is not None:
            where += "AND checkpoint_id = %(checkpoint_id)s "
            params["checkpoint_id"] = checkpoint_id
        if self.expiry is not None:
            where += "AND " + self.expiry.live_condition("thread_id", params)
        rows = yield Query(_load_statement(where), params, fetch=True)
        if not rows:
            return None
        fields = rows[0]
        row = CheckpointRow(*fields[:7])
        stored = decode_stored_checkpoint(serde, row, fields[7])
        versions = stored.get("channel_versions") or {}
        blob_rows = (
            [
                BlobRow(channel, version, *unpack(type_, blob), base)
                for channel, version, type_, blob, base in zip(*fields[8:13])
            ]
            if fields[8]
            else []
        )
        values, decoded = assemble_values(serde, versions, blob_rows, cached, memo)
        if needs_pending_sends(stored, row):
            yield from attach_pending_sends(serde, row, stored, values)
        if remember:
            self.values.update(thread_id, checkpoint_ns, decoded)
        writes = (
            [
                (task_id, channel, *unpack(type_, blob))
                for task_id, channel, type_, blob in zip(*fields[13:17])
            ]
            if fields[13]
            else []
        )
        return to_checkpoint_tuple(row, stored, values, decode_pending_writes(serde, writes))

    def list_rows(
        self,
        config: Optional[RunnableConfig],
        filter: Optional[Mapping[str, Any]],
        before: Optional[RunnableConfig],
        limit: Optional[int],
    ) -> Operation[List[CheckpointRow]]:
        """Checkpoint rows (without values) matching a ``list`` call, newest first."""
        configurable = (config or {}).get("configurable") or {}
        conditions: List[str] = []
        params: Dict[str, Any] = {}
        if self.expiry is not None:
            conditions.append(self.expiry.live_condition(f"{CHECKPOINTS}.thread_id", params))
        if configurable.get("thread_id") is not None:
            conditions.append("thread_id = %(thread_id)s")
            params["thread_id"] = str(configurable["thread_id"])
        if configurable.get("checkpoint_ns") is not None:
            conditions.append("checkpoint_ns = %(checkpoint_ns)s")
            params["checkpoint_ns"] = configurable["checkpoint_ns"]
        if config is not None and (wanted_id := get_checkpoint_id(config)):
            conditions.append("checkpoint_id = %(checkpoint_id)s")
            params["checkpoint_id"] = wanted_id
        if before is not None and (before_id := get_checkpoint_id(before)):
            conditions.append("checkpoint_id < %(before)s")
            params["before"] = before_id
        for position, (key, value) in enumerate((filter or {}).items()):
            try:
                wanted = json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                return []  # stored metadata is JSON: nothing can equal this value
            # jsonb equality is the one metadata_matches applies: 1 = 1.0, true <> 1.
            conditions.append(f"metadata -> %(key{position})s = %(value{position})s::jsonb")
            params[f"key{position}"] = str(key)
            params[f"value{position}"] = wanted
        sql = f"SELECT {_ROW_COLUMNS} FROM {CHECKPOINTS}"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY checkpoint_id DESC"
        if limit is not None:
            sql += " LIMIT %(limit)s"
            params["limit"] = max(int(limit), 0)
        rows = [CheckpointRow(*fields) for fields in (yield Query(sql, params, fetch=True))]
        if self.expiry is not None and self.expiry.refresh_on_read:
            yield from self.expiry.extend({row.thread_id for row in rows})
        return rows

    # -- writing ---------------------------------------------------------------------------

    def put_batch(
        self,
        serde: SerializerProtocol,
        calls: Sequence[Tuple[Any, ...]],
        *,
        snapshots_only: bool = False,
    ) -> Operation[List[StepCommit]]:
        """Store saver calls in one statement (one transaction, one round trip), in order.

        Each call is ``("put", config, checkpoint, metadata, new_versions)``, ``("step", config,
        checkpoint, metadata, new_versions, task_writes)`` or ``("writes", config, writes,
        task_id, task_path)``, as the engine queues them; they may be of several threads.
        Returns what each put committed (for ``committed``), in order.
        """
        rows = StepRows()
        commits: List[StepCommit] = []
        # What the cache will hold once the earlier steps of this batch are committed.
        pending: Dict[Tuple[str, str], Dict[str, StoredValue]] = {}
        for call in calls:
            if call[0] == "writes":
                _, config, writes, task_id, task_path = call
                thread_id, checkpoint_ns = thread_address(config)
                checkpoint_id = _writes_checkpoint_id(config)
                encoded_rows = encode_write_rows(serde, writes, task_id, task_path)
                rows.add_writes(thread_id, checkpoint_ns, checkpoint_id, [_packed(r) for r in encoded_rows])
                continue
            config, checkpoint, metadata, new_versions = call[1:5]
            task_writes: Sequence[TaskWrites] = call[5] if call[0] == "step" else ()
            commits.append(
                self._add_step(
                    serde, rows, pending, config, checkpoint, metadata, new_versions,
                    task_writes, snapshots_only,
                )
            )  # fmt: skip
        sql, params = rows.statement(shallow=self.shallow, expiry=self._expiry_times())
        # fetch: in a caller's pipeline, waiting for the row is what surfaces a failure here.
        yield Query(sql, params, fetch=True)
        return commits

    def _add_step(
        self,
        serde: SerializerProtocol,
        rows: StepRows,
        pending: Dict[Tuple[str, str], Dict[str, StoredValue]],
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        task_writes: Sequence[TaskWrites],
        snapshots_only: bool,
    ) -> StepCommit:
        # channel_versions is stored once, in its own column (SQL follows it to the values).
        row = encode_checkpoint_row(serde, config, checkpoint, metadata, keep_versions=False)
        stored_type, stored_checkpoint = pack(row.type, row.checkpoint)
        row = row._replace(type=stored_type, checkpoint=stored_checkpoint)
        thread_id, checkpoint_ns = row.thread_id, row.checkpoint_ns
        encoded: Dict[int, Tuple[str, bytes]] = {}
        for task in task_writes:
            task_rows = encode_write_rows(serde, task.writes, task.task_id, task.task_path, encoded)
            rows.add_writes(
                thread_id,
                checkpoint_ns,
                task.checkpoint_id or row.checkpoint_id,
                [_packed(r) for r in task_rows],
            )
        key = (thread_id, checkpoint_ns)
        known = pending.get(key)
        if known is None:
            known = pending[key] = dict(self.values.channels(thread_id, checkpoint_ns))
        extends = not (snapshots_only or self.shallow)
        plan = plan_blob_writes(
            serde, known if extends else {}, checkpoint["channel_values"], new_versions, encoded
        )
        remember: Dict[str, Optional[StoredValue]] = {}
        for write in plan:
            blob = write.row
            remember[blob.channel] = write.stored
            stored_type, stored_bytes = pack(blob.type, blob.blob)
            if blob.base_version is None:
                rows.add_snapshot(
                    thread_id, checkpoint_ns, blob.channel, blob.version, stored_type, stored_bytes
                )
            else:
                rows.add_delta(
                    thread_id, checkpoint_ns, blob.channel, blob.version, stored_type,
                    stored_bytes, blob.base_version,
                )  # fmt: skip
            if write.stored is None:
                known.pop(blob.channel, None)
            else:
                known[blob.channel] = write.stored
        versions = json.dumps(
            {channel: str(version) for channel, version in checkpoint["channel_versions"].items()}
        )
        rows.add_checkpoint(row, versions)
        return StepCommit(
            checkpoint_config(thread_id, checkpoint_ns, row.checkpoint_id),
            thread_id,
            checkpoint_ns,
            remember,
        )

    def committed(self, commit: StepCommit) -> RunnableConfig:
        """Call once a put's transaction is committed: its values become cache entries."""
        self.values.update(commit.thread_id, commit.checkpoint_ns, commit.remember)
        return commit.config

    def delete_thread(self, thread_id: str) -> Operation[None]:
        for table in (*THREAD_TABLES, EXPIRY_TABLE):
            yield Query(f"DELETE FROM {table} WHERE thread_id = %s", (thread_id,))
        self.values.drop_thread(thread_id)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> Operation[None]:
        """Copy every checkpoint, value row and write of a thread under another id (rows the
        target already has under the same keys are kept)."""
        for table, columns in _COPY_THREAD.items():
            yield Query(
                f"INSERT INTO {table} (thread_id, {columns}) "
                f"SELECT %s, {columns} FROM {table} WHERE thread_id = %s ON CONFLICT DO NOTHING",
                (target_thread_id, source_thread_id),
            )
        if self.expiry is not None:
            yield from self.expiry.extend([target_thread_id])

    def _expiry_times(self) -> Optional[Tuple[float, float]]:
        """(now, the new expiry) for a write, when the saver has a TTL."""
        if self.expiry is None:
            return None
        now = self.expiry.clock()
        return now, now + self.expiry.ttl_seconds


@lru_cache(maxsize=16)
def _load_statement(where: str) -> str:
    # Compact: psycopg caches the parsing of statements up to 4 KiB only.
    return " ".join(_LOAD.format(where=where).split())


def blob_chains(
    thread_id: str, checkpoint_ns: str, wanted: Mapping[str, str]
) -> Operation[List[BlobRow]]:
    """The rows of ``wanted`` (channel -> version) with their whole delta chains."""
    fetched = yield Query(
        _SELECT_BLOB_CHAINS,
        {"wanted": json.dumps(wanted), "thread_id": thread_id, "checkpoint_ns": checkpoint_ns},
        fetch=True,
    )
    return [
        BlobRow(channel, version, *unpack(type_, blob), base)
        for channel, version, type_, blob, base in fetched
    ]


def decode_stored_checkpoint(
    serde: SerializerProtocol, row: CheckpointRow, versions_text: Optional[str]
) -> Dict[str, Any]:
    """The checkpoint fields of a row, ``channel_versions`` back in from its column."""
    type_, data = unpack(row.type, row.checkpoint)
    stored = decode_checkpoint(serde, row._replace(type=type_, checkpoint=data))
    if "channel_versions" not in stored and versions_text is not None:
        stored["channel_versions"] = json.loads(versions_text)
    return stored


def _writes_checkpoint_id(config: RunnableConfig) -> str:
    checkpoint_id = get_checkpoint_id(config)
    if checkpoint_id is None:
        raise ValueError(
            "put_writes needs config['configurable']['checkpoint_id']: writes belong to the "
            "checkpoint their task ran from. Pass the config returned by put()."
        )
    return checkpoint_id


def _packed(row: WriteRow) -> WriteRow:
    stored_type, stored_bytes = pack(row.type, row.value)
    return row._replace(type=stored_type, value=stored_bytes)

