"""The SQLite store without I/O: its schema, and each batch as a generator of SQL requests.

``SqliteStore`` (sqlite3) and ``AsyncSqliteStore`` (aiosqlite) run these generators with
``drive``/``adrive``; everything they decide (SQL, TTL arithmetic, filtering, ranking) is here.
Tables match LangGraph's SQLite store: ``store(prefix, key, value, created_at, updated_at,
expires_at, ttl_minutes)`` and ``store_vectors(prefix, key, field_name, embedding)``, with
``prefix`` the dot-joined namespace. Every value reaches SQL as a parameter.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, Union

from stategraph._filter_keys import validate_filter_key
from stategraph.store._config import IndexConfig, TTLConfig
from stategraph.store._drive import EmbedQueries, EmbedTexts, Execute, Steps
from stategraph.store._filter import matches_filter
from stategraph.store._index import (
    IndexPlan,
    make_index_plan,
    rank_by_similarity,
    require_index,
    vector_slots,
)
from stategraph.store._json import dump_value
from stategraph.store._item import Item, SearchItem
from stategraph.store._namespaces import list_matching_namespaces
from stategraph.store._ops import GetOp, ListNamespacesOp, Op, PutOp, Result, SearchOp
from stategraph.store._validate_ops import validate_op_namespace

__all__ = ["Deserializer", "SqliteCore"]

Deserializer = Callable[[Union[str, bytes]], dict[str, Any]]

# Same tables, columns and migration count as LangGraph's SQLite store, so a database
# written by either can be opened by the other.
MIGRATIONS = (
    """CREATE TABLE IF NOT EXISTS store (
        prefix TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (prefix, key)
    )""",
    "CREATE INDEX IF NOT EXISTS store_prefix_idx ON store (prefix)",
    "ALTER TABLE store ADD COLUMN expires_at TIMESTAMP",
    "ALTER TABLE store ADD COLUMN ttl_minutes REAL",
    "CREATE INDEX IF NOT EXISTS idx_store_expires_at ON store (expires_at) "
    "WHERE expires_at IS NOT NULL",
)
VECTOR_MIGRATIONS = (
    """CREATE TABLE IF NOT EXISTS store_vectors (
        prefix TEXT NOT NULL,
        key TEXT NOT NULL,
        field_name TEXT NOT NULL,
        embedding BLOB,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (prefix, key, field_name),
        FOREIGN KEY (prefix, key) REFERENCES store (prefix, key) ON DELETE CASCADE
    )""",
)

_NOT_EXPIRED = "(expires_at IS NULL OR expires_at > ?)"
_ITEM_COLUMNS = "prefix, key, value, created_at, updated_at, ttl_minutes"


class SqliteCore:
    """What a SQLite store knows besides its connection: index, TTL settings and clock."""

    def __init__(
        self,
        *,
        index: Optional[IndexConfig],
        ttl: Optional[TTLConfig],
        clock: Callable[[], float] = time.time,
        deserializer: Optional[Deserializer] = None,
    ) -> None:
        self.index: Optional[IndexPlan] = make_index_plan(index)
        self.ttl = ttl
        # As LangGraph's SqliteStore: reads push expiry back only when the ttl says
        # refresh_on_read=True outright (its other stores take a missing key as True).
        self.refreshes_on_read = bool(ttl and ttl.get("refresh_on_read", False))
        self.clock = clock
        self.loads: Deserializer = deserializer or json.loads

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), tz=dt.timezone.utc)

    # -- setup and sweeping -------------------------------------------------------------

    def setup_steps(self) -> Steps[None]:
        """Create or migrate the tables (run inside one transaction)."""
        for table, migrations in (
            ("store_migrations", MIGRATIONS),
            ("vector_migrations", VECTOR_MIGRATIONS),
        ):
            yield Execute(f"CREATE TABLE IF NOT EXISTS {table} (v INTEGER PRIMARY KEY)")
            rows = yield Execute(f"SELECT v FROM {table} ORDER BY v DESC LIMIT 1")
            applied = rows[0][0] if rows else -1
            for version, sql in enumerate(migrations):
                if version > applied:
                    yield Execute(sql)
                    yield Execute(f"INSERT INTO {table} (v) VALUES (?)", (version,))

    def sweep_steps(self) -> Steps[int]:
        """Delete expired items and their vectors; returns how many items were deleted."""
        now = _db_time(self.now())
        expired = "expires_at IS NOT NULL AND expires_at <= ?"
        rows = yield Execute(f"SELECT COUNT(*) FROM store WHERE {expired}", (now,))
        yield Execute(
            "DELETE FROM store_vectors WHERE EXISTS (SELECT 1 FROM store s WHERE "
            "s.prefix = store_vectors.prefix AND s.key = store_vectors.key AND "
            "s.expires_at IS NOT NULL AND s.expires_at <= ?)",
            (now,),
        )
        yield Execute(f"DELETE FROM store WHERE {expired}", (now,))
        count: int = rows[0][0]
        return count

    # -- batches ------------------------------------------------------------------------

    def batch_steps(self, ops: Iterable[Op]) -> Steps[list[Result]]:
        """One batch: embeddings first (outside any transaction), then reads, then writes.

        Reads see the store as it was before the batch's writes, as in LangGraph.
        """
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for op in ops:
            validate_op_namespace(op)
            if isinstance(op, SearchOp):
                for key in op.filter or ():
                    validate_filter_key(key)
            if isinstance(op, PutOp):
                puts[(tuple(op.namespace), op.key)] = op
            elif not isinstance(op, (GetOp, SearchOp, ListNamespacesOp)):
                raise ValueError(f"Unknown operation type: {type(op).__name__}")

        queries = tuple({op.query: None for op in ops if isinstance(op, SearchOp) and op.query})
        require_index(self.index, queries, "SqliteStore")
        query_vectors = dict(zip(queries, (yield EmbedQueries(queries)))) if queries else {}
        slots = vector_slots(self.index, puts.values()) if self.index else []
        vectors = (yield EmbedTexts(tuple(slot.text for slot in slots))) if slots else []
        if len(vectors) != len(slots):
            raise ValueError(
                f"The embedding function returned {len(vectors)} vectors for {len(slots)} "
                "texts. It must return exactly one vector per input text."
            )

        now = self.now()
        for position, op in enumerate(ops):
            if isinstance(op, GetOp):
                results[position] = yield from self._get(op, now)
            elif isinstance(op, SearchOp):
                query_vector = query_vectors.get(op.query) if op.query else None
                results[position] = yield from self._search(op, query_vector, now)
            elif isinstance(op, ListNamespacesOp):
                rows = yield Execute(
                    f"SELECT DISTINCT prefix FROM store WHERE {_NOT_EXPIRED}", (_db_time(now),)
                )
                results[position] = list_matching_namespaces(
                    (_namespace(row[0]) for row in rows), op
                )

        for op in puts.values():
            yield from self._put(op, now)
        for slot, vector in zip(slots, vectors):
            yield Execute(
                "INSERT OR REPLACE INTO store_vectors "
                "(prefix, key, field_name, embedding, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    _prefix(slot.namespace),
                    slot.key,
                    slot.field_name,
                    _vector_blob(vector),
                    _db_time(now),
                    _db_time(now),
                ),
            )
        return results

    def _get(self, op: GetOp, now: dt.datetime) -> Steps[Optional[Item]]:
        rows = yield Execute(
            f"SELECT {_ITEM_COLUMNS} FROM store WHERE prefix = ? AND key = ? AND {_NOT_EXPIRED}",
            (_prefix(op.namespace), op.key, _db_time(now)),
        )
        if not rows:
            return None
        if op.refresh_ttl and self.refreshes_on_read:
            yield from self._refresh([rows[0]], now)
        return self._item(rows[0])

    def _search(
        self, op: SearchOp, query_vector: Optional[list[float]], now: dt.datetime
    ) -> Steps[list[SearchItem]]:
        where, params = _prefix_clause(op.namespace_prefix)
        rows = yield Execute(
            f"SELECT {_ITEM_COLUMNS} FROM store WHERE {where} AND {_NOT_EXPIRED} "
            "ORDER BY updated_at DESC, rowid DESC",
            (*params, _db_time(now)),
        )
        candidates = [(row, self.loads(row[2])) for row in rows]
        matching = [(row, value) for row, value in candidates if matches_filter(value, op.filter)]
        window: Sequence[tuple[tuple[Any, ...], Optional[float]]]
        if query_vector is None:
            window = [(row, None) for row, _ in matching[op.offset : op.offset + op.limit]]
        else:
            vector_rows = yield Execute(
                f"SELECT prefix, key, embedding FROM store_vectors WHERE {where}", params
            )
            vectors: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
            for prefix, key, blob in vector_rows:
                vectors[(prefix, key)].append(_vector_from_blob(blob))
            window = rank_by_similarity(
                [(row, vectors.get((row[0], row[1]), [])) for row, _ in matching],
                query_vector,
                offset=op.offset,
                limit=op.limit,
            )
        if op.refresh_ttl and self.refreshes_on_read:
            yield from self._refresh([row for row, _ in window], now)
        values = {id(row): value for row, value in matching}
        return [_search_item(row, values[id(row)], score) for row, score in window]

    def _refresh(self, rows: Sequence[tuple[Any, ...]], now: dt.datetime) -> Steps[None]:
        # Reading an item with a TTL pushes its expiry to now + its TTL.
        for row in rows:
            ttl_minutes = row[5]
            if ttl_minutes is not None:
                expires = _db_time(now + dt.timedelta(minutes=ttl_minutes))
                yield Execute(
                    "UPDATE store SET expires_at = ? WHERE prefix = ? AND key = ?",
                    (expires, row[0], row[1]),
                )

    def _put(self, op: PutOp, now: dt.datetime) -> Steps[None]:
        prefix = _prefix(op.namespace)
        yield Execute("DELETE FROM store_vectors WHERE prefix = ? AND key = ?", (prefix, op.key))
        if op.value is None:
            yield Execute("DELETE FROM store WHERE prefix = ? AND key = ?", (prefix, op.key))
            return
        expires = None if op.ttl is None else _db_time(now + dt.timedelta(minutes=op.ttl))
        yield Execute(
            "INSERT INTO store "
            "(prefix, key, value, created_at, updated_at, expires_at, ttl_minutes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value, "
            "created_at = excluded.created_at, updated_at = excluded.updated_at, "
            "expires_at = excluded.expires_at, ttl_minutes = excluded.ttl_minutes",
            (prefix, op.key, dump_value(op.value), _db_time(now), _db_time(now), expires, op.ttl),
        )

    def _item(self, row: tuple[Any, ...]) -> Item:
        return Item(
            namespace=_namespace(row[0]),
            key=row[1],
            value=self.loads(row[2]),
            created_at=_from_db_time(row[3]),
            updated_at=_from_db_time(row[4]),
        )


def _search_item(row: tuple[Any, ...], value: dict[str, Any], score: Optional[float]) -> SearchItem:
    return SearchItem(
        namespace=_namespace(row[0]),
        key=row[1],
        value=value,
        created_at=_from_db_time(row[3]),
        updated_at=_from_db_time(row[4]),
        score=score,
    )


def _prefix(namespace: Sequence[str]) -> str:
    return ".".join(namespace)


def _namespace(prefix: str) -> tuple[str, ...]:
    return tuple(prefix.split("."))


def _prefix_clause(namespace_prefix: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """SQL selecting rows at or below a namespace (whole labels: ("a",) excludes ("ab",))."""
    if not namespace_prefix:
        return "1 = 1", ()
    text = _prefix(namespace_prefix)
    below = text + "."
    return "(prefix = ? OR substr(prefix, 1, ?) = ?)", (text, len(below), below)


def _db_time(moment: dt.datetime) -> str:
    # UTC text that sorts like time and that SQLite's date functions read.
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _from_db_time(text: Union[str, dt.datetime]) -> dt.datetime:
    moment = text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _vector_blob(vector: Sequence[float]) -> bytes:
    # Little-endian float32, the layout sqlite-vec (LangGraph's SQLite store) uses.
    return struct.pack(f"<{len(vector)}f", *vector)


def _vector_from_blob(blob: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))
