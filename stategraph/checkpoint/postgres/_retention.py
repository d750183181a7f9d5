"""Retention on the PostgreSQL savers: pruning history and sweeping expired threads.

The semantics are ``BaseCheckpointSaver.prune``'s, as on SQLite: ``keep_latest`` keeps each
namespace's latest checkpoint with its pending writes and its values rewritten as full
snapshots, and deletes every other row of the thread. PostgreSQL gives the space of deleted
rows back to the tables for reuse on its own (autovacuum); ``vacuum_tables`` hands it to the
file system as well. Operations in ``_core``'s style, each to run in one transaction.
"""

from __future__ import annotations

from typing import Any, List, Tuple

from stategraph.checkpoint._blobs import snapshot_rows
from stategraph.checkpoint._rows import CheckpointRow
from stategraph.checkpoint._saver import PruneStrategy
from stategraph.checkpoint.postgres._core import (
    BLOBS,
    CHECKPOINTS,
    THREAD_LOCK,
    THREAD_TABLES,
    WRITES,
    PostgresCheckpointCore,
    blob_chains,
    decode_stored_checkpoint,
)
from stategraph.checkpoint.postgres._compress import pack
from stategraph.checkpoint.postgres._driver import Operation, Query
from stategraph.checkpoint.postgres._expiry import EXPIRY_TABLE
from stategraph.checkpoint.serde.base import SerializerProtocol

__all__ = ["prune_thread", "sweep_expired", "vacuum_tables"]

_SELECT_LATEST_PER_NAMESPACE = f"""
SELECT DISTINCT ON (checkpoint_ns)
       thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
       metadata::text, channel_versions::text
FROM {CHECKPOINTS} WHERE thread_id = %s
ORDER BY checkpoint_ns, checkpoint_id DESC
"""
_KEPT_CHECKPOINT = (
    "EXISTS (SELECT 1 FROM unnest(%s::text[], %s::text[]) AS kept(checkpoint_ns, checkpoint_id) "
    "WHERE kept.checkpoint_ns = t.checkpoint_ns AND kept.checkpoint_id = t.checkpoint_id)"
)
_DELETE_OLDER_CHECKPOINTS = (
    f"DELETE FROM {CHECKPOINTS} AS t WHERE thread_id = %s AND NOT {_KEPT_CHECKPOINT}"
)
_DELETE_OLDER_WRITES = f"DELETE FROM {WRITES} AS t WHERE thread_id = %s AND NOT {_KEPT_CHECKPOINT}"
_DELETE_UNUSED_BLOBS = f"""
DELETE FROM {BLOBS} AS t WHERE thread_id = %s AND NOT EXISTS (
    SELECT 1 FROM unnest(%s::text[], %s::text[], %s::text[]) AS kept(checkpoint_ns, channel, version)
    WHERE kept.checkpoint_ns = t.checkpoint_ns AND kept.channel = t.channel
      AND kept.version = t.version
)
"""
_REWRITE_AS_SNAPSHOT = (
    f"UPDATE {BLOBS} SET type = %s, blob = %s, base_version = NULL "
    "WHERE thread_id = %s AND checkpoint_ns = %s AND channel = %s AND version = %s"
)
_CLEAR_PARENTS = (
    f"UPDATE {CHECKPOINTS} SET parent_checkpoint_id = NULL "
    "WHERE thread_id = %s AND parent_checkpoint_id IS NOT NULL"
)
_TAKE_EXPIRED = f"DELETE FROM {EXPIRY_TABLE} WHERE expires_at <= %s RETURNING thread_id"


def prune_thread(
    core: PostgresCheckpointCore,
    serde: SerializerProtocol,
    thread_id: str,
    strategy: PruneStrategy,
) -> Operation[None]:
    """One thread's prune, to run in one "serial" transaction."""
    if strategy == "delete":
        yield from core.delete_thread(thread_id)
    else:
        yield from _keep_latest(core, serde, thread_id)


def _keep_latest(
    core: PostgresCheckpointCore, serde: SerializerProtocol, thread_id: str
) -> Operation[None]:
    kept_namespaces: List[str] = []
    kept_ids: List[str] = []
    kept_blobs: Tuple[List[str], List[str], List[str]] = ([], [], [])
    rewrites: List[Tuple[Any, ...]] = []
    # Steps of the thread hold this lock shared (see _core.THREAD_LOCK): none commits a new
    # checkpoint, whose rows the deletes below would take for old ones, until this one does.
    yield Query(THREAD_LOCK.format(mode=""), (thread_id,))
    latest = yield Query(_SELECT_LATEST_PER_NAMESPACE, (thread_id,), fetch=True)
    for fields in latest:
        row = CheckpointRow(*fields[:7])
        checkpoint_ns = row.checkpoint_ns
        kept_namespaces.append(checkpoint_ns)
        kept_ids.append(row.checkpoint_id)
        versions = decode_stored_checkpoint(serde, row, fields[7]).get("channel_versions") or {}
        wanted = {channel: str(version) for channel, version in versions.items()}
        chains = yield from blob_chains(thread_id, checkpoint_ns, wanted)
        is_delta = {(blob.channel, blob.version) for blob in chains if blob.base_version}
        for blob in snapshot_rows(serde, versions, chains):
            kept_blobs[0].append(checkpoint_ns)
            kept_blobs[1].append(blob.channel)
            kept_blobs[2].append(blob.version)
            if (blob.channel, blob.version) in is_delta:
                rewrites.append(
                    (*pack(blob.type, blob.blob), thread_id, checkpoint_ns, blob.channel, blob.version)
                )
    # With no checkpoint kept, these delete every value and write of the thread.
    yield Query(_DELETE_OLDER_CHECKPOINTS, (thread_id, kept_namespaces, kept_ids))
    yield Query(_DELETE_OLDER_WRITES, (thread_id, kept_namespaces, kept_ids))
    yield Query(_DELETE_UNUSED_BLOBS, (thread_id, *kept_blobs))
    if rewrites:
        yield Query(_REWRITE_AS_SNAPSHOT, rewrites, many=True)
    yield Query(_CLEAR_PARENTS, (thread_id,))
    core.values.drop_thread(thread_id)


def sweep_expired(core: PostgresCheckpointCore, now: float) -> Operation[int]:
    """Delete every thread whose expiry has passed at ``now``; returns how many.

    Taking the expiry rows first locks them: a write renewing one of those threads waits for
    this transaction, then starts the thread anew.
    """
    expired = [thread_id for (thread_id,) in (yield Query(_TAKE_EXPIRED, (now,), fetch=True))]
    if expired:
        for table in THREAD_TABLES:
            yield Query(f"DELETE FROM {table} WHERE thread_id = ANY(%s::text[])", (expired,))
        for thread_id in expired:
            core.values.drop_thread(thread_id)
    return len(expired)


def vacuum_tables(full: bool) -> Operation[None]:
    """``VACUUM`` the saver's tables (outside any transaction). ``full`` rewrites them
    compactly and returns the space to the file system, but locks each table while it runs."""
    command = "VACUUM (FULL, ANALYZE)" if full else "VACUUM (ANALYZE)"
    for table in (*THREAD_TABLES, EXPIRY_TABLE):
        yield Query(f"{command} {table}", prepare=False)
