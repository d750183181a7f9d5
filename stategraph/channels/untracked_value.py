"""``UntrackedValue``: a value kept in memory during a run and never checkpointed."""

from __future__ import annotations

from typing import Any, Sequence

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.channels.last_value import concurrent_update_error
from stategraph.errors import EmptyChannelError


class UntrackedValue(BaseChannel[Any, Any, Any]):
    """Stores the last value written; ``checkpoint()`` always reports nothing to store."""

    __slots__ = ("value", "guard")

    clears_when_idle = False

    def __init__(self, typ: Any = Any, guard: bool = True, key: str = "") -> None:
        super().__init__(typ, key)
        self.guard = guard
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UntrackedValue) and self.guard == other.guard

    def checkpoint(self) -> Any:
        return MISSING

    def from_checkpoint(self, checkpoint: Any) -> Self:
        return type(self)(self.typ, self.guard, self.key)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        if len(values) != 1 and self.guard:
            raise concurrent_update_error(self.key)
        self.value = values[-1]
        return True

    def get(self) -> Any:
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING
