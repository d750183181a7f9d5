"""``InMemorySaver``: checkpoints kept in this process's memory (for tests and notebooks).

Values are stored serialized, exactly as the SQL savers store them (one blob per channel
version, lists that grow by appending stored as deltas), so a graph behaves the same here as on
a database. Nothing survives the process.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import (
    Any,
    AsyncIterator,
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
)
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
from stategraph.checkpoint._saver import BaseCheckpointSaver
from stategraph.checkpoint._types import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    RunnableConfig,
    TaskWrites,
)
from stategraph.checkpoint.serde.base import SerializerProtocol

__all__ = ["InMemorySaver", "MemorySaver"]

_BlobKey = Tuple[str, str, str]  # checkpoint_ns, channel, version
_WritesKey = Tuple[str, str]  # checkpoint_ns, checkpoint_id


class InMemorySaver(
    BaseCheckpointSaver[str],
    AbstractContextManager["InMemorySaver"],
    AbstractAsyncContextManager["InMemorySaver"],
):
    """An in-memory checkpointer; usable as a (async) context manager.

    >>> graph = builder.compile(checkpointer=InMemorySaver())  # doctest: +SKIP
    """

    # Saves are cheap dict updates: the engine makes them inline instead of handing them to a
    # background thread, whatever the durability mode.
    is_in_process = True
    reads_only_new_values = True


    def __init__(self, *, serde: Optional[SerializerProtocol] = None) -> None:
        super().__init__(serde=serde)
        # Rows are kept as plain tuples (``CheckpointRow``, ``BlobRow``, ``WriteRow`` fields in
        # order), in one dict per thread: the garbage collector stops tracking tuples of strings
        # and bytes, and dicts that hold only those, so a long history held here does not slow
        # down every collection of the process.
        # thread_id -> checkpoint_ns -> checkpoint_id -> row
        self.storage: defaultdict[str, dict[str, dict[str, tuple]]] = defaultdict(dict)
        # thread_id -> (checkpoint_ns, channel, version) -> row
        self.blobs: defaultdict[str, dict[_BlobKey, tuple]] = defaultdict(dict)
        # thread_id -> (checkpoint_ns, checkpoint_id) -> (task_id, idx) -> row
        self.writes: defaultdict[str, dict[_WritesKey, dict[Tuple[str, int], tuple]]] = defaultdict(dict)
        self._latest: dict[Tuple[str, str], str] = {}
        self._values = ChannelValueCache()
        self._lock = threading.RLock()

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    async def __aenter__(self) -> InMemorySaver:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        return None

    # -- reading ---------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        thread_id, checkpoint_ns = thread_address(config)
        checkpoint_id = get_checkpoint_id(config)
        with self._lock:
            checkpoints = self.storage.get(thread_id, {}).get(checkpoint_ns)
            if not checkpoints:
                return None
            wanted = checkpoint_id or self._latest[(thread_id, checkpoint_ns)]
            row = checkpoints.get(wanted)
            if row is None:
                return None
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
                for w in map(WriteRow._make, (row for _, row in sorted(writes.items())))
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
            self.storage.pop(thread_id, None)
            self.blobs.pop(thread_id, None)
            self.writes.pop(thread_id, None)
            for latest_key in [key for key in self._latest if key[0] == thread_id]:
                del self._latest[latest_key]
            self._values.drop_thread(thread_id)

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
