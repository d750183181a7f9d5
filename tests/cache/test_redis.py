"""RedisCache: TTLs kept by Redis, the stored layout, prefixes, and a Redis that is down."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest

from stategraph.cache.redis import RedisCache

from _services import REDIS_URL, delete_redis_keys, redis_key_prefix, require_redis

from .conftest import JsonSerde

NODE = ("__pregel_ns_writes", "app.node", "n")


@pytest.fixture
def client() -> Iterator[Any]:
    require_redis()
    import redis

    made = redis.Redis.from_url(REDIS_URL)
    yield made
    made.close()


@pytest.fixture
def prefix(client: Any) -> Iterator[str]:
    chosen = redis_key_prefix()
    yield chosen
    delete_redis_keys(client, chosen)


def test_entries_get_the_ttl_in_redis_and_entries_without_one_never_expire(
    client: Any, prefix: str
) -> None:
    cache = RedisCache(client, serde=JsonSerde(), prefix=prefix)

    cache.set({(NODE, "short"): ("s", 30), (NODE, "forever"): ("f", None)})

    assert 29_000 < client.pttl(cache._make_key(NODE, "short")) <= 30_000
    assert client.pttl(cache._make_key(NODE, "forever")) == -1


def test_a_fractional_ttl_is_kept_to_the_millisecond(client: Any, prefix: str) -> None:
    cache = RedisCache(client, serde=JsonSerde(), prefix=prefix)

    cache.set({(NODE, "k"): ("v", 12.5)})

    assert 12_000 < client.pttl(cache._make_key(NODE, "k")) <= 12_500


def test_a_ttl_of_zero_or_less_stores_nothing_and_drops_an_older_entry(
    client: Any, prefix: str
) -> None:
    cache = RedisCache(client, serde=JsonSerde(), prefix=prefix)
    cache.set({(NODE, "k"): ("old", None)})

    cache.set({(NODE, "k"): ("new", 0), (NODE, "j"): ("new", -5)})

    assert cache.get([(NODE, "k"), (NODE, "j")]) == {}


def test_values_are_stored_as_encoding_colon_payload(client: Any, prefix: str) -> None:
    cache = RedisCache(client, serde=JsonSerde(), prefix=prefix)

    cache.set({(NODE, "k"): ({"x": 1}, None)})

    assert client.get(cache._make_key(NODE, "k")) == b'json:{"x": 1}'
    assert cache._make_key(NODE, "k").startswith(prefix)


def test_the_default_serializer_round_trips_without_pickle(client: Any, prefix: str) -> None:
    cache: RedisCache[Any] = RedisCache(client, prefix=prefix)
    value = {"writes": [("channel", {"n": 1, "t": (1, 2)})]}

    cache.set({(NODE, "k"): (value, None)})

    assert cache.get([(NODE, "k")]) == {(NODE, "k"): value}
    raw = client.get(cache._make_key(NODE, "k"))
    assert not raw.startswith(b"pickle")


async def test_two_caches_with_one_prefix_share_entries_and_other_prefixes_are_apart(
    client: Any, prefix: str
) -> None:
    writer = RedisCache(client, serde=JsonSerde(), prefix=prefix)
    reader = RedisCache(client, serde=JsonSerde(), prefix=prefix)
    other_prefix = redis_key_prefix()
    other = RedisCache(client, serde=JsonSerde(), prefix=other_prefix)
    try:
        await writer.aset({(NODE, "k"): ("shared", None)})
        await other.aset({(NODE, "k"): ("apart", None)})

        await reader.aclear()

        assert await other.aget([(NODE, "k")]) == {(NODE, "k"): "apart"}
        assert await writer.aget([(NODE, "k")]) == {}
    finally:
        delete_redis_keys(client, other_prefix)


def test_clear_leaves_keys_outside_the_prefix_alone(client: Any, prefix: str) -> None:
    cache = RedisCache(client, serde=JsonSerde(), prefix=prefix + "cache:")
    client.set(prefix + "not-the-cache", b"keep")
    cache.set({(NODE, "k"): ("v", None)})

    cache.clear()

    assert client.get(prefix + "not-the-cache") == b"keep"


def test_glob_characters_in_namespaces_and_prefix_match_only_themselves(
    client: Any, prefix: str
) -> None:
    cache = RedisCache(client, serde=JsonSerde(), prefix=prefix + "[x]*")
    starred, plain = ("a*",), ("ab",)
    cache.set({(starred, "k"): ("star", None), (plain, "k"): ("plain", None)})

    cache.clear([starred])

    assert cache.get([(starred, "k"), (plain, "k")]) == {(plain, "k"): "plain"}


def test_an_unreachable_redis_is_a_logged_cache_miss(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("redis")
    import redis

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    cache = RedisCache(down, serde=JsonSerde())

    with caplog.at_level(logging.WARNING, logger="stategraph.cache.redis"):
        cache.set({(NODE, "k"): ("v", None)})
        found = cache.get([(NODE, "k")])
        cache.clear()

    assert found == {}
    assert [record.getMessage().split(" failed")[0] for record in caplog.records] == [
        "RedisCache set",
        "RedisCache get",
        "RedisCache clear",
    ]
    assert "Check that the Redis server is running" in caplog.records[0].getMessage()


def test_an_asyncio_client_is_rejected_with_the_fix() -> None:
    pytest.importorskip("redis")
    import redis.asyncio

    with pytest.raises(TypeError, match=r"needs a sync client \(redis.Redis\)"):
        RedisCache(redis.asyncio.Redis())


def test_a_client_that_decodes_responses_is_rejected_with_the_fix() -> None:
    pytest.importorskip("redis")
    import redis

    with pytest.raises(ValueError, match="decode_responses=False"):
        RedisCache(redis.Redis(decode_responses=True))


def test_a_graph_reuses_a_cached_node_result_from_redis(client: Any, prefix: str) -> None:
    from stategraph.graph import START, StateGraph
    from stategraph.types import CachePolicy

    class State(TypedDict):
        n: int

    runs: list[int] = []

    def double(state: State) -> State:
        runs.append(state["n"])
        return {"n": state["n"] * 2}

    cache: RedisCache[Any] = RedisCache(client, prefix=prefix)
    graph = (
        StateGraph(State)
        .add_node("double", double, cache_policy=CachePolicy(ttl=60))
        .add_edge(START, "double")
        .compile(cache=cache)
    )

    assert graph.invoke({"n": 3}) == {"n": 6}
    assert graph.invoke({"n": 3}) == {"n": 6}
    assert graph.invoke({"n": 4}) == {"n": 8}
    assert runs == [3, 4]


def test_an_entry_that_cannot_be_read_is_a_logged_miss(
    client: Any, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache: RedisCache[Any] = RedisCache(client, prefix=prefix)
    cache.set({(NODE, "good"): ({"x": 1}, None)})
    client.set(cache._make_key(NODE, "bad"), b"invalid:data:format:too:many:colons")
    client.set(cache._make_key(NODE, "pickled"), b"pickle:\x80\x04N.")

    with caplog.at_level(logging.WARNING, logger="stategraph"):
        found = cache.get([(NODE, "good"), (NODE, "bad"), (NODE, "pickled")])

    assert found == {(NODE, "good"): {"x": 1}}
    assert sum("cannot be read" in record.getMessage() for record in caplog.records) == 2
