"""What is particular to the SQLite savers: SQL safety, transactions, threads, the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from .conftest import make_checkpoint, thread_config


def put_one(saver: Any, thread_id: str = "thread-1", values: Any = None) -> dict[str, Any]:
    checkpoint, versions = make_checkpoint(saver, values or {"a": 1})
    return saver.put(thread_config(thread_id), checkpoint, {"source": "loop", "step": 1}, versions)


@pytest.mark.parametrize(
    "key",
    [
        "x') OR 1=1 --",
        "source' OR '1'='1",
        '$.source") OR 1=1; DROP TABLE checkpoints; --',
        "step; DELETE FROM checkpoints",
    ],
)
def test_a_metadata_filter_key_crafted_as_sql_is_refused(tmp_path: Path, key: str) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        put_one(saver)
        with pytest.raises(ValueError, match="Invalid filter key: .*alphanumeric"):
            list(saver.list(None, filter={key: "loop"}))
        assert len(list(saver.list(None, filter={"source": "loop"}))) == 1  # table intact
        assert saver.conn.execute("SELECT count(*) FROM checkpoints").fetchone() == (1,)


@pytest.mark.parametrize("use_async", [False, True])
async def test_metadata_filter_keys_are_paths_into_nested_metadata(
    tmp_path: Path, use_async: bool
) -> None:
    metadata = {"access-level": "public", "user": {"access-level": "inner", "9x": [1]}, "2b": True}
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        checkpoint, versions = make_checkpoint(saver, {"a": 1})
        await saver.aput(thread_config(), checkpoint, metadata, versions)

        async def found(filter: dict[str, Any]) -> int:
            if use_async:
                return len([t async for t in saver.alist(None, filter=filter)])
            return await asyncio.to_thread(lambda: len(list(saver.list(None, filter=filter))))

        assert await found({"access-level": "public"}) == 1
        assert await found({"user.access-level": "inner"}) == 1
        assert await found({"user.9x": [1], "2b": True}) == 1
        assert await found({"user.access-level": "public"}) == 0
        assert await found({"user.missing": None}) == 0
        assert await found({"access-level.deeper": "public"}) == 0


def test_the_database_uses_wal_and_creates_its_tables_on_first_use(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        assert saver.get_tuple(thread_config()) is None
        assert saver.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {
            row[0]
            for row in saver.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"checkpoints", "checkpoint_blobs", "writes"} <= tables


class FailingConnection(sqlite3.Connection):
    """Fails the statement that stores the checkpoint row, after the blobs were written."""

    fail = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if self.fail and sql.startswith("INSERT OR REPLACE INTO checkpoints"):
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        return super().execute(sql, *args)


def test_a_put_that_fails_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    conn = sqlite3.connect(
        str(tmp_path / "db.sqlite"), factory=FailingConnection, check_same_thread=False
    )
    saver = SqliteSaver(conn)
    config = put_one(saver, values={"a": [1]})
    conn.fail = True
    previous = saver.get(config)
    checkpoint, versions = make_checkpoint(saver, {"a": [1, 2], "b": "new"}, previous)
    with pytest.raises(sqlite3.OperationalError, match="simulated"):
        saver.put(config, checkpoint, {}, versions)
    conn.fail = False
    assert conn.execute("SELECT count(*) FROM checkpoint_blobs").fetchone() == (1,)
    # The cache did not take the failed values: the next put from the same state still works.
    checkpoint, versions = make_checkpoint(saver, {"a": [1, 2, 3]}, previous)
    saver.put(config, checkpoint, {}, versions)
    assert saver.get(thread_config())["channel_values"]["a"] == [1, 2, 3]
    conn.close()


def test_put_writes_and_puts_from_many_threads(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        config = put_one(saver)
        errors: list[BaseException] = []

        def work(index: int) -> None:
            try:
                saver.put_writes(config, [("value", index)], f"task-{index:02}")
                put_one(saver, f"thread-{index}", {"n": [index]})
                assert saver.get(thread_config(f"thread-{index}"))["channel_values"]["n"] == [index]
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert [w[2] for w in saver.get_tuple(config).pending_writes] == list(range(8))


def test_task_path_is_stored(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        config = put_one(saver)
        saver.put_writes(config, [("a", 1)], "task-1", "~__pregel_pull, node")
        assert saver.conn.execute("SELECT task_path FROM writes").fetchall() == [
            ("~__pregel_pull, node",)
        ]


async def test_the_async_saver_refuses_sync_calls_from_its_event_loop(tmp_path: Path) -> None:
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        with pytest.raises(asyncio.InvalidStateError, match="async methods"):
            saver.get_tuple(thread_config())


async def test_the_async_saver_serves_sync_calls_from_other_threads(tmp_path: Path) -> None:
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        config = await asyncio.to_thread(put_one, saver)
        found = await asyncio.to_thread(saver.get_tuple, thread_config())
        assert found.config == config
        listed = await asyncio.to_thread(lambda: list(saver.list(None)))
        assert [t.config for t in listed] == [config]


def test_the_async_saver_refuses_sync_calls_when_its_loop_is_not_running(tmp_path: Path) -> None:
    """Instead of waiting for ever on a loop that will not run the call."""
    manager = AsyncSqliteSaver.from_conn_string(str(tmp_path / "db.sqlite"))
    opened_on = asyncio.new_event_loop()
    saver = opened_on.run_until_complete(manager.__aenter__())
    try:
        with pytest.raises(asyncio.InvalidStateError, match="event loop running"):
            saver.get_tuple(thread_config())
    finally:
        opened_on.run_until_complete(manager.__aexit__(None, None, None))
        opened_on.close()


async def test_sync_and_async_savers_share_one_database_format(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite")
    with SqliteSaver.from_conn_string(path) as sync_saver:
        config = put_one(sync_saver, values={"messages": ["a", "b"]})
        sync_saver.put_writes(config, [("x", 1)], "task")
    async with AsyncSqliteSaver.from_conn_string(path) as async_saver:
        found = await async_saver.aget_tuple(thread_config())
        assert found.checkpoint["channel_values"] == {"messages": ["a", "b"]}
        assert found.pending_writes == [("task", "x", 1)]
