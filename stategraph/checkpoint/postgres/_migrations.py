"""The PostgreSQL checkpoint schema, as numbered migrations, and the operation that applies them.

``stategraph_checkpoint_migrations`` records the versions applied (as LangGraph's
``checkpoint_migrations`` does). Setup takes a transaction-scoped advisory lock first, so two
processes setting up one database at the same moment run the migrations once, one after the
other, instead of racing on ``CREATE TABLE``. A migration is never edited once released: a change
to the schema is a new entry at the end of ``MIGRATIONS``.

The tables carry our own names, so a database that also holds LangGraph's ``checkpoints``
tables keeps both. Text keys use the "C" collation: ids and versions then sort byte by byte,
as they do in Python and SQLite, whatever the database's locale.
"""

from __future__ import annotations

from stategraph.checkpoint.postgres._driver import Operation, Query

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "MISSING_BASE_SQLSTATE", "setup"]

MIGRATIONS_TABLE = "stategraph_checkpoint_migrations"
# Raised by stategraph_checkpoint_missing_base: a delta's base row is gone (see _core.put_step).
MISSING_BASE_SQLSTATE = "SGD01"
# pg_advisory_xact_lock key of checkpoint setup (the bytes of "sgckpt01").
_SETUP_LOCK_KEY = 0x7367636B70743031

MIGRATIONS: tuple[str, ...] = (
    # One row per checkpoint, without its channel values. channel_versions is kept apart from
    # the serialized checkpoint (as JSON text, in its order) so that SQL can follow it to the
    # blobs: a read is one statement, and retention finds the rows a checkpoint needs.
    """
    CREATE TABLE stategraph_checkpoints (
        thread_id TEXT COLLATE "C" NOT NULL,
        checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
        checkpoint_id TEXT COLLATE "C" NOT NULL,
        parent_checkpoint_id TEXT COLLATE "C",
        type TEXT NOT NULL,
        checkpoint BYTEA NOT NULL,
        channel_versions JSON NOT NULL,
        metadata JSONB NOT NULL DEFAULT '{}',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id) WITH (fillfactor = 100)
    )
    """,
    # One row per channel version. A list that grew by appending holds only the new items and
    # names the version it extends (base_version); see stategraph.checkpoint._blobs. Keys lead
    # with the version, which grows step by step, so a thread's new rows go at the end of the
    # index and its pages are left full (fillfactor 100: rows are not updated in place).
    """
    CREATE TABLE stategraph_checkpoint_blobs (
        thread_id TEXT COLLATE "C" NOT NULL,
        checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
        channel TEXT COLLATE "C" NOT NULL,
        version TEXT COLLATE "C" NOT NULL,
        type TEXT NOT NULL,
        blob BYTEA NOT NULL,
        base_version TEXT COLLATE "C",
        PRIMARY KEY (thread_id, checkpoint_ns, version, channel) WITH (fillfactor = 100)
    )
    """,
    # Pending writes of each task, against the checkpoint the task ran from.
    """
    CREATE TABLE stategraph_checkpoint_writes (
        thread_id TEXT COLLATE "C" NOT NULL,
        checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
        checkpoint_id TEXT COLLATE "C" NOT NULL,
        task_id TEXT COLLATE "C" NOT NULL,
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        type TEXT NOT NULL,
        blob BYTEA NOT NULL,
        task_path TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
            WITH (fillfactor = 100)
    )
    """,
    # When each thread expires (seconds since the epoch), for savers made with ttl=.
    """
    CREATE TABLE stategraph_checkpoint_thread_ttl (
        thread_id TEXT COLLATE "C" PRIMARY KEY,
        expires_at DOUBLE PRECISION NOT NULL
    )
    """,
    "CREATE INDEX stategraph_checkpoint_thread_ttl_expires_at "
    "ON stategraph_checkpoint_thread_ttl (expires_at)",
    # Fails the statement that calls it. A pipelined step cannot wait to learn whether a delta
    # found its base row, so the insert calls this when it did not: the whole step rolls back
    # and the saver stores it again with full values.
    f"""
    CREATE OR REPLACE FUNCTION stategraph_checkpoint_missing_base(channel TEXT, version TEXT)
    RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        RAISE EXCEPTION 'channel % extends version %, which is no longer stored',
            channel, version USING ERRCODE = '{MISSING_BASE_SQLSTATE}';
    END
    $$
    """,
)


def setup() -> Operation[int]:
    """Apply the migrations not yet applied; returns the schema version now in place.

    Run it in a "serial" transaction: the lock and the migrations commit together.
    """
    yield Query("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK_KEY,))
    yield Query(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (v INTEGER PRIMARY KEY)", prepare=False
    )
    # Not prepared: run once per saver, and a statement prepared outside a caller's pipeline,
    # then run again inside it on the same connection, has come back with undecoded bytes.
    [(current,)] = yield Query(
        f"SELECT coalesce(max(v), -1) FROM {MIGRATIONS_TABLE}", fetch=True, prepare=False
    )
    for version in range(current + 1, len(MIGRATIONS)):
        yield Query(MIGRATIONS[version], prepare=False)
        yield Query(f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (%s)", (version,))
    return max(current, len(MIGRATIONS) - 1)
