"""The operations a store executes in a batch, and what each returns.

``BaseStore.get/search/put/delete/list_namespaces`` build these; ``batch`` runs them.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, Optional, Union

from stategraph.store._item import Item, SearchItem

__all__ = [
    "GetOp",
    "ListNamespacesOp",
    "MatchCondition",
    "NamespaceMatchType",
    "NamespacePath",
    "Op",
    "PutOp",
    "Result",
    "SearchOp",
]

NamespacePath = tuple[Union[str, Literal["*"]], ...]
"""A namespace pattern; ``"*"`` matches any one label: ``("users", "*", "notes")``."""

NamespaceMatchType = Literal["prefix", "suffix"]


class GetOp(NamedTuple):
    """Read the item at ``namespace``/``key``; result: ``Item`` or None."""

    namespace: tuple[str, ...]
    key: str
    refresh_ttl: bool = True


class SearchOp(NamedTuple):
    """Find items under ``namespace_prefix``; result: ``list[SearchItem]``.

    ``filter`` matches value keys exactly or with ``$eq $ne $gt $gte $lt $lte``; ``query``
    ranks by semantic similarity when the store has an index.
    """

    namespace_prefix: tuple[str, ...]
    filter: Optional[dict[str, Any]] = None
    limit: int = 10
    offset: int = 0
    query: Optional[str] = None
    refresh_ttl: bool = True


class MatchCondition(NamedTuple):
    """A namespace pattern anchored at the start (``"prefix"``) or end (``"suffix"``)."""

    match_type: NamespaceMatchType
    path: NamespacePath


class ListNamespacesOp(NamedTuple):
    """List distinct namespaces; result: sorted ``list[tuple[str, ...]]``.

    ``max_depth`` truncates longer namespaces to that many labels (then deduplicates).
    """

    match_conditions: Optional[tuple[MatchCondition, ...]] = None
    max_depth: Optional[int] = None
    limit: int = 100
    offset: int = 0


class PutOp(NamedTuple):
    """Write ``value`` at ``namespace``/``key`` (None deletes); result: None.

    ``index``: None embeds the store's configured fields, False embeds nothing, a list names
    the fields (paths such as ``"a.b"``, ``"items[*].text"``). ``ttl`` is in minutes.
    """

    namespace: tuple[str, ...]
    key: str
    value: Optional[dict[str, Any]]
    index: Union[Literal[False], list[str], None] = None  # type: ignore[assignment]
    ttl: Optional[float] = None


Op = Union[GetOp, SearchOp, PutOp, ListNamespacesOp]
Result = Union[Item, list[Item], list[SearchItem], list[tuple[str, ...]], None]
