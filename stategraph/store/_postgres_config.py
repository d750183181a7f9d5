"""How the PostgreSQL stores are configured: the connection pool and the vector index.

LangGraph's names and keys (``PoolConfig``, ``PostgresIndexConfig``, ``ANNIndexConfig``...),
plus ``VectorBackend``: where vectors are ranked (pgvector in SQL, or an exact scan in Python).
"""

from __future__ import annotations

from typing import Any, Literal, Optional, TypedDict

from stategraph.store._config import IndexConfig

__all__ = [
    "ANNIndexConfig",
    "HNSWConfig",
    "IVFFlatConfig",
    "PoolConfig",
    "PostgresIndexConfig",
    "VectorBackend",
]

VectorBackend = Literal["auto", "pgvector", "python"]
"""``"auto"``: pgvector when ``CREATE EXTENSION vector`` succeeds (or it exists), else Python;
``"pgvector"``: fail at setup without it; ``"python"``: never use it."""


class PoolConfig(TypedDict, total=False):
    """Connection-pool settings for ``from_conn_string(..., pool_config=...)``.

    ``min_size`` (default 1) and ``max_size`` (default None: as ``min_size``) bound the pool;
    ``kwargs`` go to each connection (autocommit, prepare_threshold=0 and dict rows are set).
    Other keys go to psycopg-pool's ``ConnectionPool`` as they are.
    """

    min_size: int
    max_size: Optional[int]
    kwargs: dict[str, Any]


class ANNIndexConfig(TypedDict, total=False):
    """pgvector storage: ``vector_type`` ``"vector"`` (default) or ``"halfvec"``.

    ``kind`` is accepted for LangGraph compatibility; stategraph ranks exactly (a scan, no
    approximate index), so the ranking is the same with pgvector and without it.
    """

    kind: Literal["hnsw", "ivfflat", "flat"]
    vector_type: Literal["vector", "halfvec"]


class HNSWConfig(ANNIndexConfig, total=False):
    """LangGraph's HNSW settings (accepted; see ``ANNIndexConfig``)."""

    m: int
    ef_construction: int


class IVFFlatConfig(ANNIndexConfig, total=False):
    """LangGraph's IVFFlat settings (accepted; see ``ANNIndexConfig``)."""

    nlist: int


class PostgresIndexConfig(IndexConfig, total=False):
    """``IndexConfig`` plus pgvector options; ``distance_type`` must be ``"cosine"``
    (the only metric both vector paths rank by)."""

    ann_index_config: ANNIndexConfig
    distance_type: Literal["l2", "inner_product", "cosine"]
