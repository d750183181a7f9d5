"""Where the durable workloads keep their checkpoints: a SQLite file or a PostgreSQL database.

Both frameworks get the same backend, opened through their own saver class
(``<prefix>.checkpoint.sqlite.SqliteSaver`` / ``<prefix>.checkpoint.postgres.PostgresSaver``).
A PostgreSQL backend creates a database of its own on the local server and drops it after,
so runs never see each other's rows; its size is the total of every relation in it.
"""

import contextlib
import os
import sqlite3
import tempfile
import uuid
from typing import Any, Iterator, Protocol

from harness import Api

POSTGRES_ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


class Backend(Protocol):
    name: str

    def saver(self, api: Api, label: str) -> contextlib.AbstractContextManager[Any]:
        """A ready (set-up) saver on a store of its own, named ``label``."""

    def used_bytes(self, label: str, final: bool) -> int:
        """Bytes the store named ``label`` holds now (``final``: the run is over)."""


class SqliteBackend:
    name = "sqlite"

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.connections: dict[str, sqlite3.Connection] = {}

    def path(self, label: str) -> str:
        return os.path.join(self.folder, f"{label}.sqlite")

    @contextlib.contextmanager
    def saver(self, api: Api, label: str) -> Iterator[Any]:
        saver, conn = api.sqlite_saver(self.path(label))
        self.connections[label] = conn
        try:
            yield saver
        finally:
            conn.close()

    def used_bytes(self, label: str, final: bool) -> int:
        # Fold the WAL into the db file first, so sizes do not depend on WAL timing. Mid-run, a
        # PASSIVE checkpoint does it without shrinking the WAL (which the next turns would pay
        # for growing again, perturbing the timings being taken).
        conn = self.connections[label]
        conn.execute(f"PRAGMA wal_checkpoint({'TRUNCATE' if final else 'PASSIVE'})").fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * page_size


class PostgresBackend:
    name = "postgres"

    def __init__(self) -> None:
        self.dsns: dict[str, str] = {}

    @contextlib.contextmanager
    def saver(self, api: Api, label: str) -> Iterator[Any]:
        import psycopg

        database = f"bench_{label}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        dsn = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"
        self.dsns[label] = dsn
        try:
            with api.module("checkpoint.postgres").PostgresSaver.from_conn_string(dsn) as saver:
                saver.setup()
                yield saver
        finally:
            with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def used_bytes(self, label: str, final: bool) -> int:
        import psycopg

        with psycopg.connect(self.dsns[label], autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
        return int(row[0])


@contextlib.contextmanager
def open_backend(name: str) -> Iterator[Backend]:
    if name == "postgres":
        yield PostgresBackend()
        return
    with tempfile.TemporaryDirectory() as folder:
        yield SqliteBackend(folder)
