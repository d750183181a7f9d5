"""``BaseStore``: the long-term memory interface nodes reach through ``store``/``get_store()``.

A store implements ``batch``/``abatch`` over the four operations; the convenience methods
here (``get``, ``search``, ``put``, ``delete``, ``list_namespaces`` and their ``a*`` twins)
build those operations, so every store validates and defaults its arguments alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Literal, Optional, Union, cast

from stategraph.store._config import TTLConfig
from stategraph.store._item import Item, SearchItem
from stategraph.store._namespaces import validate_labels, validate_namespace
from stategraph.store._ops import (
    GetOp,
    ListNamespacesOp,
    MatchCondition,
    NamespacePath,
    Op,
    PutOp,
    Result,
    SearchOp,
)

__all__ = ["NOT_PROVIDED", "BaseStore", "NotProvided"]


class NotProvided:
    """Type of ``NOT_PROVIDED``: "the caller did not pass this argument" (falsy)."""

    __slots__ = ()

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_PROVIDED = NotProvided()

IndexArg = Union[Literal[False], list[str], None]


class BaseStore(ABC):
    """A key-value store of dict values under hierarchical namespaces.

    Subclasses implement ``batch`` and ``abatch``; ``supports_ttl`` says whether ``ttl=``
    may be given, and ``ttl_config`` holds the store's TTL defaults.
    """

    supports_ttl: bool = False
    ttl_config: Optional[TTLConfig] = None

    @abstractmethod
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops``; one result per op, in order."""

    @abstractmethod
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async ``batch``."""

    # -- building operations (shared by the sync and async methods) --------------------

    def _refresh(self, refresh_ttl: Optional[bool]) -> bool:
        if refresh_ttl is not None:
            return refresh_ttl
        if self.ttl_config is not None:
            return self.ttl_config.get("refresh_on_read", True)
        return True

    def _get_op(self, namespace: tuple[str, ...], key: str, refresh_ttl: Optional[bool]) -> GetOp:
        validate_labels(tuple(namespace))
        return GetOp(tuple(namespace), str(key), self._refresh(refresh_ttl))

    @staticmethod
    def _delete_op(namespace: tuple[str, ...], key: str) -> PutOp:
        validate_labels(tuple(namespace))
        return PutOp(tuple(namespace), str(key), None)

    def _search_op(
        self,
        namespace_prefix: tuple[str, ...],
        query: Optional[str],
        filter: Optional[dict[str, Any]],
        limit: int,
        offset: int,
        refresh_ttl: Optional[bool],
    ) -> SearchOp:
        validate_labels(tuple(namespace_prefix))
        return SearchOp(
            tuple(namespace_prefix), filter, limit, offset, query, self._refresh(refresh_ttl)
        )

    def _put_op(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        index: IndexArg,
        ttl: Union[float, None, NotProvided],
    ) -> PutOp:
        namespace = tuple(namespace)
        validate_namespace(namespace)
        if ttl is not None and not isinstance(ttl, NotProvided) and not self.supports_ttl:
            raise NotImplementedError(
                f"TTL is not supported by {type(self).__name__}. Use a store implementation "
                "that supports TTL (SqliteStore) or set ttl=None."
            )
        if isinstance(ttl, NotProvided):
            ttl = self.ttl_config.get("default_ttl") if self.ttl_config else None
        return PutOp(namespace, str(key), value, index=index, ttl=ttl)

    @staticmethod
    def _list_op(
        prefix: Optional[NamespacePath],
        suffix: Optional[NamespacePath],
        max_depth: Optional[int],
        limit: int,
        offset: int,
    ) -> ListNamespacesOp:
        validate_labels(tuple(prefix or ()))
        validate_labels(tuple(suffix or ()))
        conditions = []
        if prefix:
            conditions.append(MatchCondition(match_type="prefix", path=tuple(prefix)))
        if suffix:
            conditions.append(MatchCondition(match_type="suffix", path=tuple(suffix)))
        return ListNamespacesOp(tuple(conditions), max_depth, limit, offset)

    # -- sync --------------------------------------------------------------------------

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: Optional[bool] = None
    ) -> Optional[Item]:
        """The item at ``namespace``/``key``, or None."""
        return cast(Optional[Item], self.batch([self._get_op(namespace, key, refresh_ttl)])[0])

    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: Optional[str] = None,
        filter: Optional[dict[str, Any]] = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: Optional[bool] = None,
    ) -> list[SearchItem]:
        """Items under ``namespace_prefix`` matching ``filter``, ranked by ``query`` if given."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return cast(list[SearchItem], self.batch([op])[0])

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        index: IndexArg = None,
        *,
        ttl: Union[float, None, NotProvided] = NOT_PROVIDED,
    ) -> None:
        """Insert or replace the item at ``namespace``/``key``.

        ``index``: None embeds the store's configured fields, False none, a list those
        paths. ``ttl``: minutes until expiry (stores with ``supports_ttl`` only).
        """
        self.batch([self._put_op(namespace, key, value, index, ttl)])

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Delete the item at ``namespace``/``key`` (nothing happens if there is none)."""
        self.batch([self._delete_op(namespace, key)])

    def list_namespaces(
        self,
        *,
        prefix: Optional[NamespacePath] = None,
        suffix: Optional[NamespacePath] = None,
        max_depth: Optional[int] = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Sorted distinct namespaces holding items; ``"*"`` in a pattern matches any label."""
        op = self._list_op(prefix, suffix, max_depth, limit, offset)
        return cast(list[tuple[str, ...]], self.batch([op])[0])

    # -- async -------------------------------------------------------------------------

    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: Optional[bool] = None
    ) -> Optional[Item]:
        """Async ``get``."""
        results = await self.abatch([self._get_op(namespace, key, refresh_ttl)])
        return cast(Optional[Item], results[0])

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: Optional[str] = None,
        filter: Optional[dict[str, Any]] = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: Optional[bool] = None,
    ) -> list[SearchItem]:
        """Async ``search``."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return cast(list[SearchItem], (await self.abatch([op]))[0])

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        index: IndexArg = None,
        *,
        ttl: Union[float, None, NotProvided] = NOT_PROVIDED,
    ) -> None:
        """Async ``put``."""
        await self.abatch([self._put_op(namespace, key, value, index, ttl)])

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """Async ``delete``."""
        await self.abatch([self._delete_op(namespace, key)])

    async def alist_namespaces(
        self,
        *,
        prefix: Optional[NamespacePath] = None,
        suffix: Optional[NamespacePath] = None,
        max_depth: Optional[int] = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Async ``list_namespaces``."""
        op = self._list_op(prefix, suffix, max_depth, limit, offset)
        return cast(list[tuple[str, ...]], (await self.abatch([op]))[0])
