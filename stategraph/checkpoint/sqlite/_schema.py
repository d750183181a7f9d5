"""The SQLite savers' schema, as numbered migrations, and the settings of their connection.

``checkpoint_migrations`` records the migrations applied. Databases made before it existed
already hold the tables of migrations 0-2; those are ``IF NOT EXISTS``, so they run again
harmlessly and the later ones bring such a database up to date. A released migration is never
edited: a change to the schema is a new entry at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

from stategraph.checkpoint.sqlite._core import EXPIRY_TABLE, Operation, Query

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "configure", "migrate"]

BUSY_TIMEOUT_MS = 5000
MIGRATIONS_TABLE = "checkpoint_migrations"

# WITHOUT ROWID: each table is one B-tree on its primary key, so a commit writes fewer
# pages (measured: ~15% faster puts, ~7% smaller files than rowid tables with a key index).
MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS checkpoints (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        parent_checkpoint_id TEXT,
        type TEXT,
        checkpoint BLOB,
        metadata TEXT,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS checkpoint_blobs (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL,
        version TEXT NOT NULL,
        type TEXT NOT NULL,
        blob BLOB,
        base_version TEXT,
        PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS writes (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        type TEXT,
        value BLOB,
        task_path TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    ) WITHOUT ROWID""",
    # When each thread expires, in seconds since the epoch (savers made with ttl=).
    f"""CREATE TABLE IF NOT EXISTS {EXPIRY_TABLE} (
        thread_id TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
    f"CREATE INDEX IF NOT EXISTS {EXPIRY_TABLE}_expires_at ON {EXPIRY_TABLE} (expires_at)",
)


def configure() -> Operation[None]:
    """Connection settings, outside any transaction: auto-vacuum for a new file, WAL,
    ``synchronous=NORMAL`` and a busy timeout."""
    (objects,) = (yield Query("SELECT count(*) FROM sqlite_master"))[0]
    if objects == 0:
        # Only an empty file can take it (and before WAL): afterwards it needs a VACUUM.
        # INCREMENTAL, not FULL: pages are given back when the savers ask, not on every commit.
        yield Query("PRAGMA auto_vacuum=INCREMENTAL", returns_rows=False)
    yield Query("PRAGMA journal_mode=WAL")
    yield Query("PRAGMA synchronous=NORMAL", returns_rows=False)
    (timeout,) = (yield Query("PRAGMA busy_timeout"))[0]
    if timeout < BUSY_TIMEOUT_MS:
        yield Query(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def migrate() -> Operation[int]:
    """Apply the migrations not yet applied (in a "write" transaction); returns the version."""
    yield Query(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (v INTEGER PRIMARY KEY)",
        returns_rows=False,
    )
    ((current,),) = yield Query(f"SELECT coalesce(max(v), -1) FROM {MIGRATIONS_TABLE}")
    for version in range(current + 1, len(MIGRATIONS)):
        yield Query(MIGRATIONS[version], returns_rows=False)
        yield Query(f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (?)", (version,), returns_rows=False)
    return max(int(current), len(MIGRATIONS) - 1)
