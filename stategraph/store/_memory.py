"""``InMemoryStore``: the store as dicts in this process, with optional semantic search."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, Optional

from stategraph.store._base import BaseStore
from stategraph.store._config import IndexConfig
from stategraph.store._drive import (
    EmbedQueries,
    EmbedTexts,
    Execute,
    Request,
    Steps,
    adrive,
    aembed,
    drive,
    embed,
)
from stategraph.store._embed import Embedder
from stategraph.store._filter import matches_filter
from stategraph.store._index import (
    make_index_plan,
    rank_by_similarity,
    require_index,
    vector_slots,
)
from stategraph.store._item import Item, SearchItem
from stategraph.store._namespaces import is_under_prefix, list_matching_namespaces
from stategraph.store._ops import GetOp, ListNamespacesOp, Op, PutOp, Result, SearchOp

__all__ = ["InMemoryStore"]

_Candidate = tuple[Item, list[list[float]]]  # an item and its vectors (if a query needs them)


class InMemoryStore(BaseStore):
    """A store kept in memory (lost when the process exits); safe to share between threads.

    ``index`` enables ``search(query=...)``: values are embedded on ``put`` and ranked by
    cosine similarity. Items keep insertion order; ``put`` sets both timestamps to now. TTL
    is not supported.

    Example::

        store = InMemoryStore(index={"dims": 2, "embed": lambda texts: [[1.0, 0.0]] * len(texts)})
        store.put(("docs",), "a", {"text": "hello"})
        store.search(("docs",), query="hi")
    """

    def __init__(self, *, index: Optional[IndexConfig] = None) -> None:
        self._items: dict[tuple[str, ...], dict[str, Item]] = {}
        self._vectors: dict[tuple[tuple[str, ...], str], dict[str, list[float]]] = {}
        self._lock = threading.RLock()
        self._index = make_index_plan(index)
        self.index_config: Optional[IndexConfig] = self._index.config if self._index else None
        self.embeddings: Optional[Embedder] = self._index.embedder if self._index else None

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return drive(self._batch_steps(ops), self._answer)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await adrive(self._batch_steps(ops), self._aanswer)

    def _answer(self, request: Request) -> Any:
        assert self.embeddings is not None and not isinstance(request, Execute)
        return embed(self.embeddings, request)

    async def _aanswer(self, request: Request) -> Any:
        assert self.embeddings is not None and not isinstance(request, Execute)
        return await aembed(self.embeddings, request)

    def _batch_steps(self, ops: Iterable[Op]) -> Steps[list[Result]]:
        # Reads see the store as it was before the batch's writes, as in LangGraph.
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        searches: list[tuple[int, SearchOp, list[_Candidate]]] = []
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        with self._lock:
            for position, op in enumerate(ops):
                if isinstance(op, GetOp):
                    results[position] = self._items.get(tuple(op.namespace), {}).get(op.key)
                elif isinstance(op, SearchOp):
                    searches.append((position, op, self._candidates(op)))
                elif isinstance(op, ListNamespacesOp):
                    held = [namespace for namespace, items in self._items.items() if items]
                    results[position] = list_matching_namespaces(held, op)
                elif isinstance(op, PutOp):
                    puts[(tuple(op.namespace), op.key)] = op
                else:
                    raise ValueError(f"Unknown operation type: {type(op).__name__}")

        queries = tuple({op.query: None for _, op, _ in searches if op.query})
        require_index(self._index, queries, "InMemoryStore")
        query_vectors = dict(zip(queries, (yield EmbedQueries(queries)))) if queries else {}
        for position, op, candidates in searches:
            query_vector = query_vectors.get(op.query) if op.query else None
            results[position] = _page(op, candidates, query_vector)

        slots = vector_slots(self._index, puts.values()) if self._index else []
        vectors = (yield EmbedTexts(tuple(slot.text for slot in slots))) if slots else []
        if len(vectors) != len(slots):
            raise ValueError(
                f"The embedding function returned {len(vectors)} vectors for {len(slots)} "
                "texts. It must return exactly one vector per input text."
            )
        with self._lock:
            self._apply_puts(puts.values())
            for slot, vector in zip(slots, vectors):
                self._vectors.setdefault((slot.namespace, slot.key), {})[slot.field_name] = vector
        return results

    def _candidates(self, op: SearchOp) -> list[_Candidate]:
        want_vectors = bool(op.query and self._index)
        found: list[_Candidate] = []
        for namespace, items in self._items.items():
            if not is_under_prefix(namespace, op.namespace_prefix):
                continue
            for key, item in items.items():
                if matches_filter(item.value, op.filter):
                    vectors = self._vectors.get((namespace, key), {}) if want_vectors else {}
                    found.append((item, list(vectors.values())))
        return found

    def _apply_puts(self, puts: Iterable[PutOp]) -> None:
        for op in puts:
            namespace = tuple(op.namespace)
            self._vectors.pop((namespace, op.key), None)
            if op.value is None:
                items = self._items.get(namespace)
                if items is not None:
                    items.pop(op.key, None)
                    if not items:
                        del self._items[namespace]
                continue
            now = datetime.now(timezone.utc)
            self._items.setdefault(namespace, {})[op.key] = Item(
                value=op.value, key=op.key, namespace=namespace, created_at=now, updated_at=now
            )


def _page(
    op: SearchOp, candidates: Sequence[_Candidate], query_vector: Optional[list[float]]
) -> list[SearchItem]:
    window: list[tuple[Item, Optional[float]]]
    if query_vector is None:
        window = [(item, None) for item, _ in candidates[op.offset : op.offset + op.limit]]
    else:
        window = rank_by_similarity(candidates, query_vector, offset=op.offset, limit=op.limit)
    return [
        SearchItem(
            namespace=item.namespace,
            key=item.key,
            value=item.value,
            created_at=item.created_at,
            updated_at=item.updated_at,
            score=score,
        )
        for item, score in window
    ]
