"""SQLite stores: TTL with a fake clock, sweeping, persistence, ordering and thread use."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from stategraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
)
from stategraph.store.sqlite import AsyncSqliteStore, SqliteStore

from .conftest import FakeClock, StoreFactory


async def sweep(store: Any) -> int:
    result = store.store.sweep_ttl()
    return await result if asyncio.iscoroutine(result) else result


# -- TTL -------------------------------------------------------------------------------------


async def test_an_item_expires_ttl_minutes_after_it_was_put(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open()
    await store.put(("t",), "short", {"v": 1}, ttl=10)
    await store.put(("t",), "forever", {"v": 2})

    clock.advance(minutes=9)
    assert await store.get(("t",), "short", refresh_ttl=False) is not None

    clock.advance(minutes=2)
    assert await store.get(("t",), "short") is None
    assert [item.key for item in await store.search(("t",))] == ["forever"]
    assert await store.get(("t",), "forever") is not None


async def test_reading_an_item_pushes_its_expiry_back(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open(ttl={"refresh_on_read": True})
    await store.put(("t",), "k", {"v": 1}, ttl=10)

    clock.advance(minutes=8)
    assert await store.get(("t",), "k") is not None  # expiry is now +10 min from here
    clock.advance(minutes=8)
    assert len(await store.search(("t",))) == 1  # and again
    clock.advance(minutes=8)

    assert await store.get(("t",), "k") is not None


async def test_reads_with_refresh_ttl_false_leave_the_expiry_alone(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open()
    await store.put(("t",), "k", {"v": 1}, ttl=10)

    clock.advance(minutes=8)
    assert await store.get(("t",), "k", refresh_ttl=False) is not None
    assert len(await store.search(("t",), refresh_ttl=False)) == 1
    clock.advance(minutes=3)

    assert await store.get(("t",), "k") is None


async def test_refresh_on_read_false_in_the_config_is_the_default_for_reads(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open(ttl={"refresh_on_read": False})
    await store.put(("t",), "k", {"v": 1}, ttl=10)

    clock.advance(minutes=8)
    assert await store.get(("t",), "k") is not None
    clock.advance(minutes=3)

    assert await store.get(("t",), "k") is None


async def test_default_ttl_applies_to_puts_without_ttl(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open(ttl={"default_ttl": 5})
    await store.put(("t",), "default", {"v": 1})
    await store.put(("t",), "explicit-none", {"v": 2}, ttl=None)

    clock.advance(minutes=6)

    assert await store.get(("t",), "default") is None
    assert await store.get(("t",), "explicit-none") is not None


async def test_putting_again_restarts_the_ttl(sql_factory: StoreFactory, clock: FakeClock) -> None:
    store = await sql_factory.open()
    await store.put(("t",), "k", {"v": 1}, ttl=10)
    clock.advance(minutes=8)

    await store.put(("t",), "k", {"v": 2}, ttl=10)
    clock.advance(minutes=8)

    item = await store.get(("t",), "k")
    assert item is not None and item.value == {"v": 2}


async def test_expired_namespaces_are_not_listed(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open()
    await store.put(("old",), "k", {"v": 1}, ttl=1)
    await store.put(("new",), "k", {"v": 1})

    clock.advance(minutes=2)

    assert await store.list_namespaces() == [("new",)]


async def test_sweep_deletes_expired_items_and_counts_them(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open(
        index={"dims": 3, "embed": lambda texts: [[1.0, 0.0, 0.0]] * len(texts)}
    )
    await store.put(("t",), "a", {"v": 1}, ttl=1)
    await store.put(("t",), "b", {"v": 1}, ttl=1)
    await store.put(("t",), "c", {"v": 1}, ttl=100)

    clock.advance(minutes=2)

    assert await sweep(store) == 2
    assert await sweep(store) == 0
    assert [item.key for item in await store.search(("t",), query="x")] == ["c"]


async def test_put_with_ttl_then_get_keeps_the_timestamps(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open()
    await store.put(("t",), "k", {"v": 1}, ttl=10)

    item = await store.get(("t",), "k")

    assert item is not None
    assert item.created_at == datetime.fromtimestamp(clock.now, tz=timezone.utc)


# -- timestamps and ordering -------------------------------------------------------------------


async def test_put_stamps_items_with_the_store_clock(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open()
    await store.put(("t",), "k", {"v": 1})
    clock.advance(seconds=30)

    await store.put(("t",), "k", {"v": 2})

    item = await store.get(("t",), "k")
    assert item is not None
    assert item.updated_at == datetime.fromtimestamp(clock.now, tz=timezone.utc)


async def test_search_lists_the_most_recently_updated_items_first(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    store = await sql_factory.open()
    for key in ("a", "b", "c"):
        await store.put(("t",), key, {"v": key})
        clock.advance(seconds=1)

    await store.put(("t",), "a", {"v": "again"})

    assert [item.key for item in await store.search(("t",))] == ["a", "c", "b"]


# -- storage ------------------------------------------------------------------------------------


async def test_values_that_json_cannot_encode_are_rejected_with_advice(
    sql_factory: StoreFactory,
) -> None:
    store = await sql_factory.open()

    with pytest.raises(TypeError, match="not JSON-serializable"):
        await store.put(("t",), "k", {"v": object()})


async def test_dates_and_uuids_are_stored_as_strings(sql_factory: StoreFactory) -> None:
    import uuid

    store = await sql_factory.open()
    when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    ident = uuid.UUID(int=7)

    await store.put(("t",), "k", {"when": when, "id": ident})

    item = await store.get(("t",), "k")
    assert item is not None
    assert item.value == {"when": when.isoformat(), "id": str(ident)}


# -- not parametrised by backend ---------------------------------------------------------------


def test_items_survive_reopening_the_database(tmp_path: Path) -> None:
    path = str(tmp_path / "durable.db")
    with SqliteStore.from_conn_string(path) as store:
        store.put(("users", "1"), "prefs", {"theme": "dark"})

    with SqliteStore.from_conn_string(path) as store:
        item = store.get(("users", "1"), "prefs")
        assert item is not None and item.value == {"theme": "dark"}
        assert store.list_namespaces() == [("users", "1")]


def test_setup_creates_langgraph_compatible_tables_once(tmp_path: Path) -> None:
    path = str(tmp_path / "schema.db")
    with SqliteStore.from_conn_string(path) as store:
        store.setup()
        store.setup()
        store.put(("a", "b"), "k", {"v": 1}, ttl=5)

    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT prefix, key, value, ttl_minutes, expires_at IS NOT NULL FROM store"
        ).fetchone()
        columns = [info[1] for info in conn.execute("PRAGMA table_info(store_vectors)")]
        versions = conn.execute("SELECT v FROM store_migrations ORDER BY v").fetchall()
    finally:
        conn.close()
    assert row == ("a.b", "k", '{"v": 1}', 5.0, 1)
    assert columns[:4] == ["prefix", "key", "field_name", "embedding"]
    assert versions == [(0,), (1,), (2,), (3,), (4,)]


def test_a_custom_deserializer_reads_values() -> None:
    import json

    def loads(text: str | bytes) -> dict[str, Any]:
        return {"decoded": json.loads(text)}

    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    store = SqliteStore(conn, deserializer=loads)
    store.put(("t",), "k", {"v": 1})

    item = store.get(("t",), "k")

    assert item is not None and item.value == {"decoded": {"v": 1}}
    conn.close()


def test_threads_can_share_one_sqlite_store() -> None:
    with SqliteStore.from_conn_string(":memory:") as store:

        def write(worker: int) -> None:
            for number in range(20):
                store.put(("w", str(worker)), str(number), {"n": number})

        threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(store.list_namespaces()) == 4
        assert len(store.search(("w",), limit=100)) == 80


def test_a_failed_batch_writes_nothing() -> None:
    from stategraph.store.base import PutOp

    with SqliteStore.from_conn_string(":memory:") as store:
        with pytest.raises(TypeError):
            store.batch([PutOp(("t",), "good", {"v": 1}), PutOp(("t",), "bad", {"v": object()})])

        assert store.get(("t",), "good") is None


def test_the_sweeper_thread_starts_and_stops() -> None:
    with SqliteStore.from_conn_string(":memory:", ttl={"sweep_interval_minutes": 60}) as store:
        future = store.start_ttl_sweeper()

        assert store.stop_ttl_sweeper(timeout=5)
        assert future.result(timeout=5) is None


def test_without_ttl_config_no_sweeper_starts() -> None:
    with SqliteStore.from_conn_string(":memory:") as store:
        assert store.start_ttl_sweeper().done()


async def test_async_store_sweeper_task_starts_and_stops() -> None:
    async with AsyncSqliteStore.from_conn_string(
        ":memory:", ttl={"sweep_interval_minutes": 60}
    ) as store:
        task = await store.start_ttl_sweeper()

        assert await store.stop_ttl_sweeper(timeout=5)
        assert task.done()


async def test_async_store_sync_methods_work_from_other_threads() -> None:
    async with AsyncSqliteStore.from_conn_string(":memory:") as store:
        await store.aput(("t",), "k", {"v": 1})

        item = await asyncio.to_thread(store.get, ("t",), "k")

        assert item is not None and item.value == {"v": 1}


async def test_async_store_sync_methods_refuse_the_event_loop_thread() -> None:
    async with AsyncSqliteStore.from_conn_string(":memory:") as store:
        with pytest.raises(asyncio.InvalidStateError, match="await store.aget"):
            store.get(("t",), "k")


async def test_a_ttl_without_refresh_on_read_refreshes_as_langgraphs_store_of_that_kind(
    sql_factory: StoreFactory, clock: FakeClock
) -> None:
    # LangGraph's SqliteStore pushes expiry back on reads only with refresh_on_read=True
    # given outright; its PostgresStore (as the TTLConfig docs say) also when the key is absent.
    store = await sql_factory.open(ttl={"default_ttl": 10})
    await store.put(("t",), "k", {"v": 1})

    clock.advance(minutes=8)
    assert await store.get(("t",), "k") is not None
    clock.advance(minutes=3)

    refreshed = sql_factory.backend.startswith("postgres")
    assert (await store.get(("t",), "k") is not None) is refreshed


@pytest.mark.parametrize("namespace", [("a.b",), ("a", ""), ("a", 1)])
@pytest.mark.parametrize("kind", ["get", "put", "delete", "search", "prefix", "suffix"])
async def test_a_batch_with_an_op_on_an_impossible_namespace_is_refused_whole(
    sql_factory: StoreFactory, namespace: tuple[Any, ...], kind: str
) -> None:
    # Stored namespaces are dot-joined: ("a.b",) read as text would be ("a", "b").
    store = await sql_factory.open()
    await store.put(("a", "b"), "k", {"original": True})
    op = {
        "get": GetOp(namespace, "k"),
        "put": PutOp(namespace, "k", {"changed": True}),
        "delete": PutOp(namespace, "k", None),
        "search": SearchOp(namespace),
        "prefix": ListNamespacesOp((MatchCondition("prefix", namespace),)),
        "suffix": ListNamespacesOp((MatchCondition("suffix", namespace),)),
    }[kind]

    with pytest.raises(InvalidNamespaceError):
        await store.batch([PutOp(("fine",), "k", {"v": 1}), op])

    assert (await store.get(("a", "b"), "k")).value == {"original": True}
    assert await store.get(("fine",), "k") is None


def test_a_search_filter_key_crafted_as_sql_is_refused() -> None:
    # LangGraph's SqliteStore rule (its PostgresStore binds keys as parameters and has none).
    with SqliteStore.from_conn_string(":memory:") as store:
        store.put(("docs",), "public", {"access": "public", "user": {"tier-1": "x"}})
        key = "access') = 'public' OR '1'='1' OR json_extract(value, '$."

        with pytest.raises(ValueError, match="Invalid filter key: .*alphanumeric"):
            store.search(("docs",), filter={key: "public"})

        assert [i.key for i in store.search(("docs",), filter={"user.tier-1": "x"})] == ["public"]
