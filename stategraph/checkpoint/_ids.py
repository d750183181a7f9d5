"""Identifiers: checkpoint ids (uuid6, sortable by creation) and channel versions.

A checkpoint id sorts as a string in the order the process created it, so "latest" is the
largest id. A channel version is ``f"{n:032}.{random:016}"``: the counter orders versions and
the random part keeps blob keys unique when two forks reach the same counter.
"""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import uuid

__all__ = ["get_checkpoint_id", "new_checkpoint_id", "next_channel_version", "uuid6"]

# 100-ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch.
_GREGORIAN_OFFSET = 0x01B21DD213814000

_last_timestamp = 0
_timestamp_lock = threading.Lock()


def uuid6(node: int | None = None, clock_seq: int | None = None) -> uuid.UUID:
    """A version-6 UUID: time-ordered, strictly increasing within this process.

    ``clock_seq`` (14 bits) is free for the caller: the engine passes the step number, so
    ``str(uuid6(clock_seq=step))`` is the id of the checkpoint written at that step. If the clock
    has not advanced since the last id, the timestamp is bumped by one unit, which keeps ids
    unique and sorted even when many are made in the same 100 ns.
    """
    import uuid  # here: the engine's own ids (new_checkpoint_id) spare every run this import

    return uuid.UUID(int=_uuid6_int(clock_seq, node))


def new_checkpoint_id(step: int) -> str:
    """``str(uuid6(clock_seq=step))``, formatted directly (the engine makes one per step)."""
    digits = f"{_uuid6_int(step, None):032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _uuid6_int(clock_seq: int | None, node: int | None) -> int:
    global _last_timestamp
    timestamp = time.time_ns() // 100 + _GREGORIAN_OFFSET
    with _timestamp_lock:
        if timestamp <= _last_timestamp:
            timestamp = _last_timestamp + 1
        _last_timestamp = timestamp
    if clock_seq is None:
        clock_seq = random.getrandbits(14)
    if node is None:
        node = random.getrandbits(48)
    return (
        ((timestamp >> 12) & 0xFFFF_FFFF_FFFF) << 80  # time_high and time_mid
        | 0x6 << 76  # version
        | (timestamp & 0x0FFF) << 64  # time_low
        | 0b10 << 62  # RFC 4122 variant
        | (clock_seq & 0x3FFF) << 48
        | (node & 0xFFFF_FFFF_FFFF)
    )


def get_checkpoint_id(config: Mapping[str, Any]) -> str | None:
    """The ``checkpoint_id`` a config points at, or None (meaning: the latest checkpoint).

    ``thread_ts``, the key's name in old LangGraph configs, is read too.
    """
    configurable = config.get("configurable") or {}
    checkpoint_id = configurable.get("checkpoint_id") or configurable.get("thread_ts")
    return checkpoint_id if checkpoint_id else None


def next_channel_version(current: str | int | float | None) -> str:
    """The version after ``current``, in the string form LangGraph's savers use."""
    if current is None:
        counter = 0
    elif isinstance(current, (int, float)):
        counter = int(current)
    else:
        counter = int(current.split(".", 1)[0])
    return f"{counter + 1:032}.{random.getrandbits(53):016}"
