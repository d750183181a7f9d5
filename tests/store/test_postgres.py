"""PostgreSQL stores: connecting, migrations, SQL filters as data, vector paths, batching, TTL.

The behaviour every store shares runs on PostgreSQL in test_stores.py (and the TTL tests in
test_sqlite.py); this file covers what only the PostgreSQL stores have.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from stategraph.errors import DatabaseConnectionError, InvalidNamespaceError
from stategraph.store.base import GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp
from stategraph.store.postgres import AsyncPostgresStore, PoolConfig, PostgresStore
from stategraph.store.postgres.base import VectorBackend

from _services import fresh_postgres_database

from .conftest import FakeClock, keyword_embed

INDEX: dict[str, Any] = {"dims": 3, "embed": keyword_embed, "fields": ["text"]}
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_postgres_database() as made:
        yield made


def pgvector_available(url: str) -> bool:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
    return bool(row and row[0])


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


# -- connecting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options", [{}, {"pipeline": True}, {"pool_config": PoolConfig(min_size=1, max_size=2)}]
)
def test_from_conn_string_opens_a_store_whose_items_outlive_it(
    url: str, options: dict[str, Any]
) -> None:
    with PostgresStore.from_conn_string(url, **options) as store:
        store.setup()
        store.put(("users", "1"), "prefs", {"theme": "dark"})

    with PostgresStore.from_conn_string(url) as reopened:
        item = reopened.get(("users", "1"), "prefs")

    assert item is not None and item.value == {"theme": "dark"}


@pytest.mark.parametrize(
    "options", [{}, {"pipeline": True}, {"pool_config": PoolConfig(min_size=1, max_size=2)}]
)
async def test_async_from_conn_string_opens_a_store_whose_items_outlive_it(
    url: str, options: dict[str, Any]
) -> None:
    async with AsyncPostgresStore.from_conn_string(url, **options) as store:
        await store.setup()
        await store.aput(("users", "1"), "prefs", {"theme": "dark"})

    async with AsyncPostgresStore.from_conn_string(url) as reopened:
        item = await reopened.aget(("users", "1"), "prefs")

    assert item is not None and item.value == {"theme": "dark"}


def test_connections_from_conn_string_give_users_dict_rows(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        row = store.conn.execute("SELECT 1 AS one").fetchone()  # type: ignore[union-attr]

    assert row == {"one": 1}


@pytest.mark.parametrize("options", [{}, {"pool_config": PoolConfig(min_size=1)}])
def test_an_unreachable_server_is_reported_with_its_host_and_port(
    options: dict[str, Any],
) -> None:
    with pytest.raises(DatabaseConnectionError, match=r"127\.0\.0\.1:1\b") as raised:
        with PostgresStore.from_conn_string(UNREACHABLE, **options):
            pass

    assert isinstance(raised.value, ConnectionError)
    assert "Check that the server is running" in str(raised.value)


@pytest.mark.parametrize("options", [{}, {"pool_config": PoolConfig(min_size=1)}])
async def test_async_an_unreachable_server_is_reported_with_its_host_and_port(
    options: dict[str, Any],
) -> None:
    with pytest.raises(DatabaseConnectionError, match=r"127\.0\.0\.1:1\b"):
        async with AsyncPostgresStore.from_conn_string(UNREACHABLE, **options):
            pass


def test_a_pool_with_a_pipeline_is_refused(url: str) -> None:
    from psycopg_pool import ConnectionPool

    with ConnectionPool(url, open=False) as pool:
        with pytest.raises(ValueError, match="only with a single Connection"):
            PostgresStore(pool, pipe=object())  # type: ignore[arg-type]


# -- migrations ----------------------------------------------------------------------------------


def test_setup_creates_langgraph_compatible_tables_and_is_idempotent(url: str) -> None:
    with PostgresStore.from_conn_string(url, index=INDEX) as store:
        store.setup()
        store.is_setup = False
        store.setup()

    assert rows(url, "SELECT v FROM store_migrations ORDER BY v") == [(0,), (1,), (2,), (3,)]
    assert rows(url, "SELECT v FROM vector_migrations ORDER BY v") == [(0,), (1,), (2,)]
    columns = rows(
        url,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_name IN ('store', 'store_vectors') ORDER BY table_name, ordinal_position",
    )
    assert [name for table, name in columns if table == "store"] == [
        "prefix", "key", "value", "created_at", "updated_at", "expires_at", "ttl_minutes",
    ]  # fmt: skip
    assert [name for table, name in columns if table == "store_vectors"] == [
        "prefix", "key", "field_name", "embedding", "created_at", "updated_at",
    ]  # fmt: skip


def test_concurrent_setups_apply_each_migration_once(url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def set_up() -> None:
        with PostgresStore.from_conn_string(url, index=INDEX) as store:
            barrier.wait(timeout=10)
            try:
                store.setup()
            except BaseException as error:  # reported below
                errors.append(error)

    threads = [threading.Thread(target=set_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert rows(url, "SELECT v FROM store_migrations ORDER BY v") == [(0,), (1,), (2,), (3,)]


# -- filters and namespaces reach SQL as data ------------------------------------------------------

HOSTILE = [
    "x'); DROP TABLE store; --",
    "%s",
    "a' OR '1'='1",
    '"value" ? \'k\'',
    "$.path[0]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_filter_key_or_value_written_as_sql_is_matched_as_data(url: str, text: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.put(("docs",), "hit", {text: text, "n": 1})
        store.put(("docs",), "miss", {"other": text, "n": 2})

        by_key = store.search(("docs",), filter={text: text})
        by_value = store.search(("docs",), filter={"other": {"$eq": text}})
        by_operator = store.search(("docs",), filter={text: {"$gte": text}})
        everything = store.search(("docs",), filter={"n": {"$gte": 1}})

    assert [item.key for item in by_key] == ["hit"]
    assert [item.key for item in by_value] == ["miss"]
    assert [item.key for item in by_operator] == ["hit"]
    assert sorted(item.key for item in everything) == ["hit", "miss"]
    assert rows(url, "SELECT count(*) FROM store") == [(2,)]


def test_like_wildcards_in_a_namespace_prefix_match_only_themselves(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.put(("a_c",), "1", {"v": 1})
        store.put(("abc",), "2", {"v": 2})
        store.put(("a%",), "3", {"v": 3})
        store.put(("a%x", "deep"), "4", {"v": 4})

        assert [item.key for item in store.search(("a_c",))] == ["1"]
        assert [item.key for item in store.search(("a%",))] == ["3"]


@pytest.mark.parametrize(
    "op",
    [
        GetOp(("a.b",), "k"),
        SearchOp(("ok", "")),
        ListNamespacesOp(match_conditions=(MatchCondition("prefix", ("a.b",)),)),
        PutOp(("x\x00y",), "k", {"v": 1}),
    ],
)
def test_ops_given_to_batch_directly_have_their_labels_checked(url: str, op: Any) -> None:
    with PostgresStore.from_conn_string(url) as store:
        with pytest.raises(InvalidNamespaceError):
            store.batch([op])


# -- vectors ---------------------------------------------------------------------------------------


def test_without_pgvector_search_ranks_in_python_and_says_so(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if pgvector_available(url):
        pytest.skip("pgvector is installed here; the fallback is not taken")
    with caplog.at_level(logging.INFO, logger="stategraph.store.postgres"):
        with PostgresStore.from_conn_string(url, index=INDEX) as store:
            store.put(("pets",), "c", {"text": "cat"})
            store.put(("pets",), "d", {"text": "dog"})
            found = store.search(("pets",), query="dog")
            uses_pgvector = store.uses_pgvector

    assert uses_pgvector is False
    assert [item.key for item in found] == ["d", "c"]
    [record] = [r for r in caplog.records if "vector search" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "exact cosine scan in Python" in record.getMessage()
    assert "CREATE EXTENSION vector failed" in record.getMessage()
    column_type = rows(
        url,
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'store_vectors' AND column_name = 'embedding'",
    )
    assert column_type == [("ARRAY",)]


def test_asking_for_pgvector_where_it_is_missing_names_the_fix(url: str) -> None:
    if pgvector_available(url):
        pytest.skip("pgvector is installed here")
    with PostgresStore.from_conn_string(url, index=INDEX, vector_backend="pgvector") as store:
        with pytest.raises(RuntimeError, match="Install pgvector on the server"):
            store.setup()


@pytest.mark.parametrize("backend", ["pgvector", "python"])
def test_both_vector_paths_rank_alike(url: str, backend: VectorBackend) -> None:
    if backend == "pgvector" and not pgvector_available(url):
        pytest.skip("pgvector is not installed on this PostgreSQL server")
    with PostgresStore.from_conn_string(url, index=INDEX, vector_backend=backend) as store:
        for key, text in [("c", "cat"), ("cd", "cat and dog"), ("d", "dog dog"), ("z", "")]:
            store.put(("pets",), key, {"text": text})
        store.put(("pets",), "hidden", {"text": "cat"}, index=False)
        found = store.search(("pets",), query="cat", limit=10)
        uses_pgvector = store.uses_pgvector

    assert uses_pgvector is (backend == "pgvector")
    assert [item.key for item in found][:2] == ["c", "cd"]
    assert [item.key for item in found][-1] == "hidden"
    assert found[0].score == pytest.approx(1.0)
    assert found[1].score == pytest.approx(2**-0.5)
    assert {item.key: item.score for item in found[2:4]} == {"d": 0.0, "z": 0.0}
    assert found[-1].score is None


def test_an_embedding_of_the_wrong_size_is_reported_with_the_configured_dims(url: str) -> None:
    index = {"dims": 4, "embed": keyword_embed, "fields": ["text"]}
    with PostgresStore.from_conn_string(url, index=index) as store:
        with pytest.raises(ValueError, match=r"vector of 3 floats.*dims=4"):
            store.put(("pets",), "c", {"text": "cat"})


def test_an_index_without_dims_or_with_another_distance_is_refused(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        with pytest.raises(ValueError, match="index needs 'dims'"):
            PostgresStore(store.conn, index={"embed": keyword_embed})  # type: ignore[typeddict-item]
        with pytest.raises(ValueError, match="distance_type='l2' is not supported"):
            PostgresStore(store.conn, index={**INDEX, "distance_type": "l2"})  # type: ignore[misc]


# -- batching and transactions ---------------------------------------------------------------------


def test_a_batch_of_many_operations_takes_a_handful_of_statements(url: str) -> None:
    import psycopg

    executed: list[str] = []

    class CountingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            executed.append(str(query))
            return super().execute(query, *args, **kwargs)

    with psycopg.Connection.connect(url, autocommit=True, cursor_factory=CountingCursor) as conn:
        store = PostgresStore(conn)
        store.setup()
        store.batch([PutOp(("n", str(i)), "k", {"i": i}) for i in range(30)])
        executed.clear()

        results = store.batch(
            [GetOp(("n", str(i)), "k") for i in range(30)]
            + [PutOp(("m", str(i)), "k", {"i": i}) for i in range(30)]
            + [ListNamespacesOp(max_depth=1), ListNamespacesOp(max_depth=2, limit=3)]
        )

    assert [result.value["i"] for result in results[:30]] == list(range(30))
    assert results[60] == [("n",)]
    assert len(executed) <= 4


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_failed_batch_writes_nothing_and_the_store_keeps_working(
    url: str, pipeline: bool
) -> None:
    with PostgresStore.from_conn_string(url, pipeline=pipeline) as store:
        store.put(("t",), "kept", {"v": 0})

        with pytest.raises(TypeError, match="not JSON-serializable"):
            store.batch(
                [
                    PutOp(("t",), "kept", None),
                    PutOp(("t",), "new", {"v": 1}),
                    PutOp(("t",), "bad", {"v": object()}),
                ]
            )
        store.put(("t",), "after", {"v": 2})

        assert sorted(item.key for item in store.search(("t",))) == ["after", "kept"]


def test_threads_can_share_one_store_on_one_connection(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.setup()

        def write(worker: int) -> None:
            for number in range(10):
                store.put(("w", str(worker)), str(number), {"n": number})

        threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert len(store.search(("w",), limit=100)) == 40


async def test_async_sync_methods_work_from_other_threads_and_not_on_the_loop(url: str) -> None:
    async with AsyncPostgresStore.from_conn_string(url) as store:
        await asyncio.to_thread(store.put, ("t",), "k", {"v": 1})
        item = await asyncio.to_thread(store.get, ("t",), "k")

        with pytest.raises(asyncio.InvalidStateError, match=r"await store\.aget"):
            store.get(("t",), "k")

    assert item is not None and item.value == {"v": 1}


# -- TTL sweeping ----------------------------------------------------------------------------------


def test_the_sweeper_thread_deletes_expired_items_until_stopped(url: str) -> None:
    import psycopg

    clock = FakeClock()
    swept = threading.Event()

    class ObservedStore(PostgresStore):
        def sweep_ttl(self) -> int:
            count = super().sweep_ttl()
            if count:
                swept.set()
            return count

    with psycopg.Connection.connect(url, autocommit=True) as conn:
        store = ObservedStore(conn, ttl={"sweep_interval_minutes": 1}, clock=clock)
        store.put(("t",), "old", {"v": 1}, ttl=1)
        store.put(("t",), "new", {"v": 1}, ttl=100)
        clock.advance(minutes=2)

        future = store.start_ttl_sweeper(sweep_interval_minutes=0.0005)
        assert swept.wait(timeout=10)
        assert store.stop_ttl_sweeper(timeout=10)

    assert future.done()
    assert rows(url, "SELECT key FROM store") == [("new",)]


async def test_the_async_sweeper_task_deletes_expired_items_until_stopped(url: str) -> None:
    import psycopg

    clock = FakeClock()
    swept = asyncio.Event()

    class ObservedStore(AsyncPostgresStore):
        async def sweep_ttl(self) -> int:
            count = await super().sweep_ttl()
            if count:
                swept.set()
            return count

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        store = ObservedStore(conn, ttl={"default_ttl": 1}, clock=clock)
        await store.aput(("t",), "old", {"v": 1})
        await store.aput(("t",), "forever", {"v": 1}, ttl=None)
        clock.advance(minutes=2)

        task = await store.start_ttl_sweeper(sweep_interval_minutes=0.0005)
        await asyncio.wait_for(swept.wait(), timeout=10)
        assert await store.stop_ttl_sweeper(timeout=10)

    assert task.done()
    assert rows(url, "SELECT key FROM store") == [("forever",)]
