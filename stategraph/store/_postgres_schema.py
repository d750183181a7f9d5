"""The PostgreSQL store's schema: numbered migrations, and where vectors are kept.

Same tables, columns and migration counts as LangGraph's PostgreSQL store, so a database
set up by either opens in the other. ``setup_steps`` runs under a per-schema advisory lock,
so concurrent setups (several processes starting at once) apply each migration once.
Vectors live in a pgvector column when the extension exists or can be created, and
otherwise in a ``real[]`` column ranked in Python; the log says which, and why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from stategraph.store._drive import Execute, Steps
from stategraph.store._index import IndexPlan
from stategraph.store._postgres_config import VectorBackend

__all__ = ["MIGRATIONS", "VECTOR_MIGRATION_COUNT", "Attempt", "VectorColumn", "setup_steps"]

logger = logging.getLogger("stategraph.store.postgres")


@dataclass(frozen=True, slots=True)
class Attempt:
    """Run one statement in a savepoint; answered with None, or the error's text if it failed."""

    sql: str


# ttl_minutes is double precision (LangGraph: int) so fractional minutes survive; a table
# LangGraph made keeps its int column, which PostgreSQL fills by rounding.
MIGRATIONS = (
    """CREATE TABLE IF NOT EXISTS store (
        prefix text NOT NULL,
        key text NOT NULL,
        value jsonb NOT NULL,
        created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
        updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (prefix, key)
    )""",
    "CREATE INDEX IF NOT EXISTS store_prefix_idx ON store USING btree (prefix text_pattern_ops)",
    "ALTER TABLE store ADD COLUMN IF NOT EXISTS expires_at timestamp with time zone, "
    "ADD COLUMN IF NOT EXISTS ttl_minutes double precision",
    "CREATE INDEX IF NOT EXISTS idx_store_expires_at ON store (expires_at) "
    "WHERE expires_at IS NOT NULL",
)
VECTOR_MIGRATION_COUNT = 3  # extension, table, ANN index: LangGraph's numbering

_VECTOR_TABLE = """CREATE TABLE IF NOT EXISTS store_vectors (
    prefix text NOT NULL,
    key text NOT NULL,
    field_name text NOT NULL,
    embedding {column_type},
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (prefix, key, field_name),
    FOREIGN KEY (prefix, key) REFERENCES store (prefix, key) ON DELETE CASCADE
)"""

# One lock per schema: setups of one schema run one after another, setups of different
# schemas do not wait for each other. Held until the setup transaction ends.
_SETUP_LOCK = "SELECT pg_advisory_xact_lock(hashtext('stategraph.store:' || current_schema()))"


@dataclass(frozen=True, slots=True)
class VectorColumn:
    """Where vectors are kept: a schema-qualified pgvector type, or None for ``real[]``."""

    pgvector_type: Optional[str]

    @property
    def in_sql(self) -> bool:
        return self.pgvector_type is not None


def setup_steps(
    index: Optional[IndexPlan], vector_backend: VectorBackend
) -> Steps[Optional[VectorColumn]]:
    """Create or migrate the tables (one transaction); returns the vector column, if indexed."""
    yield Execute(_SETUP_LOCK)
    yield from _migrate("store_migrations", MIGRATIONS)
    if index is None:
        return None
    column = yield from _choose_vector_column(index, vector_backend)
    dims = int(index.config["dims"])
    column_type = f"{column.pgvector_type}({dims})" if column.pgvector_type else "real[]"
    # Version 0 (the extension) was dealt with by _choose_vector_column; version 2 (an ANN
    # index) is recorded without one, since searches rank exactly.
    yield from _migrate(
        "vector_migrations",
        ("SELECT 1", _VECTOR_TABLE.format(column_type=column_type), "SELECT 1"),
    )
    return column


def _migrate(table: str, migrations: Sequence[str]) -> Steps[None]:
    yield Execute(f"CREATE TABLE IF NOT EXISTS {table} (v INTEGER PRIMARY KEY)", fetch=False)
    rows = yield Execute(f"SELECT v FROM {table} ORDER BY v DESC LIMIT 1")
    applied = rows[0][0] if rows else -1
    for version, sql in enumerate(migrations):
        if version > applied:
            yield Execute(sql, fetch=False)
            yield Execute(f"INSERT INTO {table} (v) VALUES (%s)", (version,), fetch=False)


def _choose_vector_column(index: IndexPlan, vector_backend: VectorBackend) -> Steps[VectorColumn]:
    type_name = _pgvector_type_name(index)
    existing = yield Execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass('store_vectors') AND attname = 'embedding'"
    )
    schema = yield from _extension_schema()
    if existing:
        column_type = str(existing[0][0])
        kept = schema is not None and not column_type.endswith("[]")
        column = VectorColumn(f'"{schema}".{column_type.split("(")[0]}' if kept else None)
        _log_choice(column, f"store_vectors already exists with an embedding {column_type}")
        return column
    if vector_backend == "python":
        column = VectorColumn(None)
        _log_choice(column, "vector_backend='python' was asked for")
        return column
    reason = "the vector extension is installed"
    failure: Optional[str] = None
    if schema is None:
        failure = yield Attempt("CREATE EXTENSION IF NOT EXISTS vector")
        schema = yield from _extension_schema()
        reason = f"CREATE EXTENSION vector failed: {failure}" if failure else "it was created"
    if schema is None:
        if vector_backend == "pgvector":
            raise RuntimeError(
                f"vector_backend='pgvector' was asked for, but {reason}. Install pgvector on "
                "the server (e.g. the postgresql-<version>-pgvector package) or use "
                "vector_backend='auto' to rank in Python when it is absent."
            )
        column = VectorColumn(None)
        logger.warning(
            "PostgresStore vector search: exact cosine scan in Python, because %s. Install "
            "pgvector on the server to rank in SQL.",
            reason,
        )
        return column
    column = VectorColumn(f'"{schema}".{type_name}')
    _log_choice(column, reason)
    return column


def _pgvector_type_name(index: IndexPlan) -> str:
    ann = index.config.get("ann_index_config") or {}  # type: ignore[typeddict-item]
    type_name = str(ann.get("vector_type", "vector"))
    if type_name not in ("vector", "halfvec"):
        raise ValueError(
            f"ann_index_config vector_type={type_name!r} is not supported. "
            "Use 'vector' (default) or 'halfvec'."
        )
    return type_name


def _extension_schema() -> Steps[Optional[str]]:
    rows = yield Execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
        "ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
    )
    return str(rows[0][0]) if rows else None


def _log_choice(column: VectorColumn, reason: str) -> None:
    if column.in_sql:
        logger.info("PostgresStore vector search: pgvector (%s)", reason)
    else:
        logger.info("PostgresStore vector search: exact cosine scan in Python (%s)", reason)
