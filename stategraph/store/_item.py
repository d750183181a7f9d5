"""``Item`` and ``SearchItem``: a stored value with its namespace, key and timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Union

__all__ = ["Item", "SearchItem"]


def _as_datetime(value: Union[datetime, str]) -> datetime:
    # Items rebuilt from JSON (the server, the SDK) carry ISO strings.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Item:
    """A stored value: ``value`` (a dict) under ``key`` in ``namespace``.

    Equal when every field is equal; hashed by ``(namespace, key)``.
    """

    __slots__ = ("value", "key", "namespace", "created_at", "updated_at")

    def __init__(
        self,
        *,
        value: dict[str, Any],
        key: str,
        namespace: tuple[str, ...],
        created_at: Union[datetime, str],
        updated_at: Union[datetime, str],
    ) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        self.created_at = _as_datetime(created_at)
        self.updated_at = _as_datetime(updated_at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return NotImplemented
        return (
            self.value == other.value
            and self.key == other.key
            and self.namespace == other.namespace
            and self.created_at == other.created_at
            and self.updated_at == other.updated_at
        )

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the namespace as a list, timestamps as ISO strings."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.dict().items())
        return f"{type(self).__name__}({fields})"


class SearchItem(Item):
    """An ``Item`` returned by ``search``; ``score`` is its similarity to the query, if any."""

    __slots__ = ("score",)

    def __init__(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        created_at: Union[datetime, str],
        updated_at: Union[datetime, str],
        score: Optional[float] = None,
    ) -> None:
        super().__init__(
            value=value,
            key=key,
            namespace=namespace,
            created_at=created_at,
            updated_at=updated_at,
        )
        self.score = score

    def dict(self) -> dict[str, Any]:
        result = super().dict()
        result["score"] = self.score
        return result
