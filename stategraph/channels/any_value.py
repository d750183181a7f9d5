"""``AnyValue``: like ``LastValue`` but several writes in one step are fine (last wins)."""

from __future__ import annotations

from typing import Any, Sequence

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.errors import EmptyChannelError


class AnyValue(BaseChannel[Any, Any, Any]):
    """Stores the last value written; cleared by a step in which nothing is written."""

    __slots__ = ("value",)

    def __init__(self, typ: Any = Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = type(self)(self.typ, self.key)
        new.value = checkpoint
        return new

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self.value = values[-1]
        return True

    def get(self) -> Any:
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        return self.value
