"""``BaseCache``: the interface the engine uses to keep and reuse a task's writes.

Entries live under ``(namespace, key)``; each has an optional time to live in seconds.
Values go through a serializer (``dumps_typed``/``loads_typed``), never pickle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Optional, Protocol, TypeVar

__all__ = ["BaseCache", "FullKey", "Namespace", "Serializer", "ValueT", "expiry_time"]

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]


class Serializer(Protocol):
    """What a cache needs from a serializer (``JsonPlusSerializer`` is one)."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]: ...

    def loads_typed(self, data: tuple[str, bytes]) -> Any: ...


def _default_serializer() -> Serializer:
    from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    serializer: Serializer = JsonPlusSerializer()
    return serializer


class BaseCache(ABC, Generic[ValueT]):
    """A cache of values under ``(namespace, key)`` with per-entry TTLs.

    ``serde`` defaults to ``JsonPlusSerializer``, imported only when no serializer is given.
    """

    serde: Serializer

    def __init__(self, *, serde: Optional[Serializer] = None) -> None:
        self.serde = serde if serde is not None else _default_serializer()

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The values found (and not expired) for ``keys``; missing keys are absent."""

    @abstractmethod
    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Async ``get``."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[int]]]) -> None:
        """Store each value under its key for ``ttl`` seconds (None: until cleared)."""

    @abstractmethod
    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[int]]]) -> None:
        """Async ``set``."""

    @abstractmethod
    def clear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        """Delete every entry in ``namespaces`` (exact match), or every entry if None."""

    @abstractmethod
    async def aclear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        """Async ``clear``."""


def expiry_time(now: float, ttl_seconds: Optional[float]) -> Optional[float]:
    """When an entry written at ``now`` with ``ttl_seconds`` expires (None: never)."""
    return None if ttl_seconds is None else now + ttl_seconds
