"""Retention on the SQLite savers: pruning history, expiring idle threads, giving space back.

``keep_latest`` and ``delete`` are ``prune``'s two strategies (see ``BaseCheckpointSaver.prune``),
``ThreadExpiry`` is a saver's TTL, which the core consults on each read and write, and
``sweep_expired`` deletes the threads whose expiry has passed. ``give_back_pages`` and
``vacuum_file`` return freed pages to the file system. Operations in ``_core``'s style: they yield
queries and do no I/O; the savers run each thread's prune or sweep in one transaction.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple

from stategraph.checkpoint._blobs import snapshot_rows
from stategraph.checkpoint._rows import CheckpointRow, decode_checkpoint
from stategraph.checkpoint._saver import PruneStrategy
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.checkpoint.sqlite._core import (
    EXPIRY_TABLE,
    Operation,
    Query,
    SqliteCheckpointCore,
    blob_chains,
)
from stategraph.store._config import TTLConfig
from stategraph.store._sweeper import SweepsInTask

__all__ = [
    "AsyncSweeper",
    "ThreadExpiry",
    "expired_threads",
    "give_back_pages",
    "prune_thread",
    "sweep_expired",
    "thread_expiry",
    "vacuum_file",
]

_TTL_KEYS = ("default_ttl", "refresh_on_read", "sweep_interval_minutes", "omit_expired")

# The latest checkpoint of each namespace of a thread (the one get_tuple returns).
_SELECT_LATEST_PER_NAMESPACE = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata
FROM checkpoints AS c
WHERE thread_id = ?1 AND checkpoint_id = (
    SELECT max(checkpoint_id) FROM checkpoints
    WHERE thread_id = ?1 AND checkpoint_ns = c.checkpoint_ns
)
"""
# ?2 is a JSON object {checkpoint_ns: kept checkpoint_id}.
_DELETE_OLDER_CHECKPOINTS = """
DELETE FROM checkpoints WHERE thread_id = ?1 AND NOT EXISTS (
    SELECT 1 FROM json_each(?2) AS kept
    WHERE kept.key = checkpoints.checkpoint_ns AND kept.value = checkpoints.checkpoint_id
)
"""
_DELETE_OLDER_WRITES = """
DELETE FROM writes WHERE thread_id = ?1 AND NOT EXISTS (
    SELECT 1 FROM json_each(?2) AS kept
    WHERE kept.key = writes.checkpoint_ns AND kept.value = writes.checkpoint_id
)
"""
# ?2 is a JSON array of [checkpoint_ns, channel, version] rows to keep.
_DELETE_UNUSED_BLOBS = """
DELETE FROM checkpoint_blobs WHERE thread_id = ?1 AND NOT EXISTS (
    SELECT 1 FROM json_each(?2) AS kept
    WHERE json_extract(kept.value, '$[0]') = checkpoint_blobs.checkpoint_ns
      AND json_extract(kept.value, '$[1]') = checkpoint_blobs.channel
      AND json_extract(kept.value, '$[2]') = checkpoint_blobs.version
)
"""
_REWRITE_AS_SNAPSHOT = (
    "UPDATE checkpoint_blobs SET type = ?, blob = ?, base_version = NULL "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND version = ?"
)
_CLEAR_PARENTS = (
    "UPDATE checkpoints SET parent_checkpoint_id = NULL "
    "WHERE thread_id = ? AND parent_checkpoint_id IS NOT NULL"
)
_AUTO_VACUUM_INCREMENTAL = 2  # PRAGMA auto_vacuum's answer for INCREMENTAL


# -- prune -----------------------------------------------------------------------------------


def prune_thread(
    core: SqliteCheckpointCore, serde: SerializerProtocol, thread_id: str, strategy: PruneStrategy
) -> Operation[None]:
    """One thread's prune, to run in one "write" transaction."""
    if strategy == "delete":
        yield from core.delete_thread(thread_id)
    else:
        yield from keep_latest(core, serde, thread_id)


def keep_latest(
    core: SqliteCheckpointCore, serde: SerializerProtocol, thread_id: str
) -> Operation[None]:
    """Delete all but the latest checkpoint of each namespace, with what only they used."""
    kept_checkpoints: dict[str, str] = {}
    kept_blobs: List[Tuple[str, str, str]] = []
    rewrites: List[Tuple[Any, ...]] = []
    for fields in (yield Query(_SELECT_LATEST_PER_NAMESPACE, (thread_id,))):
        row = CheckpointRow(*fields)
        checkpoint_ns = row.checkpoint_ns
        kept_checkpoints[checkpoint_ns] = row.checkpoint_id
        versions = decode_checkpoint(serde, row).get("channel_versions") or {}
        wanted = {channel: str(version) for channel, version in versions.items()}
        chains = yield from blob_chains(thread_id, checkpoint_ns, wanted, {})
        is_delta = {(blob.channel, blob.version) for blob in chains if blob.base_version}
        for blob in snapshot_rows(serde, versions, chains):
            kept_blobs.append((checkpoint_ns, blob.channel, blob.version))
            if (blob.channel, blob.version) in is_delta:
                rewrites.append(
                    (blob.type, blob.blob, thread_id, checkpoint_ns, blob.channel, blob.version)
                )
    # With no checkpoint kept, the statements below delete every value and write of the thread.
    kept_ids = json.dumps(kept_checkpoints)
    yield Query(_DELETE_OLDER_CHECKPOINTS, (thread_id, kept_ids), returns_rows=False)
    yield Query(_DELETE_OLDER_WRITES, (thread_id, kept_ids), returns_rows=False)
    yield Query(_DELETE_UNUSED_BLOBS, (thread_id, json.dumps(kept_blobs)), returns_rows=False)
    if rewrites:
        yield Query(_REWRITE_AS_SNAPSHOT, rewrites, returns_rows=False, many=True)
    yield Query(_CLEAR_PARENTS, (thread_id,), returns_rows=False)
    core.values.drop_thread(thread_id)


# -- expiry ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThreadExpiry:
    """A saver's TTL: each thread expires ``ttl_seconds`` after its last write (or read)."""

    ttl_seconds: float
    refresh_on_read: bool
    clock: Callable[[], float]

    def has_expired(self, thread_id: str) -> Operation[bool]:
        rows = yield Query(
            f"SELECT 1 FROM {EXPIRY_TABLE} WHERE thread_id = ? AND expires_at <= ?",
            (thread_id, self.clock()),
        )
        return bool(rows)

    def extend(self, thread_ids: Iterable[str]) -> Operation[None]:
        expires_at = self.clock() + self.ttl_seconds
        params = [(thread_id, expires_at) for thread_id in thread_ids]
        if params:
            yield Query(
                f"INSERT OR REPLACE INTO {EXPIRY_TABLE} (thread_id, expires_at) VALUES (?, ?)",
                params,
                returns_rows=False,
                many=True,
            )

    def live_condition(self, thread_column: str) -> Tuple[str, float]:
        """A SQL condition true for rows of threads not expired, and its parameter."""
        return (
            f"NOT EXISTS (SELECT 1 FROM {EXPIRY_TABLE} AS e "
            f"WHERE e.thread_id = {thread_column} AND e.expires_at <= ?)",
            self.clock(),
        )


def thread_expiry(
    ttl: Optional[TTLConfig], clock: Callable[[], float] = time.time
) -> Optional[ThreadExpiry]:
    """The expiry ``ttl=`` asks for (None without a ``default_ttl``); bad settings raise."""
    if ttl is None:
        return None
    if not isinstance(ttl, Mapping):
        raise TypeError(
            f"ttl must be a dict such as {{'default_ttl': 60}} (minutes), got {type(ttl).__name__}."
        )
    unknown = sorted(set(ttl) - set(_TTL_KEYS))
    if unknown:
        raise ValueError(
            f"Unknown ttl setting(s) {', '.join(map(repr, unknown))}. A checkpointer's ttl "
            f"takes {', '.join(map(repr, _TTL_KEYS))}."
        )
    minutes = ttl.get("default_ttl")
    for key in ("default_ttl", "sweep_interval_minutes"):
        value = ttl.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ValueError(
                f"ttl[{key!r}] must be a positive number of minutes (or None), got {value!r}."
            )
    if minutes is None:
        return None
    return ThreadExpiry(60.0 * minutes, bool(ttl.get("refresh_on_read", True)), clock)


def expired_threads(now: float) -> Operation[List[str]]:
    rows = yield Query(
        f"SELECT thread_id FROM {EXPIRY_TABLE} WHERE expires_at <= ? ORDER BY thread_id", (now,)
    )
    return [thread_id for (thread_id,) in rows]


def sweep_expired(core: SqliteCheckpointCore, thread_id: str, now: float) -> Operation[bool]:
    """Delete the thread if it is still expired at ``now`` (a write may have renewed it since
    ``expired_threads`` listed it); True if it was deleted."""
    rows = yield Query(
        f"SELECT 1 FROM {EXPIRY_TABLE} WHERE thread_id = ? AND expires_at <= ?", (thread_id, now)
    )
    if not rows:
        return False
    yield from core.delete_thread(thread_id)
    return True


class AsyncSweeper(SweepsInTask):
    """The background sweeper of ``AsyncSqliteSaver``, whose ``sweep_ttl`` is its sync bridge:
    this calls the saver's ``asweep_ttl`` instead."""

    def __init__(self, ttl_config: Optional[TTLConfig], sweep: Callable[[], Any]) -> None:
        self.ttl_config = ttl_config
        self._sweep = sweep

    async def sweep_ttl(self) -> int:
        return int(await self._sweep())


# -- space -----------------------------------------------------------------------------------


def give_back_pages() -> Operation[None]:
    """Return space to the file system after a large delete (outside any transaction): the
    free pages of a database in incremental auto-vacuum mode, and the WAL."""
    ((mode,),) = yield Query("PRAGMA auto_vacuum")
    if mode == _AUTO_VACUUM_INCREMENTAL:
        yield Query("PRAGMA incremental_vacuum", script=True)
    # The file shrinks only once the WAL is copied back into it, and the WAL, which now holds
    # every page the delete touched, would stay that large: TRUNCATE empties it. It waits (up
    # to the busy timeout) for other connections' readers; if they outlast it, it copies what
    # it can. A database in another journal mode answers without doing anything.
    yield Query("PRAGMA wal_checkpoint(TRUNCATE)")


def vacuum_file() -> Operation[None]:
    """Rebuild the file without free pages, in incremental auto-vacuum mode from then on (so a
    database made before stategraph set it up gets it), and empty the WAL."""
    yield Query("PRAGMA auto_vacuum=INCREMENTAL", returns_rows=False)
    yield Query("VACUUM", script=True)
    yield Query("PRAGMA wal_checkpoint(TRUNCATE)")
