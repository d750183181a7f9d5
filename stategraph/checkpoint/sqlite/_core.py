"""The SQL of both SQLite savers, written once as operations that yield queries.

Each operation is a generator: it yields ``Query`` objects and is sent back their rows (or,
for statements that return none, the number of rows changed), then returns its result. It does
no I/O itself; ``run_sync`` (in the package's ``__init__``) drives it on a ``sqlite3``
connection and ``aio.run_async`` on an ``aiosqlite`` one, each inside one transaction. Every value, metadata-filter keys
included, is passed as a parameter. The schema is in ``_schema``; pruning, expiry and vacuuming
in ``_retention``, whose ``ThreadExpiry`` the core consults on each read and write when the saver
has a TTL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Generator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from stategraph._filter_keys import validate_filter_key
from stategraph.checkpoint._blobs import (
    BlobRow,
    ChannelValueCache,
    StoredValue,
    assemble_values,
    missing_versions,
    plan_blob_writes,
)
from stategraph.checkpoint._ids import get_checkpoint_id
from stategraph.checkpoint._metadata import decode_metadata, metadata_matches
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
from stategraph.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    from stategraph.checkpoint.sqlite._retention import ThreadExpiry

__all__ = [
    "EXPIRY_TABLE",
    "Operation",
    "Query",
    "SqliteCheckpointCore",
    "StepCommit",
    "Transaction",
    "blob_chains",
]

T = TypeVar("T")
Transaction = Literal["none", "read", "write"]

EXPIRY_TABLE = "checkpoint_thread_ttl"  # thread_id -> expires_at (see _schema)


@dataclass(frozen=True, slots=True)
class Query:
    sql: str
    params: Sequence[Any] = ()
    returns_rows: bool = True
    many: bool = False  # params is a sequence of parameter tuples
    # Run to completion as a script, outside any transaction: ``PRAGMA incremental_vacuum``
    # frees one page per step, and a cursor steps a statement without result columns once.
    script: bool = False


Operation = Generator[Query, Any, T]


@dataclass(frozen=True, slots=True)
class StepCommit:
    """What a put returns; ``remember`` is applied to the value cache once committed."""

    config: RunnableConfig
    thread_id: str
    checkpoint_ns: str
    remember: Dict[str, Optional[StoredValue]]


_CHECKPOINT_COLUMNS = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata"
)
_SELECT_LATEST = (
    f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
    "ORDER BY checkpoint_id DESC LIMIT 1"
)
_SELECT_BY_ID = (
    f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
)
_SELECT_WRITES = (
    "SELECT task_id, channel, type, value FROM writes "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? ORDER BY task_path, task_id, idx"
)
# Each wanted (channel, version) row and its delta chain down to a snapshot, or to a version
# the caller already holds (?4). json_each turns the JSON objects into (key, value) rows;
# CROSS JOIN keeps it the outer loop, so each wanted row is one primary-key lookup.
_SELECT_BLOB_CHAINS = """
WITH RECURSIVE chain(channel, version, type, blob, base_version, depth) AS (
    SELECT b.channel, b.version, b.type, b.blob, b.base_version, 0
    FROM json_each(?1) AS wanted
    CROSS JOIN checkpoint_blobs AS b
      ON b.thread_id = ?2 AND b.checkpoint_ns = ?3
     AND b.channel = wanted.key AND b.version = wanted.value
    UNION ALL
    SELECT b.channel, b.version, b.type, b.blob, b.base_version, chain.depth + 1
    FROM chain
    JOIN checkpoint_blobs AS b
      ON b.thread_id = ?2 AND b.checkpoint_ns = ?3
     AND b.channel = chain.channel AND b.version = chain.base_version
    WHERE chain.depth < 1000000
      AND NOT EXISTS (
          SELECT 1 FROM json_each(?4) AS known
          WHERE known.key = chain.channel AND known.value = chain.base_version
      )
)
SELECT channel, version, type, blob, base_version FROM chain
"""
# A delta is stored only if its base row is there (another process may have deleted the thread).
_INSERT_DELTA = """
INSERT OR IGNORE INTO checkpoint_blobs
    (thread_id, checkpoint_ns, channel, version, type, blob, base_version)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
WHERE EXISTS (
    SELECT 1 FROM checkpoint_blobs
    WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND channel = ?3 AND version = ?7
)
"""
_UPSERT_BLOB = (
    "INSERT OR REPLACE INTO checkpoint_blobs "
    "(thread_id, checkpoint_ns, channel, version, type, blob, base_version) "
    "VALUES (?, ?, ?, ?, ?, ?, NULL)"
)
_UPSERT_CHECKPOINT = (
    f"INSERT OR REPLACE INTO checkpoints ({_CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_WRITE_COLUMNS = (
    "thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value, task_path"
)
_REPLACE_WRITE = (
    f"INSERT OR REPLACE INTO writes ({_WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_KEEP_WRITE = f"INSERT OR IGNORE INTO writes ({_WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

# How a metadata filter value is matched at its JSON path (each "?" of a path is the path).
_TYPE_OF = "json_type(checkpoints.metadata, ?)"
_VALUE_OF = "json_extract(checkpoints.metadata, ?)"
_JSON_TYPE_MATCH = {
    type(None): f"{_TYPE_OF} = 'null'",
    bool: f"{_TYPE_OF} = ?",
    int: f"{_TYPE_OF} IN ('integer', 'real') AND {_VALUE_OF} = ?",
    float: f"{_TYPE_OF} IN ('integer', 'real') AND {_VALUE_OF} = ?",
    str: f"{_TYPE_OF} = 'text' AND {_VALUE_OF} = ?",
}
def _json_path(key: str) -> str:
    """The JSON path of a metadata filter key: dots go down into nested objects, as in
    LangGraph's SQLite saver; each label is quoted, so hyphens and leading digits are fine."""
    validate_filter_key(key)
    return "$" + "".join(f'."{label}"' for label in key.split("."))


class SqliteCheckpointCore:
    """Operations of the SQLite savers; holds the value cache they share and their TTL."""

    def __init__(self, cached_threads: int, expiry: Optional[ThreadExpiry] = None) -> None:
        self.values = ChannelValueCache(cached_threads)
        self.expiry = expiry
        # Reads that push a thread's expiry back write: they take the write lock up front.
        self.read_transaction: Transaction = (
            "write" if expiry is not None and expiry.refresh_on_read else "read"
        )

    # -- reading ---------------------------------------------------------------------------

    def get_tuple(
        self, serde: SerializerProtocol, config: RunnableConfig
    ) -> Operation[Optional[CheckpointTuple]]:
        thread_id, checkpoint_ns = thread_address(config)
        checkpoint_id = get_checkpoint_id(config)
        expiry = self.expiry
        if expiry is not None and (yield from expiry.has_expired(thread_id)):
            return None
        if checkpoint_id is None:
            rows = yield Query(_SELECT_LATEST, (thread_id, checkpoint_ns))
        else:
            rows = yield Query(_SELECT_BY_ID, (thread_id, checkpoint_ns, checkpoint_id))
        if not rows:
            return None
        if expiry is not None and expiry.refresh_on_read:
            yield from expiry.extend([thread_id])
        return (
            yield from self.load_tuple(
                serde, CheckpointRow(*rows[0]), {}, remember=True,
                config=config if checkpoint_id else None,
            )
        )  # fmt: skip

    def load_tuple(
        self,
        serde: SerializerProtocol,
        row: CheckpointRow,
        memo: Dict[Any, StoredValue],
        *,
        remember: bool = False,
        config: Optional[RunnableConfig] = None,
    ) -> Operation[CheckpointTuple]:
        """The full tuple of a checkpoint row: its channel values and pending writes."""
        thread_id, checkpoint_ns = row.thread_id, row.checkpoint_ns
        stored = decode_checkpoint(serde, row)
        versions = stored.get("channel_versions") or {}
        cached = self.values.channels(thread_id, checkpoint_ns)
        missing = missing_versions(versions, cached, memo)
        blob_rows: List[BlobRow] = []
        if missing:
            known = {channel: value.version for channel, value in cached.items()}
            blob_rows = yield from blob_chains(thread_id, checkpoint_ns, missing, known)
        values, decoded = assemble_values(serde, versions, blob_rows, cached, memo)
        if remember:
            self.values.update(thread_id, checkpoint_ns, decoded)
        writes = yield Query(_SELECT_WRITES, (thread_id, checkpoint_ns, row.checkpoint_id))
        return to_checkpoint_tuple(
            row, stored, values, decode_pending_writes(serde, writes), config
        )

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
        params: List[Any] = []
        if self.expiry is not None:
            condition, now = self.expiry.live_condition("checkpoints.thread_id")
            conditions.append(condition)
            params.append(now)
        if configurable.get("thread_id") is not None:
            conditions.append("thread_id = ?")
            params.append(str(configurable["thread_id"]))
        if configurable.get("checkpoint_ns") is not None:
            conditions.append("checkpoint_ns = ?")
            params.append(configurable["checkpoint_ns"])
        if config is not None and (wanted_id := get_checkpoint_id(config)):
            conditions.append("checkpoint_id = ?")
            params.append(wanted_id)
        if before is not None and (before_id := get_checkpoint_id(before)):
            conditions.append("checkpoint_id < ?")
            params.append(before_id)
        needs_python_check = False
        for key, value in (filter or {}).items():
            path = _json_path(key)
            match = _JSON_TYPE_MATCH.get(type(value))
            if match is None:  # lists, dicts: narrowed here, compared exactly below
                match = f"{_TYPE_OF} IN ('array', 'object')"
                needs_python_check = True
            conditions.append(match)
            params.extend([path] * match.count("checkpoints.metadata"))
            if isinstance(value, bool):
                params.append("true" if value else "false")
            elif value is not None and type(value) in _JSON_TYPE_MATCH:
                params.append(value)
        sql = f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY checkpoint_id DESC"
        if limit is not None and not needs_python_check:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = [CheckpointRow(*fields) for fields in (yield Query(sql, params))]
        if needs_python_check and filter:
            rows = [row for row in rows if metadata_matches(decode_metadata(row.metadata), filter, dotted=True)]
            if limit is not None:
                rows = rows[: max(limit, 0)]
        if self.expiry is not None and self.expiry.refresh_on_read:
            yield from self.expiry.extend({row.thread_id for row in rows})
        return rows

    # -- writing ---------------------------------------------------------------------------

    def put_step(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> Operation[StepCommit]:
        row = encode_checkpoint_row(serde, config, checkpoint, metadata)
        thread_id, checkpoint_ns = row.thread_id, row.checkpoint_ns
        encoded: Dict[int, Tuple[str, bytes]] = {}
        task_rows = [
            (
                task.checkpoint_id or row.checkpoint_id,
                encode_write_rows(serde, task.writes, task.task_id, task.task_path, encoded),
            )
            for task in writes
        ]
        plan = plan_blob_writes(
            serde,
            self.values.channels(thread_id, checkpoint_ns),
            checkpoint["channel_values"],
            new_versions,
            encoded,
        )
        yield from self._renew_on_write(thread_id)
        remember: Dict[str, Optional[StoredValue]] = {}
        snapshots: List[Tuple[Any, ...]] = []
        for write in plan:
            blob = write.row
            if blob.base_version is not None and write.as_snapshot is not None:
                inserted = yield Query(
                    _INSERT_DELTA,
                    (
                        thread_id,
                        checkpoint_ns,
                        blob.channel,
                        blob.version,
                        blob.type,
                        blob.blob,
                        blob.base_version,
                    ),
                    returns_rows=False,
                )
                if inserted == 1:
                    remember[blob.channel] = write.stored
                    continue
                write = write.as_snapshot()
                blob = write.row
            snapshots.append(
                (thread_id, checkpoint_ns, blob.channel, blob.version, blob.type, blob.blob)
            )
            remember[blob.channel] = write.stored
        if snapshots:
            yield Query(_UPSERT_BLOB, snapshots, returns_rows=False, many=True)
        yield Query(
            _UPSERT_CHECKPOINT,
            (
                thread_id,
                checkpoint_ns,
                row.checkpoint_id,
                row.parent_checkpoint_id,
                row.type,
                row.checkpoint,
                row.metadata,
            ),
            returns_rows=False,
        )
        for checkpoint_id, rows in task_rows:
            yield from _store_writes(thread_id, checkpoint_ns, checkpoint_id, rows)
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

    def put_writes(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Operation[None]:
        thread_id, checkpoint_ns = thread_address(config)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id is None:
            raise ValueError(
                "put_writes needs config['configurable']['checkpoint_id']: writes belong to the "
                "checkpoint their task ran from. Pass the config returned by put()."
            )
        rows = encode_write_rows(serde, writes, task_id, task_path)
        yield from self._renew_on_write(thread_id)
        yield from _store_writes(thread_id, checkpoint_ns, checkpoint_id, rows)

    def delete_thread(self, thread_id: str) -> Operation[None]:
        for table in ("checkpoints", "checkpoint_blobs", "writes", EXPIRY_TABLE):
            yield Query(
                f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,), returns_rows=False
            )
        self.values.drop_thread(thread_id)

    def _renew_on_write(self, thread_id: str) -> Operation[None]:
        if self.expiry is None:
            return
        # An expired thread is gone even before the sweeper comes: a write starts it anew.
        if (yield from self.expiry.has_expired(thread_id)):
            yield from self.delete_thread(thread_id)
        yield from self.expiry.extend([thread_id])


def blob_chains(
    thread_id: str, checkpoint_ns: str, wanted: Mapping[str, str], known: Mapping[str, str]
) -> Operation[List[BlobRow]]:
    """The rows of ``wanted`` (channel -> version) with their delta chains, each down to a
    snapshot or to the version ``known`` names for its channel."""
    fetched = yield Query(
        _SELECT_BLOB_CHAINS, (json.dumps(wanted), thread_id, checkpoint_ns, json.dumps(known))
    )
    return [BlobRow(*fields) for fields in fetched]


def _store_writes(
    thread_id: str, checkpoint_ns: str, checkpoint_id: str, rows: Sequence[WriteRow]
) -> Operation[None]:
    for replaces in (True, False):
        params = [
            (
                thread_id,
                checkpoint_ns,
                checkpoint_id,
                r.task_id,
                r.idx,
                r.channel,
                r.type,
                r.value,
                r.task_path,
            )
            for r in rows
            if r.replaces is replaces
        ]
        if params:
            yield Query(
                _REPLACE_WRITE if replaces else _KEEP_WRITE, params, returns_rows=False, many=True
            )

