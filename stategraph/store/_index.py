"""The semantic index: which texts of a value get vectors, and ranking items by a query.

Shared by every store so that ``search(query=...)`` ranks alike whatever the backend.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Optional, TypeVar

from stategraph.errors import StoreIndexNotConfiguredError
from stategraph.store._config import IndexConfig
from stategraph.store._embed import Embedder, ensure_embeddings
from stategraph.store._ops import PutOp
from stategraph.store._paths import WHOLE_VALUE, get_text_at_path, tokenize_path

__all__ = [
    "IndexPlan",
    "VectorSlot",
    "cosine_similarity",
    "make_index_plan",
    "rank_by_similarity",
    "require_index",
    "vector_slots",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IndexPlan:
    """An ``IndexConfig`` made ready once: the embedder and the default field paths."""

    config: IndexConfig
    embedder: Embedder
    fields: tuple[tuple[str, list[str]], ...]  # (path as written, its tokens)

    def paths_for(self, put: PutOp) -> tuple[tuple[str, list[str]], ...]:
        """The field paths ``put`` embeds: its ``index=`` list, else the configured ones."""
        if put.index is None:
            return self.fields
        if put.index is False:
            return ()
        return tuple((path, tokenize_path(path)) for path in put.index)


def make_index_plan(index: Optional[IndexConfig]) -> Optional[IndexPlan]:
    if not index:
        return None
    config: IndexConfig = {**index}
    fields = config.get("fields") or [WHOLE_VALUE]
    return IndexPlan(
        config=config,
        embedder=ensure_embeddings(config.get("embed")),
        fields=tuple((path, tokenize_path(path)) for path in fields),
    )


def require_index(
    plan: Optional[IndexPlan], queries: Sequence[str], store_name: str
) -> None:
    """Raise ``StoreIndexNotConfiguredError`` if ``queries`` ask for ranking and no index exists.

    Without an index nothing was embedded, so a query cannot rank anything; returning items
    unranked would hide the mistake.
    """
    if queries and plan is None:
        raise StoreIndexNotConfiguredError(
            f"search(query={queries[0]!r}) needs a semantic index, and this {store_name} was "
            "created without one, so no value was embedded. Create the store with "
            'index={"dims": <vector size>, "embed": <Embeddings or function>, '
            '"fields": ["$"]} (e.g. index={"dims": 1536, "embed": '
            '"openai:text-embedding-3-small", "fields": ["text"]}), or search without query=.'
        )


class VectorSlot(NamedTuple):
    """One text to embed, and where its vector is kept."""

    namespace: tuple[str, ...]
    key: str
    field_name: str  # the path, with ".<i>" appended when the path selects several texts
    text: str


def vector_slots(plan: IndexPlan, puts: Iterable[PutOp]) -> list[VectorSlot]:
    """The texts to embed for ``puts`` (deletions and ``index=False`` puts have none)."""
    slots: list[VectorSlot] = []
    for put in puts:
        if put.value is None:
            continue
        for path, tokens in plan.paths_for(put):
            texts = get_text_at_path(put.value, tokens if path != WHOLE_VALUE else WHOLE_VALUE)
            for position, text in enumerate(texts):
                name = f"{path}.{position}" if len(texts) > 1 else path
                slots.append(VectorSlot(put.namespace, put.key, name, text))
    return slots


@functools.cache
def _numpy_available() -> bool:
    return importlib.util.find_spec("numpy") is not None


def cosine_similarity(query: Sequence[float], vectors: Sequence[Sequence[float]]) -> list[float]:
    """Cosine similarity of ``query`` to each vector (0.0 where either has zero length)."""
    if not vectors:
        return []
    if _numpy_available():
        return _cosine_numpy(query, vectors)
    query_norm = math.sqrt(sum(x * x for x in query))
    scores = []
    for vector in vectors:
        norm = math.sqrt(sum(x * x for x in vector))
        dot = sum(a * b for a, b in zip(query, vector))
        scores.append(dot / (query_norm * norm) if query_norm and norm else 0.0)
    return scores


def _cosine_numpy(query: Sequence[float], vectors: Sequence[Sequence[float]]) -> list[float]:
    import numpy as np

    matrix = np.asarray(vectors, dtype=float)
    target = np.asarray(query, dtype=float)
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(target)
    dots = matrix @ target
    scores = np.divide(dots, norms, out=np.zeros_like(dots), where=norms != 0)
    result: list[float] = scores.tolist()
    return result


def rank_by_similarity(
    candidates: Sequence[tuple[T, Sequence[Sequence[float]]]],
    query_vector: Sequence[float],
    *,
    offset: int,
    limit: int,
) -> list[tuple[T, Optional[float]]]:
    """Page through candidates ranked by their best vector's similarity to the query.

    Each candidate scores the maximum over its vectors; candidates without vectors follow
    the scored ones, unscored, in their original order.
    """
    flat = [vector for _, vectors in candidates for vector in vectors]
    scores: Iterator[float] = iter(cosine_similarity(query_vector, flat))
    scored: list[tuple[T, Optional[float]]] = []
    unscored: list[tuple[T, Optional[float]]] = []
    for candidate, vectors in candidates:
        if vectors:
            scored.append((candidate, max(next(scores) for _ in vectors)))
        else:
            unscored.append((candidate, None))
    scored.sort(key=lambda pair: -_score(pair[1]))
    return (scored + unscored)[offset : offset + limit]


def _score(score: Optional[float]) -> float:
    return score if score is not None else -math.inf
