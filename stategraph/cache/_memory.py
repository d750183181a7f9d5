"""``InMemoryCache``: the node cache as a dict in this process, with TTLs."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Callable, Optional

from stategraph.cache._base import BaseCache, FullKey, Namespace, Serializer, ValueT, expiry_time

__all__ = ["InMemoryCache"]

# namespace -> key -> (encoding, payload, expiry as clock seconds or None)
_Entries = dict[Namespace, dict[str, tuple[str, bytes, Optional[float]]]]


class InMemoryCache(BaseCache[ValueT]):
    """A thread-safe in-process cache; an expired entry is dropped when it is next read.

    ``clock`` returns the current time in seconds (``time.time`` by default); tests pass a
    fake one to expire entries without sleeping.
    """

    def __init__(
        self,
        *,
        serde: Optional[Serializer] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde)
        self._clock = clock
        self._entries: _Entries = {}
        self._lock = threading.RLock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        found: dict[FullKey, ValueT] = {}
        if not keys:
            return found
        now = self._clock()
        with self._lock:
            for namespace, key in keys:
                namespace = tuple(namespace)
                by_key = self._entries.get(namespace, {})
                entry = by_key.get(key)
                if entry is None:
                    continue
                encoding, payload, expiry = entry
                if expiry is not None and now >= expiry:
                    del by_key[key]
                    continue
                found[(namespace, key)] = self.serde.loads_typed((encoding, payload))
        return found

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return self.get(keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[float]]]) -> None:
        now = self._clock()
        encoded = {
            (tuple(namespace), key): (*self.serde.dumps_typed(value), expiry_time(now, ttl))
            for (namespace, key), (value, ttl) in pairs.items()
        }
        with self._lock:
            for (namespace, key), entry in encoded.items():
                self._entries.setdefault(namespace, {})[key] = entry

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[float]]]) -> None:
        self.set(pairs)

    def clear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        with self._lock:
            if namespaces is None:
                self._entries.clear()
                return
            for namespace in namespaces:
                self._entries.pop(tuple(namespace), None)

    async def aclear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        self.clear(namespaces)
