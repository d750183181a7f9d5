"""The PostgreSQL store without I/O: each batch as a generator of SQL requests.

``PostgresStore`` (psycopg) and ``AsyncPostgresStore`` (psycopg async) run these generators
with ``drive``/``adrive``, exactly as the SQLite stores run ``SqliteCore``; the tables are
in ``_postgres_schema``. ``prefix`` is the dot-joined namespace. Filters run in SQL
(``_postgres_filter``); every key and value reaches SQL as a bound parameter. Vectors rank
by cosine similarity, in SQL with pgvector or in Python without it, with the same scores.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, Union

from stategraph.store._config import IndexConfig, TTLConfig
from stategraph.store._drive import EmbedQueries, EmbedTexts, Execute, Steps
from stategraph.store._index import (
    IndexPlan,
    VectorSlot,
    make_index_plan,
    rank_by_similarity,
    require_index,
    vector_slots,
)
from stategraph.store._item import Item, SearchItem
from stategraph.store._json import dump_value
from stategraph.store._namespaces import list_matching_namespaces
from stategraph.store._ops import GetOp, ListNamespacesOp, Op, PutOp, Result, SearchOp
from stategraph.store._postgres_config import VectorBackend
from stategraph.store._postgres_filter import Fragment, filter_condition
from stategraph.store._postgres_schema import VectorColumn, setup_steps
from stategraph.store._validate_ops import validate_op_namespace

__all__ = ["Deserializer", "PostgresCore"]

Deserializer = Callable[[Union[str, bytes]], dict[str, Any]]

_NOT_EXPIRED = "(expires_at IS NULL OR expires_at > %s)"
_ITEM_COLUMNS = "prefix, key, value::text, created_at, updated_at, ttl_minutes"
_PAIRS = "(prefix, key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
_NEWEST_FIRST = "updated_at DESC, prefix DESC, key DESC"


class PostgresCore:
    """What a PostgreSQL store knows besides its connection: index, TTL, clock, vector path."""

    def __init__(
        self,
        *,
        index: Optional[IndexConfig],
        ttl: Optional[TTLConfig],
        clock: Callable[[], float] = time.time,
        deserializer: Optional[Deserializer] = None,
        vector_backend: VectorBackend = "auto",
    ) -> None:
        if index and index.get("distance_type", "cosine") != "cosine":
            raise ValueError(
                f"distance_type={index.get('distance_type')!r} is not supported: stategraph's "
                "PostgresStore ranks by cosine similarity on every vector path, so scores are "
                "the same with and without pgvector. Remove distance_type or set 'cosine'."
            )
        if index and not isinstance(index.get("dims"), int):
            raise ValueError(
                f"index needs 'dims', the number of floats in each vector (got "
                f"{index.get('dims')!r}): e.g. index={{'dims': 1536, 'embed': ..., "
                "'fields': ['text']}."
            )
        if vector_backend not in ("auto", "pgvector", "python"):
            raise ValueError(
                f"vector_backend={vector_backend!r} is not one of 'auto', 'pgvector', 'python'."
            )
        self.index: Optional[IndexPlan] = make_index_plan(index)
        self.ttl = ttl
        self.clock = clock
        self.loads: Deserializer = deserializer or json.loads
        self.vector_backend = vector_backend
        self.vectors: Optional[VectorColumn] = None  # known after setup

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), tz=dt.timezone.utc)

    @property
    def uses_pgvector(self) -> Optional[bool]:
        """True/False once setup has chosen the vector path; None before, or without index."""
        return None if self.vectors is None else self.vectors.in_sql

    # -- setup and sweeping -------------------------------------------------------------

    def setup_steps(self) -> Steps[None]:
        """Create or migrate the tables, and learn where vectors are kept."""
        self.vectors = yield from setup_steps(self.index, self.vector_backend)

    def sweep_steps(self) -> Steps[int]:
        """Delete expired items (their vectors go by cascade); returns how many."""
        rows = yield Execute(
            "WITH gone AS (DELETE FROM store WHERE expires_at IS NOT NULL AND expires_at <= %s "
            "RETURNING 1) SELECT count(*) FROM gone",
            (self.now(),),
        )
        count: int = rows[0][0]
        return count

    # -- batches ------------------------------------------------------------------------

    def batch_steps(self, ops: Iterable[Op]) -> Steps[list[Result]]:
        """One batch: embeddings first (before any statement), then reads, then writes.

        Reads see the store as it was before the batch's writes, as in LangGraph. All gets
        take one statement, all namespace listings one, each search one, and the writes a
        fixed handful whatever their number.
        """
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for op in ops:
            validate_op_namespace(op)
            if isinstance(op, PutOp):
                puts[(tuple(op.namespace), op.key)] = op
            elif not isinstance(op, (GetOp, SearchOp, ListNamespacesOp)):
                raise ValueError(f"Unknown operation type: {type(op).__name__}")

        queries = tuple({op.query: None for op in ops if isinstance(op, SearchOp) and op.query})
        require_index(self.index, queries, "PostgresStore")
        query_vectors = dict(zip(queries, (yield EmbedQueries(queries)))) if queries else {}
        slots = vector_slots(self.index, puts.values()) if self.index else []
        vectors = (yield EmbedTexts(tuple(slot.text for slot in slots))) if slots else []
        if len(vectors) != len(slots):
            raise ValueError(
                f"The embedding function returned {len(vectors)} vectors for {len(slots)} "
                "texts. It must return exactly one vector per input text."
            )
        dims = int(self.index.config.get("dims", 0)) if self.index else 0
        wrong = next((len(vector) for vector in vectors if dims and len(vector) != dims), None)
        if wrong is not None:
            raise ValueError(
                f"The embedding function returned a vector of {wrong} floats, but the index "
                f"was configured with dims={dims}. Set index={{'dims': {wrong}, ...}} to match "
                "the model (or use a model that makes vectors of that size)."
            )

        now = self.now()
        to_refresh: list[tuple[str, str]] = []
        gets = [(position, op) for position, op in enumerate(ops) if isinstance(op, GetOp)]
        if gets:
            yield from self._get_all(gets, results, to_refresh, now)
        for position, op in enumerate(ops):
            if isinstance(op, SearchOp):
                query_vector = query_vectors.get(op.query) if op.query else None
                results[position] = yield from self._search(op, query_vector, to_refresh, now)
        listings = [(p, op) for p, op in enumerate(ops) if isinstance(op, ListNamespacesOp)]
        if listings:
            rows = yield Execute(f"SELECT DISTINCT prefix FROM store WHERE {_NOT_EXPIRED}", (now,))
            held = [_namespace(row[0]) for row in rows]
            for position, listing in listings:
                results[position] = list_matching_namespaces(held, listing)
        if to_refresh:
            # Reading an item with a TTL pushes its expiry to now + its TTL.
            yield Execute(
                "UPDATE store SET expires_at = %s + ttl_minutes * interval '1 minute' "
                f"WHERE ttl_minutes IS NOT NULL AND {_PAIRS}",
                (now, *_columns(to_refresh, 2)),
                fetch=False,
            )
        if puts:
            yield from self._put_all(list(puts.values()), now)
        if slots:
            yield from self._put_vectors(slots, vectors, now)
        return results

    def _get_all(
        self,
        gets: Sequence[tuple[int, GetOp]],
        results: list[Result],
        to_refresh: list[tuple[str, str]],
        now: dt.datetime,
    ) -> Steps[None]:
        wanted = {(_prefix(op.namespace), op.key) for _, op in gets}
        rows = yield Execute(
            f"SELECT {_ITEM_COLUMNS} FROM store WHERE {_PAIRS} AND {_NOT_EXPIRED}",
            (*_columns(wanted, 2), now),
        )
        found = {(row[0], row[1]): row for row in rows}
        for position, op in gets:
            row = found.get((_prefix(op.namespace), op.key))
            if row is None:
                continue
            results[position] = self._item(row)
            if op.refresh_ttl and row[5] is not None:
                to_refresh.append((row[0], row[1]))

    def _search(
        self,
        op: SearchOp,
        query_vector: Optional[list[float]],
        to_refresh: list[tuple[str, str]],
        now: dt.datetime,
    ) -> Steps[list[SearchItem]]:
        where = (
            _prefix_condition(op.namespace_prefix)
            + Fragment(f" AND {_NOT_EXPIRED} AND ", (now,))
            + filter_condition(op.filter)
        )
        window: Sequence[tuple[tuple[Any, ...], Optional[float]]]
        if query_vector is None:
            rows = yield Execute(
                f"SELECT {_ITEM_COLUMNS} FROM store WHERE {where.sql} ORDER BY {_NEWEST_FIRST} "
                "LIMIT %s OFFSET %s",
                (*where.params, op.limit, op.offset),
            )
            window = [(row, None) for row in rows]
        elif self._vectors().in_sql:
            window = yield from self._rank_in_sql(where, op, query_vector)
        else:
            # Without pgvector: the matching rows and their vectors, ranked in Python.
            rows = yield Execute(
                f"SELECT {_ITEM_COLUMNS} FROM store WHERE {where.sql} ORDER BY {_NEWEST_FIRST}",
                where.params,
            )
            vector_rows = yield Execute(
                "SELECT prefix, key, embedding FROM store_vectors WHERE (prefix, key) IN "
                f"(SELECT prefix, key FROM store WHERE {where.sql})",
                where.params,
            )
            by_item: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
            for prefix_text, key, embedding in vector_rows:
                if embedding is not None:
                    by_item[(prefix_text, key)].append(list(embedding))
            window = rank_by_similarity(
                [(row, by_item.get((row[0], row[1]), [])) for row in rows],
                query_vector,
                offset=op.offset,
                limit=op.limit,
            )
        if op.refresh_ttl:
            to_refresh.extend((row[0], row[1]) for row, _ in window if row[5] is not None)
        return [_search_item(row, self.loads(row[2]), score) for row, score in window]

    def _rank_in_sql(
        self, where: Fragment, op: SearchOp, query_vector: list[float]
    ) -> Steps[list[tuple[tuple[Any, ...], Optional[float]]]]:
        vector_type = self._vectors().pgvector_type
        assert vector_type is not None
        schema = vector_type.rsplit(".", 1)[0]
        # Each item scores its best vector, as rank_by_similarity does. pgvector's cosine
        # distance is NaN for a zero vector, which _index scores 0.0.
        score = (
            f"max(COALESCE(NULLIF(1 - (v.embedding OPERATOR({schema}.<=>) %s::{vector_type}), "
            "'NaN'::float8), 0))"
        )
        rows = yield Execute(
            f"SELECT s.*, best.score FROM (SELECT {_ITEM_COLUMNS} FROM store "
            f"WHERE {where.sql}) AS s LEFT JOIN LATERAL (SELECT {score} AS score "
            "FROM store_vectors v WHERE v.prefix = s.prefix AND v.key = s.key) AS best ON TRUE "
            f"ORDER BY best.score DESC NULLS LAST, {_NEWEST_FIRST} LIMIT %s OFFSET %s",
            (*where.params, _vector_text(query_vector), op.limit, op.offset),
        )
        return [(tuple(row[:6]), None if row[6] is None else float(row[6])) for row in rows]

    def _put_all(self, puts: Sequence[PutOp], now: dt.datetime) -> Steps[None]:
        keys = [(_prefix(op.namespace), op.key) for op in puts]
        if self.index is not None:
            yield Execute(
                f"DELETE FROM store_vectors WHERE {_PAIRS}", _columns(keys, 2), fetch=False
            )
        deleted = [pair for pair, op in zip(keys, puts) if op.value is None]
        if deleted:
            yield Execute(f"DELETE FROM store WHERE {_PAIRS}", _columns(deleted, 2), fetch=False)
        upserts = [
            (
                prefix,
                key,
                dump_value(op.value),
                None if op.ttl is None else now + dt.timedelta(minutes=op.ttl),
                None if op.ttl is None else float(op.ttl),
            )
            for (prefix, key), op in zip(keys, puts)
            if op.value is not None
        ]
        if upserts:
            yield Execute(
                "INSERT INTO store "
                "(prefix, key, value, created_at, updated_at, expires_at, ttl_minutes) "
                "SELECT p, k, v::jsonb, %s, %s, e, t FROM unnest(%s::text[], %s::text[], "
                "%s::text[], %s::timestamptz[], %s::float8[]) AS u(p, k, v, e, t) "
                "ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value, "
                "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                "expires_at = excluded.expires_at, ttl_minutes = excluded.ttl_minutes",
                (now, now, *_columns(upserts, 5)),
                fetch=False,
            )

    def _put_vectors(
        self, slots: Sequence[VectorSlot], vectors: Sequence[Sequence[float]], now: dt.datetime
    ) -> Steps[None]:
        vector_type = self._vectors().pgvector_type
        if vector_type:
            texts = [_vector_text(vector) for vector in vectors]
            column_type = vector_type
        else:
            texts = ["{" + ",".join(repr(float(x)) for x in vector) + "}" for vector in vectors]
            column_type = "real[]"
        rows = [
            (_prefix(slot.namespace), slot.key, slot.field_name, text)
            for slot, text in zip(slots, texts)
        ]
        yield Execute(
            "INSERT INTO store_vectors (prefix, key, field_name, embedding, created_at, "
            f"updated_at) SELECT p, k, f, e::{column_type}, %s, %s FROM unnest(%s::text[], "
            "%s::text[], %s::text[], %s::text[]) AS u(p, k, f, e) "
            "ON CONFLICT (prefix, key, field_name) DO UPDATE SET "
            "embedding = excluded.embedding, updated_at = excluded.updated_at",
            (now, now, *_columns(rows, 4)),
            fetch=False,
        )

    def _vectors(self) -> VectorColumn:
        if self.vectors is None:
            raise RuntimeError("PostgresStore.setup() must run before vectors are read.")
        return self.vectors

    def _item(self, row: Sequence[Any]) -> Item:
        return Item(
            namespace=_namespace(row[0]),
            key=row[1],
            value=self.loads(row[2]),
            created_at=_utc(row[3]),
            updated_at=_utc(row[4]),
        )


def _search_item(row: Sequence[Any], value: dict[str, Any], score: Optional[float]) -> SearchItem:
    return SearchItem(
        namespace=_namespace(row[0]),
        key=row[1],
        value=value,
        created_at=_utc(row[3]),
        updated_at=_utc(row[4]),
        score=score,
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    # psycopg returns timestamptz in the session's time zone; items carry UTC.
    return moment.astimezone(dt.timezone.utc)


def _columns(rows: Iterable[Sequence[Any]], width: int) -> tuple[list[Any], ...]:
    """Rows as parallel lists, the shape ``unnest(%s, %s, ...)`` takes."""
    columns: tuple[list[Any], ...] = tuple([] for _ in range(width))
    for row in rows:
        for column, value in zip(columns, row):
            column.append(value)
    return columns


def _prefix(namespace: Sequence[str]) -> str:
    return ".".join(namespace)


def _namespace(prefix: str) -> tuple[str, ...]:
    return tuple(prefix.split("."))


def _prefix_condition(namespace_prefix: Sequence[str]) -> Fragment:
    """Rows at or below a namespace (whole labels: ("a",) excludes ("ab",)); uses the index."""
    if not namespace_prefix:
        return Fragment("TRUE")
    text = _prefix(namespace_prefix)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Fragment("(prefix = %s OR prefix LIKE %s)", (text, escaped + ".%"))


def _vector_text(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"
