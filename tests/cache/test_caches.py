"""Behaviour every cache shares, run on each cache through its sync and async methods."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stategraph.cache.sqlite import SqliteCache

from .conftest import CacheUnderTest, FakeClock, JsonSerde

NODE_A = ("__pregel_ns_writes", "app.node_a", "a")
NODE_B = ("__pregel_ns_writes", "app.node_b", "b")


async def test_get_returns_what_set_stored_and_omits_missing_keys(cache: CacheUnderTest) -> None:
    await cache.set(
        {(NODE_A, "k1"): ({"writes": [["x", 1]]}, None), (NODE_B, "k2"): ([1, 2], None)}
    )

    found = await cache.get([(NODE_A, "k1"), (NODE_B, "k2"), (NODE_A, "nope")])

    assert found == {(NODE_A, "k1"): {"writes": [["x", 1]]}, (NODE_B, "k2"): [1, 2]}


async def test_get_of_no_keys_is_empty(cache: CacheUnderTest) -> None:
    assert await cache.get([]) == {}


async def test_set_overwrites_an_existing_entry(cache: CacheUnderTest) -> None:
    await cache.set({(NODE_A, "k"): ("old", None)})

    await cache.set({(NODE_A, "k"): ("new", None)})

    assert await cache.get([(NODE_A, "k")]) == {(NODE_A, "k"): "new"}


async def test_the_same_key_in_two_namespaces_is_two_entries(cache: CacheUnderTest) -> None:
    await cache.set({(NODE_A, "k"): ("a", None), (NODE_B, "k"): ("b", None)})

    assert await cache.get([(NODE_A, "k"), (NODE_B, "k")]) == {
        (NODE_A, "k"): "a",
        (NODE_B, "k"): "b",
    }


async def test_namespaces_given_as_lists_find_the_same_entries(cache: CacheUnderTest) -> None:
    await cache.set({(NODE_A, "k"): ("v", None)})

    assert await cache.get([(list(NODE_A), "k")]) == {(NODE_A, "k"): "v"}


async def test_entries_expire_after_their_ttl(cache: CacheUnderTest, clock: FakeClock) -> None:
    await cache.set({(NODE_A, "short"): ("s", 10), (NODE_A, "forever"): ("f", None)})

    clock.now += 9
    assert await cache.get([(NODE_A, "short")]) == {(NODE_A, "short"): "s"}

    clock.now += 1
    assert await cache.get([(NODE_A, "short"), (NODE_A, "forever")]) == {(NODE_A, "forever"): "f"}


async def test_an_expired_entry_stays_gone_when_time_runs_back(
    cache: CacheUnderTest, clock: FakeClock
) -> None:
    await cache.set({(NODE_A, "k"): ("v", 5)})
    clock.now += 6
    assert await cache.get([(NODE_A, "k")]) == {}

    clock.now -= 6  # it was dropped on read, not merely hidden

    assert await cache.get([(NODE_A, "k")]) == {}


async def test_clear_with_namespaces_deletes_only_those_namespaces(cache: CacheUnderTest) -> None:
    nested = (*NODE_A, "child")
    await cache.set(
        {(NODE_A, "k"): ("a", None), (NODE_B, "k"): ("b", None), (nested, "k"): ("c", None)}
    )

    await cache.clear([NODE_A])

    assert await cache.get([(NODE_A, "k"), (NODE_B, "k"), (nested, "k")]) == {
        (NODE_B, "k"): "b",
        (nested, "k"): "c",
    }


async def test_clear_without_namespaces_deletes_everything(cache: CacheUnderTest) -> None:
    await cache.set({(NODE_A, "k"): ("a", None), (NODE_B, "k"): ("b", None)})

    await cache.clear()

    assert await cache.get([(NODE_A, "k"), (NODE_B, "k")]) == {}


async def test_labels_with_commas_do_not_collide(cache: CacheUnderTest) -> None:
    await cache.set({(("a,b",), "k"): ("joined", None), (("a", "b"), "k"): ("split", None)})

    await cache.clear([("a", "b")])

    assert await cache.get([(("a,b",), "k"), (("a", "b"), "k")]) == {(("a,b",), "k"): "joined"}


def test_sqlite_cache_entries_survive_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "durable.db")
    first = SqliteCache(path=path, serde=JsonSerde())
    first.set({(NODE_A, "k"): ({"v": 1}, None)})
    first.close()

    second = SqliteCache(path, serde=JsonSerde())
    try:
        assert second.get([(NODE_A, "k")]) == {(NODE_A, "k"): {"v": 1}}
    finally:
        second.close()


def test_sqlite_cache_uses_a_connection_it_is_given_and_leaves_it_open() -> None:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    cache = SqliteCache(conn=conn, serde=JsonSerde())
    cache.set({(NODE_A, "k"): ("v", None)})

    cache.close()

    assert conn.execute("SELECT COUNT(*) FROM cache").fetchone() == (1,)
    conn.close()


def test_sqlite_cache_needs_a_path_or_a_connection() -> None:
    import pytest

    with pytest.raises(ValueError, match="exactly one of path= or conn="):
        SqliteCache(serde=JsonSerde())
