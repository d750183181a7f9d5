"""``DeltaChannel``: a key folded by a batch reducer, ``reducer(current, [writes...])`` (beta).

LangGraph stores such a channel as periodic snapshots plus the writes in between; stategraph's
savers store every growing list that way already, so here it is a plain batch reducer.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.errors import EmptyChannelError


class DeltaChannel(BaseChannel[Any, Any, Any]):
    """Folds all of a step's writes at once: ``value = reducer(value or None, writes)``."""

    __slots__ = ("value", "reducer", "snapshot_frequency")

    clears_when_idle = False

    def __init__(
        self,
        reducer: Callable[[Any, list[Any]], Any],
        snapshot_frequency: int = 1000,
        *,
        typ: Any = Any,
        key: str = "",
    ) -> None:
        super().__init__(typ, key)
        if snapshot_frequency < 1:
            raise ValueError("snapshot_frequency must be at least 1.")
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeltaChannel) and self.reducer is other.reducer

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = type(self)(self.reducer, self.snapshot_frequency, typ=self.typ, key=self.key)
        new.value = checkpoint
        return new

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        current = None if self.value is MISSING else self.value
        self.value = self.reducer(current, list(values))
        return True

    def get(self) -> Any:
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        return self.value
