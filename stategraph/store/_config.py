"""How a store is configured: semantic indexing (``IndexConfig``) and expiry (``TTLConfig``)."""

from __future__ import annotations

from typing import Any, Optional, TypedDict

__all__ = ["IndexConfig", "TTLConfig"]


class TTLConfig(TypedDict, total=False):
    """Time-to-live settings of a store that supports TTL.

    ``refresh_on_read``: reads push an item's expiry back (default True).
    ``default_ttl``: minutes given to items put without ``ttl=`` (default None: never expire).
    ``sweep_interval_minutes``: period of the background sweeper (``start_ttl_sweeper``).
    ``omit_expired``: accepted for LangGraph compatibility; stategraph's stores never return
    an expired item, swept or not.
    """

    refresh_on_read: bool
    omit_expired: bool
    default_ttl: Optional[float]
    sweep_interval_minutes: Optional[int]


class IndexConfig(TypedDict, total=False):
    """Semantic-search settings: vectors of ``dims`` floats made by ``embed`` from ``fields``.

    ``embed`` is a LangChain ``Embeddings`` object (anything with ``embed_documents`` and
    ``embed_query``), a sync or async function ``list[str] -> list[list[float]]``, or a
    ``"provider:model"`` string (needs the ``langchain`` package). ``fields`` are paths into
    the value (default ``["$"]``, the whole value).
    """

    dims: int
    embed: Any
    fields: Optional[list[str]]
