"""Channel values stored per version, with lists that grow by appending stored as deltas.

A channel's value at a version is one blob row keyed (thread, namespace, channel, version).
When a list grows by appending (``add_messages``, ``operator.add``), the row holds only the new
items and names the version it extends (``base_version``); reading walks the chain back to a
full snapshot. A full snapshot is written again once the items held in deltas since the last one
outnumber the snapshot's own items, so the bytes written per step stay proportional to what is
new while a cold read stays linear in the value's size. Forks work because a delta names its base.

``ChannelValueCache`` remembers, per thread, the last value seen for each channel and its
version: writes use it to find the list they extend, reads to skip decoding. A version is never
reused for other content, so a cached value is valid whenever its version is the one asked for,
whoever has written the database since. Pure: no I/O; the savers fetch and store the rows.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Optional

from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.errors import DeserializationError, SerializationError

__all__ = [
    "EMPTY",
    "BlobRow",
    "BlobWrite",
    "ChannelValueCache",
    "StoredValue",
    "assemble_values",
    "missing_versions",
    "plan_blob_writes",
    "snapshot_rows",
]

EMPTY_TAG = "empty"
# A chain of deltas is cut by a snapshot after this many links even if they added few items.
MIN_CHAIN_LINKS = 16
DEFAULT_CACHED_THREADS = 128


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Any = _Empty()  # the value of a channel that holds nothing at a version

_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, complex})


class BlobRow(NamedTuple):  # a tuple: see CheckpointRow
    channel: str
    version: str
    type: str
    blob: bytes
    base_version: Optional[str] = None  # set for a delta: the version whose list it extends


@dataclass(slots=True)
class StoredValue:
    """A channel's value at one version, as stored; lists are kept as tuples (never mutated)."""

    version: str
    value: Any
    is_list: bool
    snapshot_items: int = 0  # items in the full snapshot the delta chain starts from
    delta_items: int = 0  # items appended by deltas since that snapshot
    delta_links: int = 0

    def output(self) -> Any:
        """The value to hand out: lists, dicts and sets are fresh shallow copies."""
        value = self.value
        if self.is_list:
            return list(value)
        kind = type(value)
        if kind is dict or kind is set:
            return kind(value)
        return value


class BlobWrite(NamedTuple):
    row: BlobRow
    stored: Optional[StoredValue]  # cache entry once the write is committed
    # For a delta: the full snapshot to write instead if its base row has disappeared.
    as_snapshot: Optional[Callable[[], BlobWrite]] = None


class ChannelValueCache:
    """Last stored value per (thread, namespace, channel); least recently used threads dropped."""

    def __init__(self, max_threads: int = DEFAULT_CACHED_THREADS) -> None:
        self._max_threads = max_threads
        self._threads: OrderedDict[tuple[str, str], dict[str, StoredValue]] = OrderedDict()
        # A saver on a connection pool runs operations of several threads at once.
        self._lock = threading.Lock()

    def channels(self, thread_id: str, checkpoint_ns: str) -> Mapping[str, StoredValue]:
        key = (thread_id, checkpoint_ns)
        with self._lock:
            entries = self._threads.get(key)
            if entries is None:
                return {}
            self._threads.move_to_end(key)
            return dict(entries)

    def update(
        self, thread_id: str, checkpoint_ns: str, entries: Mapping[str, Optional[StoredValue]]
    ) -> None:
        if not entries or self._max_threads <= 0:
            return
        key = (thread_id, checkpoint_ns)
        with self._lock:
            channels = self._threads.get(key)
            if channels is None:
                channels = self._threads[key] = {}
                while len(self._threads) > self._max_threads:
                    self._threads.popitem(last=False)
            else:
                self._threads.move_to_end(key)
            for channel, stored in entries.items():
                if stored is None:
                    channels.pop(channel, None)
                else:
                    channels[channel] = stored

    def drop_thread(self, thread_id: str) -> None:
        with self._lock:
            for key in [key for key in self._threads if key[0] == thread_id]:
                del self._threads[key]


# -- writing -------------------------------------------------------------------------------


def plan_blob_writes(
    serde: SerializerProtocol,
    cached: Mapping[str, StoredValue],
    channel_values: Mapping[str, Any],
    new_versions: Mapping[str, Any],
    encoded: Optional[Mapping[int, tuple[str, bytes]]] = None,
) -> list[BlobWrite]:
    """The rows to store for the channels in ``new_versions`` (and only those).

    ``encoded`` maps ``id(value)`` to bytes already made for objects that are still alive
    (the step's writes, see ``encode_write_rows``); a value found there is not serialized again.
    """
    writes = []
    for channel, raw_version in new_versions.items():
        version = str(raw_version)
        if channel not in channel_values:
            row = BlobRow(channel, version, EMPTY_TAG, b"")
            writes.append(BlobWrite(row, StoredValue(version, EMPTY, False)))
            continue
        value = channel_values[channel]
        if type(value) is list:
            previous = cached.get(channel)
            delta = _delta_write(serde, channel, version, value, previous) if previous else None
            if delta is not None:
                writes.append(delta)
                continue
        known = encoded.get(id(value)) if encoded else None
        tag, data = known if known is not None else _dumps(serde, channel, value)
        writes.append(BlobWrite(BlobRow(channel, version, tag, data), _cacheable(version, value)))
    return writes


def _delta_write(
    serde: SerializerProtocol, channel: str, version: str, value: Any, previous: StoredValue
) -> BlobWrite | None:
    if type(value) is not list or not previous.is_list or previous.version == version:
        return None
    old = previous.value
    if len(value) < len(old) or not all(map(operator.is_, old, value)):
        return None  # not an append to the list stored at previous.version
    new_items = value[len(old) :]
    if previous.delta_items + len(
        new_items
    ) > previous.snapshot_items or previous.delta_links >= max(
        MIN_CHAIN_LINKS, previous.snapshot_items
    ):
        return None  # time for a fresh snapshot
    tag, data = _dumps(serde, channel, new_items)
    stored = StoredValue(
        version,
        tuple(value),
        True,
        previous.snapshot_items,
        previous.delta_items + len(new_items),
        previous.delta_links + 1,
    )
    return BlobWrite(
        BlobRow(channel, version, tag, data, previous.version),
        stored,
        lambda: _snapshot_write(serde, channel, version, value),
    )


def _snapshot_write(serde: SerializerProtocol, channel: str, version: str, value: Any) -> BlobWrite:
    tag, data = _dumps(serde, channel, value)
    return BlobWrite(BlobRow(channel, version, tag, data), _cacheable(version, value))


def _cacheable(version: str, value: Any) -> StoredValue | None:
    # The caller keeps using `value`; cache only what a shallow copy protects from its changes.
    kind = type(value)
    if kind is list:
        return StoredValue(version, tuple(value), True, len(value))
    if kind is dict:
        return StoredValue(version, dict(value), False)
    if kind in _IMMUTABLE:
        return StoredValue(version, value, False)
    return None


def _dumps(serde: SerializerProtocol, channel: str, value: Any) -> tuple[str, bytes]:
    try:
        return serde.dumps_typed(value)
    except TypeError as error:  # another error (a serializer's own) passes as it is
        raise SerializationError(f"Cannot store channel {channel!r}: {error}") from error


def snapshot_rows(
    serde: SerializerProtocol, channel_versions: Mapping[str, Any], rows: Iterable[BlobRow]
) -> list[BlobRow]:
    """The rows that hold ``channel_versions``' values on their own, for pruning a history.

    ``rows`` must hold each version's row and its whole delta chain. A snapshot row is returned
    as it is; a delta row is replaced by a snapshot of the full list at the same version, so
    every other row of the chain may be deleted. Versions without a row are left out.
    """
    by_key = {(row.channel, row.version): row for row in rows}
    memo: dict[tuple[str, str], StoredValue] = {}
    kept = []
    for channel, raw_version in channel_versions.items():
        version = str(raw_version)
        row = by_key.get((channel, version))
        if row is None:
            continue
        if row.base_version is not None:
            stored = _resolve(serde, channel, version, by_key, {}, memo)
            assert stored is not None  # the row is there
            row = BlobRow(channel, version, *_dumps(serde, channel, list(stored.value)))
        kept.append(row)
    return kept


# -- reading -------------------------------------------------------------------------------


def missing_versions(
    channel_versions: Mapping[str, Any],
    cached: Mapping[str, StoredValue],
    memo: Mapping[tuple[str, str], StoredValue],
) -> dict[str, str]:
    """The (channel -> version) values neither the cache nor ``memo`` holds."""
    missing = {}
    for channel, raw_version in channel_versions.items():
        version = str(raw_version)
        hit = cached.get(channel)
        if (hit is None or hit.version != version) and (channel, version) not in memo:
            missing[channel] = version
    return missing


def assemble_values(
    serde: SerializerProtocol,
    channel_versions: Mapping[str, Any],
    rows: Iterable[BlobRow],
    cached: Mapping[str, StoredValue],
    memo: dict[tuple[str, str], StoredValue],
) -> tuple[dict[str, Any], dict[str, StoredValue]]:
    """``channel_values`` for a checkpoint, and the values decoded from ``rows`` (to cache).

    ``rows`` must hold, for each missing version, its row and those of its delta chain down to
    a snapshot or to a version the cache holds. ``memo`` collects every version decoded, so a
    caller reading many checkpoints of one thread decodes each row once.
    """
    by_key = {(row.channel, row.version): row for row in rows}
    values: dict[str, Any] = {}
    decoded: dict[str, StoredValue] = {}
    for channel, raw_version in channel_versions.items():
        stored = _resolve(serde, channel, str(raw_version), by_key, cached, memo)
        if stored is None:
            continue  # no row for this version: the channel was never stored
        if stored is not cached.get(channel):
            decoded[channel] = stored
        if stored.value is not EMPTY:
            values[channel] = stored.output()
    return values, decoded


def _resolve(
    serde: SerializerProtocol,
    channel: str,
    version: str,
    by_key: Mapping[tuple[str, str], BlobRow],
    cached: Mapping[str, StoredValue],
    memo: dict[tuple[str, str], StoredValue],
) -> StoredValue | None:
    chain: list[BlobRow] = []  # delta rows, newest first
    current = version
    while True:
        base = memo.get((channel, current))
        if base is None:
            hit = cached.get(channel)
            base = hit if hit is not None and hit.version == current else None
        if base is not None:
            break
        row = by_key.get((channel, current))
        if row is None:
            if not chain:
                return None
            raise DeserializationError(
                f"Channel {channel!r} at version {chain[-1].version} is stored as an append to "
                f"version {current}, which is missing from the database (deleted while in use?)."
            )
        if row.base_version is None:
            base = memo[(channel, current)] = _decode_snapshot(serde, row)
            break
        chain.append(row)
        if len(chain) > len(by_key):
            raise DeserializationError(f"Channel {channel!r}: stored delta chain loops.")
        current = row.base_version
    for row in reversed(chain):
        items = _loads(serde, row)
        if not base.is_list or type(items) is not list:
            raise DeserializationError(
                f"Channel {channel!r} at version {row.version}: "
                "a stored delta does not extend a list."
            )
        base = memo[(channel, row.version)] = StoredValue(
            row.version,
            base.value + tuple(items),
            True,
            base.snapshot_items,
            base.delta_items + len(items),
            base.delta_links + 1,
        )
    return base


def _decode_snapshot(serde: SerializerProtocol, row: BlobRow) -> StoredValue:
    if row.type == EMPTY_TAG:
        return StoredValue(row.version, EMPTY, False)
    value = _loads(serde, row)
    if type(value) is list:
        return StoredValue(row.version, tuple(value), True, len(value))
    return StoredValue(row.version, value, False)


def _loads(serde: SerializerProtocol, row: BlobRow) -> Any:
    try:
        return serde.loads_typed((row.type, row.blob))
    except DeserializationError as error:
        raise DeserializationError(
            f"Cannot read channel {row.channel!r} at version {row.version}: {error}"
        ) from error
