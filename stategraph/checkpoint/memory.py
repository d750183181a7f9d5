"""``InMemorySaver``: checkpoints kept in this process's memory (for tests and notebooks).

Values are stored serialized, exactly as the SQL savers store them (one blob per channel
version, lists that grow by appending stored as deltas), so a graph behaves the same here as on
a database. Nothing survives the process. Retention: ``prune`` drops all but each thread's
latest checkpoint, and ``ttl=`` expires threads left alone (see ``BaseCheckpointSaver.prune``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import AbstractAsyncContextManager, AbstractContextManager, ExitStack
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

from stategraph.checkpoint._blobs import (
    BlobRow,
    ChannelValueCache,
    StoredValue,
    assemble_values,
    missing_versions,
    plan_blob_writes,
    snapshot_rows,
)
from stategraph.checkpoint._persistent import PersistentDict
from stategraph.checkpoint._delta_history import writes_sort_key
from stategraph.checkpoint._ids import get_checkpoint_id, next_channel_version
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
from stategraph.checkpoint._saver import BaseCheckpointSaver, prune_targets
from stategraph.checkpoint._types import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    RunnableConfig,
    TaskWrites,
)
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.store._config import TTLConfig
from stategraph.store._sweeper import SweepsInThread

__all__ = ["InMemorySaver", "MemorySaver", "PersistentDict"]

_BlobKey = Tuple[str, str, str]  # checkpoint_ns, channel, version
_WritesKey = Tuple[str, str]  # checkpoint_ns, checkpoint_id


class InMemorySaver(
    BaseCheckpointSaver[str],  # first base, as in LangGraph (subclasses reach it as __mro__[1])
    SweepsInThread,
    AbstractContextManager["InMemorySaver"],
    AbstractAsyncContextManager["InMemorySaver"],
):
    """An in-memory checkpointer; usable as a (async) context manager.

    >>> graph = builder.compile(checkpointer=InMemorySaver())  # doctest: +SKIP

    ``ttl={"default_ttl": minutes}`` expires a thread that many minutes after its last write
    (or read, unless ``refresh_on_read`` is False); ``clock`` gives seconds since the epoch.
    """

    # Saves are cheap dict updates: the engine makes them inline instead of handing them to a
    # background thread, whatever the durability mode.
    is_in_process = True
    reads_only_new_values = True


    def __init__(
        self,
        *,
        serde: Optional[SerializerProtocol] = None,
        factory: type[defaultdict] = defaultdict,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde)
        self.ttl_config = ttl
        minutes = (ttl or {}).get("default_ttl")
        self._ttl_seconds = None if minutes is None else 60.0 * minutes
        self._refresh_on_read = bool((ttl or {}).get("refresh_on_read", True))
        self._clock = clock
        self._expires_at: dict[str, float] = {}  # thread_id -> clock() time of expiry
        # ``factory`` makes the three tables (LangGraph's hook for ``PersistentDict``); tables
        # that are context managers are closed, hence saved, when the saver is.
        self.stack = ExitStack()
        # Rows are kept as plain tuples (``CheckpointRow``, ``BlobRow``, ``WriteRow`` fields in
        # order), in one dict per thread: the garbage collector stops tracking tuples of strings
        # and bytes, and dicts that hold only those, so a long history held here does not slow
        # down every collection of the process.
        # thread_id -> checkpoint_ns -> checkpoint_id -> row
        self.storage: defaultdict[str, dict[str, dict[str, tuple]]] = factory(dict)
        # thread_id -> (checkpoint_ns, channel, version) -> row
        self.blobs: defaultdict[str, dict[_BlobKey, tuple]] = factory(dict)
        # thread_id -> (checkpoint_ns, checkpoint_id) -> (task_id, idx) -> row
        self.writes: defaultdict[str, dict[_WritesKey, dict[Tuple[str, int], tuple]]] = factory(dict)
        if factory is not defaultdict:
            for table in (self.storage, self.blobs, self.writes):
                if hasattr(table, "__enter__"):
                    self.stack.enter_context(table)
        self._latest: dict[Tuple[str, str], str] = {}
        self._values = ChannelValueCache()
        self._lock = threading.RLock()

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop_ttl_sweeper(timeout=1.0)
        self.stack.close()

    async def __aenter__(self) -> InMemorySaver:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.stop_ttl_sweeper(timeout=1.0)
        self.stack.close()

    # -- reading ---------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        thread_id, checkpoint_ns = thread_address(config)
        checkpoint_id = get_checkpoint_id(config)
        with self._lock:
            checkpoints = self.storage.get(thread_id, {}).get(checkpoint_ns)
            if not checkpoints or self._is_expired(thread_id):
                return None
            # Tables filled from outside (a reloaded PersistentDict) have no latest-id index yet.
            wanted = checkpoint_id or self._latest.get((thread_id, checkpoint_ns)) or max(checkpoints)
            row = checkpoints.get(wanted)
            if row is None:
                return None
            if self._refresh_on_read:
                self._extend_life(thread_id)
            return self._load(
                CheckpointRow._make(row), {}, remember=True, config=config if checkpoint_id else None
            )

    def list(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> Iterator[CheckpointTuple]:
        with self._lock:
            rows = self._matching_rows(config, before)
            if self._refresh_on_read:
                for thread_id in {row.thread_id for row in rows}:
                    self._extend_life(thread_id)
        memos: dict[Tuple[str, str], dict[Any, StoredValue]] = {}
        remaining = limit
        for row in rows:
            if remaining is not None and remaining <= 0:
                return
            if filter and not metadata_matches(decode_metadata(row.metadata), filter):
                continue
            memo = memos.setdefault((row.thread_id, row.checkpoint_ns), {})
            with self._lock:
                found = self._load(row, memo, remember=False)
            if remaining is not None:
                remaining -= 1
            yield found

    def _matching_rows(
        self, config: Optional[RunnableConfig], before: Optional[RunnableConfig]
    ) -> List[CheckpointRow]:
        configurable = (config or {}).get("configurable") or {}
        thread_ids = (
            [str(configurable["thread_id"])]
            if configurable.get("thread_id") is not None
            else list(self.storage)
        )
        thread_ids = [thread_id for thread_id in thread_ids if not self._is_expired(thread_id)]
        wanted_ns = configurable.get("checkpoint_ns")
        wanted_id = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None
        rows = [
            CheckpointRow._make(row)
            for thread_id in thread_ids
            for checkpoint_ns, checkpoints in self.storage.get(thread_id, {}).items()
            if wanted_ns is None or checkpoint_ns == wanted_ns
            for checkpoint_id, row in checkpoints.items()
            if (wanted_id is None or checkpoint_id == wanted_id)
            and (before_id is None or checkpoint_id < before_id)
        ]
        rows.sort(key=lambda row: row.checkpoint_id, reverse=True)
        return rows

    def _load(
        self,
        row: CheckpointRow,
        memo: dict[Any, StoredValue],
        *,
        remember: bool,
        config: Optional[RunnableConfig] = None,
    ) -> CheckpointTuple:
        thread_id, checkpoint_ns = row.thread_id, row.checkpoint_ns
        stored = decode_checkpoint(self.serde, row)
        versions = stored.get("channel_versions") or {}
        cached = self._values.channels(thread_id, checkpoint_ns)
        missing = missing_versions(versions, cached, memo)
        blob_rows = self._chain_rows(thread_id, checkpoint_ns, missing, cached)
        values, decoded = assemble_values(self.serde, versions, blob_rows, cached, memo)
        if remember:
            self._values.update(thread_id, checkpoint_ns, decoded)
        writes = self.writes.get(thread_id, {}).get((checkpoint_ns, row.checkpoint_id), {})
        pending = decode_pending_writes(
            self.serde,
            (
                (w.task_id, w.channel, w.type, w.value)
                for w in sorted(map(WriteRow._make, writes.values()), key=_applied_order)
            ),
        )
        return to_checkpoint_tuple(row, stored, values, pending, config)

    def _chain_rows(
        self,
        thread_id: str,
        checkpoint_ns: str,
        missing: Mapping[str, str],
        cached: Mapping[str, StoredValue],
    ) -> List[BlobRow]:
        rows = []
        for channel, version in missing.items():
            current: Optional[str] = version
            links = 0
            blobs = self.blobs.get(thread_id, {})
            while current is not None and links <= len(blobs):
                stored = blobs.get((checkpoint_ns, channel, current))
                if stored is None:
                    break
                row = BlobRow._make(stored)
                rows.append(row)
                hit = cached.get(channel)
                current = (
                    None
                    if hit is not None and hit.version == row.base_version
                    else row.base_version
                )
                links += 1
        return rows

    # -- writing ---------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put_step(config, checkpoint, metadata, new_versions)

    def put_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        row = encode_checkpoint_row(self.serde, config, checkpoint, metadata)
        thread_id, checkpoint_ns = row.thread_id, row.checkpoint_ns
        encoded: Dict[int, Tuple[str, bytes]] = {}
        task_rows = [
            (
                task.checkpoint_id or row.checkpoint_id,
                encode_write_rows(self.serde, task.writes, task.task_id, task.task_path, encoded),
            )
            for task in writes
        ]
        with self._lock:
            self._renew_on_write(thread_id)
            plan = plan_blob_writes(
                self.serde,
                self._values.channels(thread_id, checkpoint_ns),
                checkpoint["channel_values"],
                new_versions,
                encoded,
            )
            remembered: dict[str, Optional[StoredValue]] = {}
            blobs = self.blobs[thread_id]
            for write in plan:
                blob = write.row
                key = (checkpoint_ns, blob.channel, blob.version)
                if (
                    blob.base_version is not None
                    and (
                        key in blobs
                        or (checkpoint_ns, blob.channel, blob.base_version) not in blobs
                    )
                    and write.as_snapshot is not None
                ):
                    write = write.as_snapshot()
                    blob = write.row
                blobs[key] = tuple(blob)
                remembered[blob.channel] = write.stored
            self.storage[thread_id].setdefault(checkpoint_ns, {})[row.checkpoint_id] = tuple(row)
            latest = self._latest.get((thread_id, checkpoint_ns))
            if latest is None or row.checkpoint_id > latest:
                self._latest[(thread_id, checkpoint_ns)] = row.checkpoint_id
            for checkpoint_id, rows in task_rows:
                self._store_writes(thread_id, checkpoint_ns, checkpoint_id, rows)
            self._values.update(thread_id, checkpoint_ns, remembered)
        return checkpoint_config(thread_id, checkpoint_ns, row.checkpoint_id)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        thread_id, checkpoint_ns = thread_address(config)
        checkpoint_id = _require_checkpoint_id(config)
        rows = encode_write_rows(self.serde, writes, task_id, task_path)
        with self._lock:
            self._renew_on_write(thread_id)
            self._store_writes(thread_id, checkpoint_ns, checkpoint_id, rows)

    def _store_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, rows: Sequence[WriteRow]
    ) -> None:
        by_checkpoint = self.writes[thread_id]
        stored = by_checkpoint.get((checkpoint_ns, checkpoint_id))
        if stored is None:
            stored = by_checkpoint[(checkpoint_ns, checkpoint_id)] = {}
        for row in rows:
            key = (row.task_id, row.idx)
            if row.idx < 0 or key not in stored:  # WriteRow.replaces, inlined (hot)
                stored[key] = tuple(row)

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._delete(str(thread_id))

    def _delete(self, thread_id: str) -> None:
        self.storage.pop(thread_id, None)
        self.blobs.pop(thread_id, None)
        self.writes.pop(thread_id, None)
        self._expires_at.pop(thread_id, None)
        for latest_key in [key for key in self._latest if key[0] == thread_id]:
            del self._latest[latest_key]
        self._values.drop_thread(thread_id)

    # -- retention -------------------------------------------------------------------------

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads, or all but their latest checkpoints (see ``BaseCheckpointSaver``)."""
        ids, chosen = prune_targets(thread_ids, strategy)
        for thread_id in ids:
            with self._lock:
                if chosen == "delete":
                    self._delete(thread_id)
                else:
                    self._keep_latest(thread_id)

    def _keep_latest(self, thread_id: str) -> None:
        kept_blobs: dict[_BlobKey, tuple] = {}
        kept_writes: dict[_WritesKey, dict[Tuple[str, int], tuple]] = {}
        namespaces = self.storage.get(thread_id, {})
        writes = self.writes.get(thread_id, {})
        for checkpoint_ns, checkpoints in list(namespaces.items()):
            if not checkpoints:
                del namespaces[checkpoint_ns]
                continue
            latest = CheckpointRow._make(checkpoints[max(checkpoints)])
            versions = decode_checkpoint(self.serde, latest).get("channel_versions") or {}
            chains = self._chain_rows(
                thread_id, checkpoint_ns, {c: str(v) for c, v in versions.items()}, {}
            )
            for blob in snapshot_rows(self.serde, versions, chains):
                kept_blobs[(checkpoint_ns, blob.channel, blob.version)] = tuple(blob)
            namespaces[checkpoint_ns] = {
                latest.checkpoint_id: tuple(latest._replace(parent_checkpoint_id=None))
            }
            if (checkpoint_ns, latest.checkpoint_id) in writes:
                key = (checkpoint_ns, latest.checkpoint_id)
                kept_writes[key] = writes[key]
        for table, kept in ((self.blobs, kept_blobs), (self.writes, kept_writes)):
            if kept:
                table[thread_id] = kept
            else:
                table.pop(thread_id, None)
        if not namespaces:
            self.storage.pop(thread_id, None)
        self._values.drop_thread(thread_id)

    def sweep_ttl(self) -> int:
        """Delete the threads whose expiry has passed; returns how many were deleted."""
        with self._lock:
            now = self._clock()
            expired = [tid for tid, expires_at in self._expires_at.items() if expires_at <= now]
            for thread_id in expired:
                self._delete(thread_id)
        return len(expired)

    def _is_expired(self, thread_id: str) -> bool:
        expires_at = self._expires_at.get(thread_id)
        return expires_at is not None and expires_at <= self._clock()

    def _extend_life(self, thread_id: str) -> None:
        if self._ttl_seconds is not None:
            self._expires_at[thread_id] = self._clock() + self._ttl_seconds

    def _renew_on_write(self, thread_id: str) -> None:
        # An expired thread is gone even before the sweeper comes: a write starts it anew.
        if self._is_expired(thread_id):
            self._delete(thread_id)
        self._extend_life(thread_id)

    # -- async: the same operations (nothing here waits on I/O) -------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return self.get_tuple(config)

    async def alist(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for found in self.list(config, filter=filter, before=before, limit=limit):
            yield found

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_step(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        writes: Sequence[TaskWrites] = (),
    ) -> RunnableConfig:
        return self.put_step(config, checkpoint, metadata, new_versions, writes)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[Tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self.prune(thread_ids, strategy=strategy)

    def get_next_version(self, current: Optional[str], channel: Any) -> str:
        return next_channel_version(current)


MemorySaver = InMemorySaver  # LangGraph's older name


def _require_checkpoint_id(config: RunnableConfig) -> str:
    checkpoint_id = get_checkpoint_id(config)
    if checkpoint_id is None:
        raise ValueError(
            "put_writes needs config['configurable']['checkpoint_id']: writes belong to the "
            "checkpoint their task ran from. Pass the config returned by put()."
        )
    return checkpoint_id


def _applied_order(write: WriteRow) -> tuple[str, str, int]:
    return writes_sort_key(write.task_path, write.task_id, write.idx)
