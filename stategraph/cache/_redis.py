"""``RedisCache``: the node cache in Redis, each entry a key that Redis itself expires.

An entry ``(namespace, key)`` is the Redis key ``<prefix><namespace as JSON>:<key>``, whose
value is ``<encoding>:<payload>`` from the serializer (LangGraph's value layout). The JSON
namespace keeps namespaces apart exactly: ``("a:b",)`` and ``("a", "b")`` are two, and
clearing ``("a",)`` leaves ``("a", "child")`` alone. A Redis that does not answer is a miss
(logged), so a cache outage slows a graph down instead of failing it, as in LangGraph.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional

from stategraph.cache._base import BaseCache, FullKey, Namespace, Serializer, ValueT

__all__ = ["RedisCache"]

logger = logging.getLogger("stategraph.cache.redis")

_DELETE_CHUNK = 500


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def _escape_glob(text: str) -> str:
    # SCAN MATCH patterns treat * ? [ ] and \ specially; a namespace may contain any of them.
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class RedisCache(BaseCache[ValueT]):
    """A cache in Redis, shared by every process that uses the same server and ``prefix``.

    ``redis`` is a sync ``redis.Redis`` client (the async methods run it in a worker thread),
    created with ``decode_responses=False``: payloads are bytes. TTLs are in seconds and
    kept by Redis (fractions are kept to the millisecond).

    Example::

        import redis
        cache = RedisCache(redis.Redis.from_url("redis://localhost:6379/0"))
        graph = builder.compile(cache=cache)
    """

    def __init__(
        self,
        redis: Any,
        *,
        serde: Optional[Serializer] = None,
        prefix: str = "langgraph:cache:",
    ) -> None:
        _check_client(redis)
        super().__init__(serde=serde)
        self.redis = redis
        self.prefix = prefix

    def _make_key(self, namespace: Namespace, key: str) -> str:
        return f"{self.prefix}{_namespace_text(namespace)}:{key}"

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        if not keys:
            return {}
        full_keys = [(tuple(namespace), key) for namespace, key in keys]
        try:
            raw_values = self.redis.mget([self._make_key(ns, key) for ns, key in full_keys])
        except _redis_errors() as error:
            _log_unavailable("get", error)
            return {}
        found: dict[FullKey, ValueT] = {}
        for full_key, raw in zip(full_keys, raw_values):
            if raw is None:
                continue
            encoding, separator, payload = bytes(raw).partition(b":")
            if not separator:
                logger.warning(
                    "RedisCache: entry %r is not '<encoding>:<payload>'; treating it as a miss. "
                    "Is another program writing under the prefix %r?",
                    self._make_key(*full_key),
                    self.prefix,
                )
                continue
            try:
                found[full_key] = self.serde.loads_typed((encoding.decode(), payload))
            except Exception as error:  # noqa: BLE001 - a cache entry that cannot be read is a miss
                logger.warning(
                    "RedisCache: entry %r cannot be read (%s); treating it as a miss.",
                    self._make_key(*full_key),
                    error,
                )
        return found

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return await asyncio.to_thread(self.get, keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[float]]]) -> None:
        if not pairs:
            return
        pipe = self.redis.pipeline()
        for (namespace, key), (value, ttl) in pairs.items():
            redis_key = self._make_key(tuple(namespace), key)
            encoding, payload = self.serde.dumps_typed(value)
            if ":" in encoding:
                raise ValueError(
                    f"RedisCache stores '<encoding>:<payload>', so an encoding name cannot "
                    f"contain ':' (the serializer returned {encoding!r}). Use a serializer "
                    "whose encoding names have no colon."
                )
            data = encoding.encode() + b":" + payload
            if ttl is None:
                pipe.set(redis_key, data)
            elif ttl > 0:
                pipe.set(redis_key, data, px=max(1, round(ttl * 1000)))
            else:
                pipe.delete(redis_key)  # already expired
        try:
            pipe.execute()
        except _redis_errors() as error:
            _log_unavailable("set", error)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, Optional[float]]]) -> None:
        await asyncio.to_thread(self.set, pairs)

    def clear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        if namespaces is None:
            patterns = [_escape_glob(self.prefix) + "*"]
        else:
            patterns = [
                _escape_glob(f"{self.prefix}{_namespace_text(tuple(ns))}:") + "*"
                for ns in namespaces
            ]
        try:
            for pattern in patterns:
                for chunk in _chunks(self.redis.scan_iter(match=pattern, count=_DELETE_CHUNK)):
                    self.redis.delete(*chunk)
        except _redis_errors() as error:
            _log_unavailable("clear", error)

    async def aclear(self, namespaces: Optional[Sequence[Namespace]] = None) -> None:
        await asyncio.to_thread(self.clear, namespaces)


def _namespace_text(namespace: Namespace) -> str:
    return json.dumps(list(namespace), ensure_ascii=False, separators=(",", ":"))


def _chunks(keys: Iterator[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for key in keys:
        chunk.append(key)
        if len(chunk) == _DELETE_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_client(redis: Any) -> None:
    if hasattr(type(redis), "__aenter__"):
        raise TypeError(
            "RedisCache needs a sync client (redis.Redis), and got an asyncio one "
            f"({type(redis).__module__}.{type(redis).__name__}): the engine reads the cache "
            "from sync code too. Pass redis.Redis.from_url(...); the cache's async methods "
            "run it in a worker thread."
        )
    pool = getattr(redis, "connection_pool", None)
    if getattr(pool, "connection_kwargs", {}).get("decode_responses"):
        raise ValueError(
            "RedisCache stores binary payloads, so its client must not decode responses. "
            "Create the client with decode_responses=False (the default), e.g. "
            "redis.Redis.from_url(url)."
        )


def _log_unavailable(operation: str, error: BaseException) -> None:
    logger.warning(
        "RedisCache %s failed (%s: %s); treating it as a cache miss. Check that the Redis "
        "server is running and reachable.",
        operation,
        type(error).__name__,
        error,
    )
