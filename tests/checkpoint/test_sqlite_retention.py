"""Retention particular to the SQLite savers: the file gives space back, old files migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from .conftest import make_checkpoint, thread_config

# The tables as SqliteSaver created them before the schema had numbered migrations.
SCHEMA_BEFORE_MIGRATIONS = (
    """CREATE TABLE checkpoints (
        thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL, parent_checkpoint_id TEXT, type TEXT, checkpoint BLOB,
        metadata TEXT, PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE checkpoint_blobs (
        thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL,
        version TEXT NOT NULL, type TEXT NOT NULL, blob BLOB, base_version TEXT,
        PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
    ) WITHOUT ROWID""",
    """CREATE TABLE writes (
        thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL, task_id TEXT NOT NULL, idx INTEGER NOT NULL,
        channel TEXT NOT NULL, type TEXT, value BLOB, task_path TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    ) WITHOUT ROWID""",
)
TABLES = ("checkpoints", "checkpoint_blobs", "writes")


def chat(saver: Any, turns: int, thread_id: str = "chat") -> dict[str, Any]:
    """A thread of ``turns`` checkpoints, each appending a question and an answer."""
    config: dict[str, Any] = thread_config(thread_id)
    previous = None
    messages: list[dict[str, str]] = []
    for turn in range(turns):
        messages = messages + [
            {"role": "user", "content": f"question {turn}: " + "q" * 120},
            {"role": "assistant", "content": f"answer {turn}: " + "a" * 240},
        ]
        checkpoint, versions = make_checkpoint(
            saver, {"messages": messages, "turn": turn}, previous, step=turn
        )
        config = saver.put(config, checkpoint, {"step": turn}, versions)
        previous = checkpoint
    return config


def file_bytes(conn: sqlite3.Connection) -> int:
    (page_count,), (page_size,) = (
        conn.execute("PRAGMA page_count").fetchone(),
        conn.execute("PRAGMA page_size").fetchone(),
    )
    return int(page_count * page_size)


def on_disk(path: Path) -> int:
    wal = Path(str(path) + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def count(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def make_database_before_migrations(path: Path, turns: int) -> None:
    """A file in the old layout (no migrations table, no auto-vacuum) holding a chat."""
    scratch = path.with_name("scratch.db")
    with SqliteSaver.from_conn_string(str(scratch)) as saver:
        chat(saver, turns)
    conn = sqlite3.connect(str(path))
    for statement in SCHEMA_BEFORE_MIGRATIONS:
        conn.execute(statement)
    conn.execute("ATTACH DATABASE ? AS scratch", (str(scratch),))
    for table in TABLES:
        conn.execute(f"INSERT INTO {table} SELECT * FROM scratch.{table}")
    conn.commit()
    conn.execute("DETACH DATABASE scratch")
    conn.close()


# -- giving space back --------------------------------------------------------------------------


def test_a_new_database_is_made_in_incremental_auto_vacuum_mode(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "db.sqlite")) as saver:
        saver.setup()
        assert saver.conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # INCREMENTAL


def test_a_pruned_300_turn_thread_reads_back_intact_from_a_much_smaller_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        chat(saver, 300)
        before = saver.get_tuple(thread_config("chat"))
        saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_before = on_disk(path)
        assert count(saver.conn, "SELECT count(*) FROM checkpoint_blobs WHERE base_version IS NOT NULL") > 100

        saver.prune(["chat"], strategy="keep_latest")

        assert count(saver.conn, "PRAGMA freelist_count") == 0
        assert on_disk(path) < size_before / 2
        assert count(saver.conn, "SELECT count(*) FROM checkpoint_blobs WHERE base_version IS NOT NULL") == 0
    with SqliteSaver.from_conn_string(str(path)) as cold:  # nothing cached
        after = cold.get_tuple(thread_config("chat"))
    assert after.checkpoint == before.checkpoint
    assert len(after.checkpoint["channel_values"]["messages"]) == 600


def test_sweeping_an_expired_thread_gives_its_pages_back(tmp_path: Path) -> None:
    now = [0.0]
    with SqliteSaver.from_conn_string(
        str(tmp_path / "db.sqlite"), ttl={"default_ttl": 1}, clock=lambda: now[0]
    ) as saver:
        chat(saver, 100, "expires")
        chat(saver, 2, "stays")
        size_before = file_bytes(saver.conn)
        now[0] += 30
        saver.get_tuple(thread_config("stays"))
        now[0] += 40
        assert saver.sweep_ttl() == 1
        assert file_bytes(saver.conn) < size_before / 2
        assert count(saver.conn, "PRAGMA freelist_count") == 0


def test_vacuum_gives_an_old_file_incremental_auto_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_database_before_migrations(path, 150)
    with SqliteSaver.from_conn_string(str(path)) as saver:
        before = saver.get_tuple(thread_config("chat"))
        size_before = file_bytes(saver.conn)
        saver.prune(["chat"])
        # Without auto-vacuum the freed pages stay in the file, to be reused by later writes.
        assert saver.conn.execute("PRAGMA auto_vacuum").fetchone() == (0,)
        assert file_bytes(saver.conn) == size_before
        assert count(saver.conn, "PRAGMA freelist_count") > 0
        saver.vacuum()
        assert saver.conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)
        assert file_bytes(saver.conn) < size_before / 2
        assert on_disk(path) == file_bytes(saver.conn)  # the WAL was emptied too
        assert saver.get_tuple(thread_config("chat")).checkpoint == before.checkpoint


async def test_the_async_saver_prunes_and_vacuums_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_database_before_migrations(path, 60)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        before = await saver.aget_tuple(thread_config("chat"))
        await saver.aprune(["chat"])
        await saver.avacuum()
        after = await saver.aget_tuple(thread_config("chat"))
        assert after.checkpoint == before.checkpoint
        assert after.parent_config is None
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)
    assert count(conn, "SELECT count(*) FROM checkpoints") == 1
    conn.close()


# -- transactions and other connections -----------------------------------------------------------


class FailingConnection(sqlite3.Connection):
    """Fails the last statement of a keep_latest prune, after all the deletes."""

    fail = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if self.fail and sql.startswith("UPDATE checkpoints SET parent_checkpoint_id = NULL"):
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        return super().execute(sql, *args)


def test_a_prune_that_fails_midway_leaves_the_thread_as_it_was(tmp_path: Path) -> None:
    conn = sqlite3.connect(
        str(tmp_path / "db.sqlite"), factory=FailingConnection, check_same_thread=False
    )
    saver = SqliteSaver(conn)
    chat(saver, 20)
    rows_before = [count(conn, f"SELECT count(*) FROM {table}") for table in TABLES]
    history = [item.checkpoint for item in saver.list(thread_config("chat"))]
    conn.fail = True
    with pytest.raises(sqlite3.OperationalError, match="simulated"):
        saver.prune(["chat"])
    conn.fail = False
    assert [count(conn, f"SELECT count(*) FROM {table}") for table in TABLES] == rows_before
    assert [item.checkpoint for item in saver.list(thread_config("chat"))] == history
    conn.close()


def test_a_delta_on_a_version_another_connection_pruned_is_stored_as_a_snapshot(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "db.sqlite")
    with SqliteSaver.from_conn_string(path) as writer, SqliteSaver.from_conn_string(path) as other:
        config = chat(writer, 5)
        stale = writer.get(config)  # the writer caches "messages" at this checkpoint's version
        newer, versions = make_checkpoint(
            other, {"messages": [*stale["channel_values"]["messages"], {"n": 1}]}, stale, step=6
        )
        other.put(config, newer, {}, versions)
        other.prune(["chat"])  # keeps other's checkpoint; the writer's cached version is gone
        appended = [*stale["channel_values"]["messages"], {"role": "user", "content": "late"}]
        checkpoint, versions = make_checkpoint(writer, {"messages": appended}, stale, step=7)
        late = writer.put(config, checkpoint, {}, versions)
    with SqliteSaver.from_conn_string(path) as cold:
        found = cold.get_tuple(late)
    assert found.checkpoint["channel_values"]["messages"] == appended


# -- migrations ------------------------------------------------------------------------------


def test_a_database_made_before_migrations_is_migrated_and_keeps_its_threads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    make_database_before_migrations(path, 10)
    now = [0.0]
    with SqliteSaver.from_conn_string(
        str(path), ttl={"default_ttl": 5}, clock=lambda: now[0]
    ) as saver:
        found = saver.get_tuple(thread_config("chat"))
        assert len(found.checkpoint["channel_values"]["messages"]) == 20
        assert len(list(saver.list(thread_config("chat")))) == 10
        applied = [v for (v,) in saver.conn.execute("SELECT v FROM checkpoint_migrations")]
        assert applied == list(range(len(applied))) and len(applied) >= 4
        now[0] += 6 * 60  # the read above gave the old thread an expiry
        assert saver.get_tuple(thread_config("chat")) is None
        assert saver.sweep_ttl() == 1


def test_migrations_run_once(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite")
    for _ in range(3):
        with SqliteSaver.from_conn_string(path) as saver:
            chat(saver, 1, f"thread-{_}")
    conn = sqlite3.connect(path)
    versions = [v for (v,) in conn.execute("SELECT v FROM checkpoint_migrations ORDER BY v")]
    assert versions == list(range(len(versions)))
    assert count(conn, "SELECT count(*) FROM checkpoints") == 3
    conn.close()


# -- ttl settings and the sweeper ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "message"),
    [
        ({"default_ttl": 0}, r"ttl\['default_ttl'\] must be a positive number"),
        ({"default_ttl": "60"}, r"ttl\['default_ttl'\] must be a positive number"),
        ({"default_ttl": 5, "sweep_interval_minutes": -1}, r"sweep_interval_minutes"),
        ({"default_tll": 5}, r"Unknown ttl setting\(s\) 'default_tll'.*'default_ttl'"),
    ],
)
def test_bad_ttl_settings_are_refused_naming_the_setting(
    ttl: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SqliteSaver(sqlite3.connect(":memory:"), ttl=ttl)  # type: ignore[arg-type]


def test_the_sweeper_thread_stops_with_the_saver(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(
        str(tmp_path / "db.sqlite"), ttl={"default_ttl": 1, "sweep_interval_minutes": 60}
    ) as saver:
        sweeping = saver.start_ttl_sweeper()
        assert not sweeping.done()
    assert sweeping.done() and sweeping.result() is None


async def test_the_sweeper_task_stops_with_the_async_saver(tmp_path: Path) -> None:
    async with AsyncSqliteSaver.from_conn_string(
        str(tmp_path / "db.sqlite"), ttl={"default_ttl": 1, "sweep_interval_minutes": 60}
    ) as saver:
        task = await saver.start_ttl_sweeper()
        assert not task.done()
    assert task.done() and not task.cancelled()
